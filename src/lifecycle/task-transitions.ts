import { ErrorCode } from '../common/error-codes.js';
import { DownloadEvent, type DownloadEventName } from '../events/download-events.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';

/** A task run whose process died this many times in a row fails at boot instead of running again. */
export const CRASH_LOOP_LIMIT = 2;

/** What the lifecycle knows of a task when something happens to it; null when there is no such task. */
export interface TaskState {
  status: DownloadStatus;
  /** queuedAt is set: the task waits for a slot or holds one (what boot queues again). */
  queued: boolean;
  /** A run holds the task's lease, on this node or another one sharing the database. */
  running: boolean;
  /** Runs begun and never written to an end: left over at boot, the process died during them. */
  interruptedRuns: number;
}

/** What a client (through the API) or the service itself asks of a task. */
export type LifecycleCommand =
  | { kind: 'create'; start: boolean }
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'delete' }
  | { kind: 'mark'; status: DownloadStatus.Success | DownloadStatus.Failed }
  | { kind: 'edit' }
  | { kind: 'setLive' }
  | { kind: 'shutdown' }
  /** at boot for this node's own runs left without an end, and for another node's runs whose lease expired */
  | { kind: 'boot' };

/** What the scheduler reports of a run. */
export type RunOutcome =
  | { kind: 'started' }
  | { kind: 'progress'; persist: boolean }
  | { kind: 'succeeded' }
  | { kind: 'failed' }
  /** `saved`: a live recording cut short, whose part is the task's file */
  | { kind: 'stopped'; cause: 'client' | 'delete'; saved: boolean }
  | { kind: 'interrupted' };

/** The repository method that writes a transition: each names an intent, none is a generic patch. */
export type TaskWrite =
  | 'insert'
  | 'markQueued'
  | 'markStarted'
  | 'saveProgress'
  | 'markSucceeded'
  | 'markFailed'
  | 'markStopped'
  | 'markByClient'
  | 'requeueAfterShutdown'
  | 'requeueAtBoot'
  | 'failCrashLoop'
  | 'releaseLease'
  | 'editDescription'
  | 'setLive'
  | 'clearRunCounter'
  | 'delete';

/** What must happen outside the row, in this order, before the write. */
export type TaskEffect = 'dequeue' | 'abortRun' | 'moveWorkspace' | 'removeFiles' | 'enqueue';

export interface Applied {
  kind: 'apply';
  effects: TaskEffect[];
  write: TaskWrite | null;
  /** Published after the write, in this order. */
  events: DownloadEventName[];
}

export interface Rejected {
  kind: 'reject';
  httpStatus: 404 | 409;
  errorCode: ErrorCode;
  /** Completes "Task <id> …". */
  reason: string;
}

export type Transition = Applied | Rejected;

const apply = (write: TaskWrite | null, events: DownloadEventName[] = [], effects: TaskEffect[] = []): Applied => ({ kind: 'apply', effects, write, events });
const nothing = (): Applied => apply(null);
const missing = (): Rejected => ({ kind: 'reject', httpStatus: 404, errorCode: ErrorCode.DownloadNotFound, reason: 'does not exist' });
const busy = (doing: string): Rejected => ({ kind: 'reject', httpStatus: 409, errorCode: ErrorCode.TaskRunning, reason: `is downloading; stop it before ${doing}` });

/** Every command a client or the service can give, as the pure transition it is. */
export function commandTransition(state: TaskState | null, command: LifecycleCommand): Transition {
  if (command.kind === 'create') {
    return state ? { kind: 'reject', httpStatus: 409, errorCode: ErrorCode.InvalidTransition, reason: 'exists already' } : apply('insert', [DownloadEvent.Created], command.start ? ['enqueue'] : []);
  }
  // the service's own commands find nothing to do on a task that is gone; a client's get a 404
  if (!state) return command.kind === 'shutdown' || command.kind === 'boot' ? nothing() : missing();
  const active = state.queued || state.running;
  switch (command.kind) {
    case 'start':
      // a start of a task already queued or running (two clicks) changes nothing
      return active ? nothing() : apply('markQueued', [DownloadEvent.Updated], ['moveWorkspace', 'enqueue']);
    case 'stop':
      if (state.running) return apply(null, [], ['abortRun']); // the run's "stopped" outcome writes it down
      return state.queued ? apply('markStopped', [DownloadEvent.Stopped], ['dequeue']) : nothing();
    case 'delete': {
      const halt: TaskEffect[] = state.running ? ['abortRun'] : state.queued ? ['dequeue'] : [];
      return apply('delete', active ? [DownloadEvent.Stopped, DownloadEvent.Deleted] : [DownloadEvent.Deleted], [...halt, 'removeFiles']);
    }
    case 'mark':
      if (state.running) return busy(`marking it ${command.status}`);
      return apply('markByClient', state.queued ? [DownloadEvent.Stopped, DownloadEvent.Updated] : [DownloadEvent.Updated], state.queued ? ['dequeue'] : []);
    case 'edit':
      if (state.running || state.status === DownloadStatus.Downloading) return busy('editing it');
      return apply('editDescription', [DownloadEvent.Updated], ['moveWorkspace']);
    case 'setLive':
      return apply('setLive', [DownloadEvent.Updated]);
    case 'shutdown':
      // a clean shutdown never counts towards a crash loop; the run's "interrupted" outcome requeues it
      return state.running ? apply('clearRunCounter', [], ['abortRun']) : nothing();
    case 'boot':
      if (!state.queued) return nothing();
      if (state.status === DownloadStatus.Downloading && state.interruptedRuns >= CRASH_LOOP_LIMIT) return apply('failCrashLoop', [DownloadEvent.Failed]);
      // a task that was waiting is queued as it stands; one that was running is written back to waiting
      return state.status === DownloadStatus.Waiting ? apply(null, [], ['enqueue']) : apply('requeueAtBoot', [DownloadEvent.Updated], ['enqueue']);
  }
}

/** Every outcome the scheduler reports, as the pure transition it is. Outcomes are facts: they are never rejected, only ignored when moot. */
export function outcomeTransition(state: TaskState | null, outcome: RunOutcome): Applied {
  // a task deleted during its run: the delete wrote everything there is to write
  if (!state) return nothing();
  switch (outcome.kind) {
    case 'started':
      // stopped, marked or deleted while it waited for its turn: it does not run
      return state.queued && state.status !== DownloadStatus.Downloading ? apply('markStarted', [DownloadEvent.Started]) : nothing();
    case 'progress':
      return state.running && state.status === DownloadStatus.Downloading ? apply(outcome.persist ? 'saveProgress' : null, [DownloadEvent.Progress]) : nothing();
    case 'succeeded':
      return apply('markSucceeded', [DownloadEvent.Progress, DownloadEvent.Succeeded]);
    case 'failed':
      return apply('markFailed', [DownloadEvent.Failed]);
    case 'stopped':
      // the delete that stopped it writes the rest: the run only gives its lease back
      if (outcome.cause === 'delete') return apply('releaseLease');
      return apply('markStopped', outcome.saved ? [DownloadEvent.Progress, DownloadEvent.Stopped] : [DownloadEvent.Stopped]);
    case 'interrupted':
      return apply('requeueAfterShutdown');
  }
}

/** The state of a stored task: it runs while a node holds its lease. */
export function taskState(task: { status: DownloadStatus; queuedAt: string | null; interruptedRuns: number; leaseToken: string | null } | null): TaskState | null {
  return task ? { status: task.status, queued: task.queuedAt !== null, running: task.leaseToken !== null, interruptedRuns: task.interruptedRuns } : null;
}
