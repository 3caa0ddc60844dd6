import { DownloadStatus } from '../tasks/download-status.enum.js';

/** A task whose runs were cut short by the process dying this many times in a row fails instead of running again. */
export const CRASH_LOOP_LIMIT = 2;

/**
 * What boot does with a task that was queued or running when the service last stopped: a run the
 * service never wrote an end for (the counter is still raised) means the process died during it.
 */
export function bootDecision(task: { status: DownloadStatus; interruptedRuns: number }): 'fail-crash-loop' | 'requeue-after-crash' | 'requeue' {
  if (task.status !== DownloadStatus.Downloading || task.interruptedRuns <= 0) return 'requeue';
  return task.interruptedRuns >= CRASH_LOOP_LIMIT ? 'fail-crash-loop' : 'requeue-after-crash';
}
