/** Strictly increasing ISO timestamps, so that queue order survives a restart even within one millisecond. */
let lastStamp = 0;
export function nowIso(): string {
  const now = Math.max(Date.now(), lastStamp + 1);
  lastStamp = now;
  return new Date(now).toISOString();
}
