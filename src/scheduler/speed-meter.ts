/** Bytes per second as a moving average over the last few seconds of samples. */
export class SpeedMeter {
  private readonly samples: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly windowMs = 5_000) {}

  record(bytes: number, at = Date.now()): void {
    const last = this.samples[this.samples.length - 1];
    if (last && bytes < last.bytes) this.samples.length = 0; // a restart from zero
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && this.samples[1].at <= at - this.windowMs) this.samples.shift();
  }

  speed(at = Date.now()): number {
    if (this.samples.length === 0) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    // a silent source is not fast: time since the last sample counts as time without bytes
    const elapsed = Math.max(at, last.at) - first.at;
    if (elapsed < 250) return 0;
    return Math.max(0, Math.round(((last.bytes - first.bytes) * 1000) / elapsed));
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
