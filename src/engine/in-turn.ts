/** The tail of the line of synchronous jobs waiting for the main thread. */
let line: Promise<unknown> = Promise.resolve();

/**
 * Runs a long synchronous job (parsing a 30,000-segment playlist, planning its requests) after the
 * ones queued before it, with the event loop served in between: many tasks parsing at once then
 * block /healthy for one job at most, and each job's garbage can be collected before the next.
 */
export function inTurn<T>(job: () => T): Promise<T> {
  // the loop is served before the job, and again before the caller's continuation runs on from it
  const turn = line.then(nextTurn).then(job).then(async (result) => (await nextTurn(), result));
  line = turn.catch(() => undefined);
  return turn;
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
