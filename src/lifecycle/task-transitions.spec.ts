import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import { CRASH_LOOP_LIMIT, type LifecycleCommand, type RunOutcome, type TaskState, type Transition, commandTransition, outcomeTransition, taskState } from './task-transitions.js';

const aState = (status: DownloadStatus, extra: Partial<TaskState> = {}): TaskState => ({ status, queued: false, running: false, interruptedRuns: 0, ...extra });

/** Every state a task can be in when a command or a report reaches it. */
const STATES: Record<string, TaskState | null> = {
  gone: null,
  new: aState(DownloadStatus.Waiting),
  queued: aState(DownloadStatus.Waiting, { queued: true }),
  starting: aState(DownloadStatus.Waiting, { queued: true, running: true }),
  running: aState(DownloadStatus.Downloading, { queued: true, running: true, interruptedRuns: 1 }),
  'shut down cleanly': aState(DownloadStatus.Downloading, { queued: true }),
  'died once': aState(DownloadStatus.Downloading, { queued: true, interruptedRuns: 1 }),
  'died twice': aState(DownloadStatus.Downloading, { queued: true, interruptedRuns: CRASH_LOOP_LIMIT }),
  success: aState(DownloadStatus.Success),
  failed: aState(DownloadStatus.Failed),
  stopped: aState(DownloadStatus.Stopped),
};
const STATE_NAMES = Object.keys(STATES);

/** A transition in one line: "write [events] {effects}", "-" for nothing, or the rejection's status and errorCode. */
function summary(transition: Transition): string {
  if (transition.kind === 'reject') return `reject ${transition.httpStatus} ${transition.errorCode}`;
  const events = transition.events.map((name) => name.replace('download.', ''));
  if (!transition.write && events.length === 0 && transition.effects.length === 0) return '-';
  return `${transition.write ?? '-'} [${events.join(',')}] {${transition.effects.join(',')}}`;
}

/** The expected line for each state, listed in full so that a new state or a changed rule shows here. */
function expectTable(label: string, decide: (state: TaskState | null) => Transition, expected: Record<string, string>): void {
  assert.deepEqual(Object.keys(expected).sort(), [...STATE_NAMES].sort(), `${label}: the table names every state`);
  const actual = Object.fromEntries(STATE_NAMES.map((name) => [name, summary(decide(STATES[name]))]));
  assert.deepEqual(actual, expected, label);
}

const command = (given: LifecycleCommand) => (state: TaskState | null) => commandTransition(state, given);
const outcome = (given: RunOutcome) => (state: TaskState | null) => outcomeTransition(state, given);

const NOT_FOUND = 'reject 404 download_not_found';
const RUNNING = 'reject 409 task_running';

describe('task transitions: commands', () => {
  it('create inserts a task that does not exist yet, queued when asked', () => {
    const exists = 'reject 409 invalid_transition';
    const others = Object.fromEntries(STATE_NAMES.filter((name) => name !== 'gone').map((name) => [name, exists]));
    expectTable('create', command({ kind: 'create', start: false }), { gone: 'insert [created] {}', ...others });
    expectTable('create and start', command({ kind: 'create', start: true }), { gone: 'insert [created] {enqueue}', ...others });
  });

  it('start queues an idle task (a finished one too) and leaves a queued or running one as it is', () => {
    const queue = 'markQueued [updated] {moveWorkspace,enqueue}';
    expectTable('start', command({ kind: 'start' }), {
      gone: NOT_FOUND,
      new: queue,
      queued: '-',
      starting: '-',
      running: '-',
      'shut down cleanly': '-',
      'died once': '-',
      'died twice': '-',
      success: queue,
      failed: queue,
      stopped: queue,
    });
  });

  it('stop takes a queued task out of the queue at once, aborts a running one (its run reports the end), and ignores the rest', () => {
    const dequeue = 'markStopped [stopped] {dequeue}';
    expectTable('stop', command({ kind: 'stop' }), {
      gone: NOT_FOUND,
      new: '-',
      queued: dequeue,
      starting: '- [] {abortRun}',
      running: '- [] {abortRun}',
      'shut down cleanly': dequeue,
      'died once': dequeue,
      'died twice': dequeue,
      success: '-',
      failed: '-',
      stopped: '-',
    });
  });

  it('delete halts an active task first, tells listeners it stopped, and removes files before the row', () => {
    const idle = 'delete [deleted] {removeFiles}';
    const queued = 'delete [stopped,deleted] {dequeue,removeFiles}';
    const running = 'delete [stopped,deleted] {abortRun,removeFiles}';
    expectTable('delete', command({ kind: 'delete' }), {
      gone: NOT_FOUND,
      new: idle,
      queued,
      starting: running,
      running,
      'shut down cleanly': queued,
      'died once': queued,
      'died twice': queued,
      success: idle,
      failed: idle,
      stopped: idle,
    });
  });

  it('mark sets the outcome of any task not running, taking a queued one out of the queue', () => {
    for (const status of [DownloadStatus.Success, DownloadStatus.Failed] as const) {
      const idle = 'markByClient [updated] {}';
      const queued = 'markByClient [stopped,updated] {dequeue}';
      expectTable(`mark ${status}`, command({ kind: 'mark', status }), {
        gone: NOT_FOUND,
        new: idle,
        queued,
        starting: RUNNING,
        running: RUNNING,
        'shut down cleanly': queued,
        'died once': queued,
        'died twice': queued,
        success: idle,
        failed: idle,
        stopped: idle,
      });
    }
  });

  it('edit changes a task that is not downloading, moving its partial data with its folder', () => {
    const edit = 'editDescription [updated] {moveWorkspace}';
    expectTable('edit', command({ kind: 'edit' }), {
      gone: NOT_FOUND,
      new: edit,
      queued: edit,
      starting: RUNNING,
      running: RUNNING,
      'shut down cleanly': RUNNING,
      'died once': RUNNING,
      'died twice': RUNNING,
      success: edit,
      failed: edit,
      stopped: edit,
    });
  });

  it('setLive applies to any task that exists, running or not', () => {
    const live = 'setLive [updated] {}';
    expectTable('setLive', command({ kind: 'setLive' }), { ...Object.fromEntries(STATE_NAMES.map((name) => [name, live])), gone: NOT_FOUND });
  });

  it('shutdown clears the crash counter of running tasks and aborts them; nothing else changes', () => {
    const end = 'clearRunCounter [] {abortRun}';
    expectTable('shutdown', command({ kind: 'shutdown' }), { ...Object.fromEntries(STATE_NAMES.map((name) => [name, '-'])), starting: end, running: end });
  });

  it('boot queues again what was queued or running, and fails a task whose runs took the process down twice', () => {
    const requeue = 'requeueAtBoot [updated] {enqueue}';
    expectTable('boot', command({ kind: 'boot' }), {
      gone: '-',
      new: '-',
      queued: '- [] {enqueue}',
      starting: '- [] {enqueue}',
      running: requeue,
      'shut down cleanly': requeue,
      'died once': requeue,
      'died twice': 'failCrashLoop [failed] {}',
      success: '-',
      failed: '-',
      stopped: '-',
    });
  });

  it('a client command on a task that does not exist says so, the same way for every command', () => {
    for (const kind of ['start', 'stop', 'delete', 'edit', 'setLive'] as const) assert.equal(summary(commandTransition(null, { kind })), NOT_FOUND, kind);
  });
});

describe('task transitions: what the scheduler reports', () => {
  /** Outcomes are facts about a run: every state that exists gets the same write, a task deleted meanwhile gets none. */
  const sameForAll = (line: string) => ({ ...Object.fromEntries(STATE_NAMES.map((name) => [name, line])), gone: '-' });

  it('started marks a queued task that is not downloading yet; one stopped, marked or deleted while it waited does not run', () => {
    expectTable('started', outcome({ kind: 'started' }), {
      gone: '-',
      new: '-',
      queued: 'markStarted [started] {}',
      starting: 'markStarted [started] {}',
      running: '-',
      'shut down cleanly': '-',
      'died once': '-',
      'died twice': '-',
      success: '-',
      failed: '-',
      stopped: '-',
    });
  });

  it('progress is published for a running download, and written down only when due', () => {
    const idle = Object.fromEntries(STATE_NAMES.map((name) => [name, '-']));
    expectTable('progress due', outcome({ kind: 'progress', persist: true }), { ...idle, running: 'saveProgress [progress] {}' });
    expectTable('progress', outcome({ kind: 'progress', persist: false }), { ...idle, running: '- [progress] {}' });
  });

  it('succeeded writes the file and publishes where the run ended, then the success', () => {
    expectTable('succeeded', outcome({ kind: 'succeeded' }), sameForAll('markSucceeded [progress,succeeded] {}'));
  });

  it('failed writes the error and publishes it', () => {
    expectTable('failed', outcome({ kind: 'failed' }), sameForAll('markFailed [failed] {}'));
  });

  it("a client's stop writes the task stopped (a recording's saved part with its last figures); a delete's stop only gives the lease back", () => {
    expectTable('stopped', outcome({ kind: 'stopped', cause: 'client', saved: false }), sameForAll('markStopped [stopped] {}'));
    expectTable('stopped with a part saved', outcome({ kind: 'stopped', cause: 'client', saved: true }), sameForAll('markStopped [progress,stopped] {}'));
    expectTable('stopped for a delete', outcome({ kind: 'stopped', cause: 'delete', saved: false }), sameForAll('releaseLease [] {}'));
  });

  it('interrupted (a shutdown) requeues quietly: clients learn of it at the next boot', () => {
    expectTable('interrupted', outcome({ kind: 'interrupted' }), sameForAll('requeueAfterShutdown [] {}'));
  });
});

describe('taskState', () => {
  it('reads queued from queuedAt, and running from the lease a node holds', () => {
    assert.equal(taskState(null), null);
    assert.deepEqual(taskState({ status: DownloadStatus.Downloading, queuedAt: '2026-01-01T00:00:00.000Z', interruptedRuns: 1, leaseToken: 'a-token' }), {
      status: DownloadStatus.Downloading,
      queued: true,
      running: true,
      interruptedRuns: 1,
    });
    assert.deepEqual(taskState({ status: DownloadStatus.Stopped, queuedAt: null, interruptedRuns: 0, leaseToken: null }), { status: DownloadStatus.Stopped, queued: false, running: false, interruptedRuns: 0 });
  });
});
