import { formatSpeed } from '../tasks/format';

/** Total download speed over the last minutes, one sample a second, as an inline SVG (no chart library needed for one line). */
export function ThroughputChart({ samples }: { samples: number[] }) {
  const width = 300;
  const height = 48;
  const peak = Math.max(0, ...samples);
  const scale = Math.max(1, peak);
  const step = samples.length > 1 ? width / (samples.length - 1) : width;
  const points = samples.map((value, index) => `${(index * step).toFixed(1)},${(height - (value / scale) * (height - 4) - 2).toFixed(1)}`).join(' ');
  const current = samples.at(-1) ?? 0;
  return (
    <figure class="chart" aria-label="Total throughput">
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={`Total speed ${formatSpeed(current) || 'idle'}`}>
        <polyline points={points} fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke" />
      </svg>
      <figcaption>
        Total <strong class="total-speed">{formatSpeed(current) || 'idle'}</strong> · peak {formatSpeed(peak) || '0 B/s'} over the last {Math.round(samples.length / 60) || 1} min
      </figcaption>
    </figure>
  );
}
