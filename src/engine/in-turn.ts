/** The tail of the line of synchronous jobs waiting for the main thread. */
let line: Promise<unknown> = Promise.resolve();

/**
 * Runs a long synchronous job (parsing a 50,000-segment playlist, planning its requests) after the
 * ones queued before it, with the event loop served in between: many tasks parsing at once then
 * block /healthy for one job at most, and each job's garbage can be collected before the next.
 */
export function inTurn<T>(job: () => T): Promise<T> {
  const turn = line.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(job);
  line = turn.catch(() => undefined);
  return turn;
}
