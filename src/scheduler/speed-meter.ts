/** Bytes per second as a moving average over the last few seconds; silence brings it down to zero. */
export class SpeedMeter {
  private readonly samples: Array<{ at: number; bytes: number }> = [];

  constructor(
    private readonly windowMs = 5_000,
    private readonly resolutionMs = 100,
  ) {}

  record(bytes: number, at = Date.now()): void {
    const last = this.samples[this.samples.length - 1];
    if (last && bytes < last.bytes) this.samples.length = 0; // a restart from zero
    const beforeLast = this.samples[this.samples.length - 2];
    // one sample per resolution step: a chunk-rate stream of samples would cost memory and time
    if (beforeLast && at - beforeLast.at < this.resolutionMs) this.samples[this.samples.length - 1] = { at, bytes };
    else this.samples.push({ at, bytes });
    while (this.samples.length > 2 && this.samples[1].at <= at - this.windowMs) this.samples.shift();
  }

  speed(now = Date.now()): number {
    if (this.samples.length === 0) return 0;
    const last = this.samples[this.samples.length - 1];
    const at = Math.max(now, last.at);
    const windowStart = at - this.windowMs;
    let baseline = this.samples[0];
    for (const sample of this.samples) {
      if (sample.at > windowStart) break;
      baseline = sample;
    }
    const elapsed = at - baseline.at;
    if (elapsed < 250) return 0;
    return Math.max(0, Math.round(((last.bytes - baseline.bytes) * 1000) / elapsed));
  }
}

export interface LiveProgress {
  downloadedBytes: number;
  totalBytes: number | null;
  percent: number | null;
  speed: number;
  eta: number | null;
}

/** Derives percent and ETA from bytes, falling back to a strategy's own estimate while the total is unknown. */
export function deriveProgress(downloadedBytes: number, totalBytes: number | null, hintPercent: number | null | undefined, speed: number): LiveProgress {
  const percent =
    totalBytes && totalBytes > 0
      ? Math.min(100, Math.floor((downloadedBytes / totalBytes) * 1000) / 10)
      : hintPercent !== undefined && hintPercent !== null
        ? Math.min(100, Math.max(0, Math.floor(hintPercent * 10) / 10))
        : null;
  const eta = totalBytes && speed > 0 ? Math.max(0, Math.ceil((totalBytes - downloadedBytes) / speed)) : null;
  return { downloadedBytes, totalBytes, percent, speed, eta };
}
