import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { assertUsableLocalPath } from '../common/local-path.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ClusterBus } from '../cluster/cluster-bus.service.js';
import { describeError } from '../engine/http-error.js';
import { TaskWorkspace } from '../engine/task-workspace.js';
import { DownloadEvent, type DownloadEventMap, type DownloadEventName, REMOTE_DOWNLOAD_EVENT, type RemoteDownloadEvent } from '../events/download-events.js';
import { diskFullKind } from '../scheduler/failure-message.js';
import type { RunFailure, RunReporter, SucceededRunReport } from '../scheduler/run-reporter.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import type { LiveProgress } from '../scheduler/speed-meter.js';
import { TaskLogService } from '../scheduler/task-log.service.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import { DownloadRepository, type MediaChoiceColumns, type NewDownload, type RunLease, type StoredProgress, type TaskDescriptionEdit } from '../tasks/download.repository.js';
import { CRASH_LOOP_LIMIT, type Applied, type LifecycleCommand, type RunOutcome, type Transition, commandTransition, outcomeTransition, taskState } from './task-transitions.js';

/** How long a shutdown waits for running tasks to write down where they are. */
const SHUTDOWN_GRACE_MS = 10_000;
/** A command decides again when the task changed under it; this many times before it gives up. */
const COMMAND_ATTEMPTS = 8;
/** How long a command waits for another node to end a run it asked it to end, before ending it itself. */
const REMOTE_ABORT_WAIT_MS = 5_000;

export interface StartOptions {
  /** Another directory to save into; undefined or null: the one it has. */
  localPath?: string | null;
  deleteSegments?: boolean;
  /** Its own speed limit; 0 or null: none; undefined: unchanged. */
  speedLimit?: number | null;
  /** Its own media choice as stored (null: the installation's default); a field left undefined is unchanged. */
  choice?: Partial<MediaChoiceColumns>;
}

/** An edit of an idle task, computed from the task as it stands (the API validates the fields against it). */
export type EditOf = (task: DownloadEntity) => TaskDescriptionEdit;

/**
 * The one owner of every task's state. Clients' commands (through the API) and the scheduler's reports of
 * runs go through the pure transitions of task-transitions.ts; this service writes what they decide through
 * the repository's intent methods, carries out their effects and publishes their events. A command writes
 * only if the task is still as it decided on (else it decides again); a run's writes name its lease, so a
 * node whose lease was taken over writes nothing.
 */
@Injectable()
export class TaskLifecycleService implements RunReporter, OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TaskLifecycleService.name);
  /** Commands on one task run one after another on this node; a run's reports are not held up by them. */
  private readonly turns = new Map<number, Promise<unknown>>();
  /** The figures last published for each running task (this node's runs and, on PostgreSQL, the others'). */
  private readonly published = new Map<number, LiveProgress>();
  private takeoverTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repository: DownloadRepository,
    private readonly scheduler: SchedulerService,
    private readonly cluster: ClusterBus,
    private readonly logs: TaskLogService,
    private readonly events: EventEmitter2,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    scheduler.attach(this);
  }

  onModuleInit(): void {
    this.cluster.onWake(() => this.scheduler.wake());
    this.cluster.onAbortRequest(async ({ id, reason }) => {
      await this.scheduler.abort(id, reason);
    });
    // the figures of runs on other nodes, for this node's task views
    this.events.on(REMOTE_DOWNLOAD_EVENT, ({ name, payload }: RemoteDownloadEvent) => {
      const id = (payload as { id?: number }).id;
      if (id === undefined) return;
      if (name === DownloadEvent.Progress) this.published.set(id, payload as LiveProgress);
      else if (name !== DownloadEvent.Updated) this.published.delete(id);
    });
  }

  /** Live figures of a running task, as last published. */
  liveProgress(id: number): LiveProgress | null {
    return this.published.get(id) ?? null;
  }

  // ---- commands ----

  async create(rows: NewDownload[], start: boolean): Promise<DownloadEntity[]> {
    const transition = this.mustApply(commandTransition(null, { kind: 'create', start }), 0);
    const saved = await this.repository.insertMany(rows);
    this.publish(transition, () => ({ ids: saved.map((task) => task.id), count: saved.length }));
    if (transition.effects.includes('enqueue')) this.wake();
    return saved;
  }

  /** Queues a task for a run; a no-op if it is queued or running already. */
  start(id: number, options: StartOptions): Promise<void> {
    return this.command(id, { kind: 'start' }, async (task, transition) => {
      if (!transition.write) return true;
      const localPath = options.localPath !== undefined && options.localPath !== null ? resolve(options.localPath) : task.localPath;
      if (localPath !== task.localPath) await assertUsableLocalPath(localPath!);
      const queued = await this.repository.markQueued(task, {
        localPath,
        deleteSegments: options.deleteSegments ?? true,
        speedLimit: options.speedLimit !== undefined ? options.speedLimit || null : undefined,
        choice: options.choice,
        replacesFile: task.status === DownloadStatus.Success ? task.file : null,
      });
      if (!queued) return false;
      // partial data follows the task to its new directory (it is queued, not running: nothing writes there)
      await this.moveWorkspace(task, localPath, task.folder);
      this.logs.append(id, 'queued by a client');
      this.publish(transition, () => ({ id }));
      this.wake();
      return true;
    });
  }

  /** Stops a queued or running task (on whichever node runs it) and returns once it has stopped; a no-op for any other. */
  stop(id: number): Promise<void> {
    return this.command(id, { kind: 'stop' }, async (task, transition) => {
      if (transition.effects.includes('abortRun')) return this.endRun(task, 'client');
      if (!transition.write) return true;
      if (!(await this.repository.markStoppedWhileQueued(task))) return false;
      this.logs.append(id, 'stopped by a client while queued');
      this.publish(transition, () => ({ id }));
      return true;
    });
  }

  /** Deletes a task (its run stopped first), with its files and partial data when asked; returns the file it had. */
  delete(id: number, deleteFile: boolean): Promise<string | null> {
    let file: string | null = null;
    return this.command(id, { kind: 'delete' }, async (before, transition) => {
      if (transition.effects.includes('abortRun') && !(await this.endRun(before, 'delete'))) return false;
      // read after the stop: a run that finished meanwhile has placed its file
      const task = await this.repository.findById(id);
      if (!task) return true;
      if (task.leaseToken) return false; // claimed again meanwhile: decide again
      // files first: on a full disk, removing them is what makes room for the database write
      if (deleteFile) {
        // the file, its subtitles and the parts of a live recording
        for (const path of filesOf(task)) await rm(path, { force: true });
        const workspace = await this.workspaceOf(task.id, task.localPath, task.folder);
        await workspace?.remove();
      }
      if (!(await this.repository.delete(task))) return false;
      file = task.file;
      this.published.delete(id);
      this.publish(transition, () => ({ id }));
      await this.logs.remove(id);
      return true;
    }).then(() => file);
  }

  /** A client sets the outcome of several tasks at once; none may be running, and nothing changes if one is. */
  mark(ids: number[], status: DownloadStatus.Success | DownloadStatus.Failed): Promise<void> {
    return this.inTurns([...new Set(ids)].sort((a, b) => a - b), () => this.markInTurn(ids, status));
  }

  private async markInTurn(ids: number[], status: DownloadStatus.Success | DownloadStatus.Failed): Promise<void> {
    for (let attempt = 0; attempt < COMMAND_ATTEMPTS; attempt++) {
      const tasks = await this.repository.findByIds(ids);
      const transitions = new Map<number, Applied>();
      const running: number[] = [];
      for (const id of ids) {
        const task = tasks.find((candidate) => candidate.id === id) ?? null;
        const transition = this.decide(task, { kind: 'mark', status });
        if (transition.kind === 'reject' && transition.errorCode === ErrorCode.TaskRunning) running.push(id);
        else transitions.set(id, this.mustApply(transition, id));
      }
      if (running.length > 0) throw new ApiError(409, ErrorCode.TaskRunning, `Task ${running.join(', ')} is downloading; stop it first. Nothing was changed`);
      if (!(await this.repository.markByClient(tasks, status))) continue;
      for (const [id, transition] of transitions) this.publish(transition, () => ({ id }));
      return;
    }
    throw this.changedTooOften(ids.join(', '), 'mark');
  }

  /** Changes what an idle task downloads or where; a running one must be stopped first. */
  edit(id: number, editOf: EditOf): Promise<void> {
    return this.command(id, { kind: 'edit' }, async (task, transition) => {
      const edit = editOf(task);
      if (Object.keys(edit).length === 0) return true;
      if (!(await this.repository.editDescription(task, edit))) return false;
      if (edit.folder !== undefined) await this.moveWorkspace(task, task.localPath, edit.folder);
      this.publish(transition, () => ({ id }));
      return true;
    });
  }

  setLive(id: number, isLive: boolean): Promise<void> {
    return this.command(id, { kind: 'setLive' }, async (_task, transition) => {
      await this.repository.setLive(id, isLive);
      this.publish(transition, () => ({ id }));
      return true;
    });
  }

  /**
   * Runs this node held when it last stopped are queued again in their place (a crash loop fails); on PostgreSQL,
   * runs of other nodes whose lease expired are taken over the same way, now and every third of a lease.
   */
  async onApplicationBootstrap(): Promise<void> {
    const leftovers = await this.repository.findLeftoverRuns(this.config.nodeId);
    for (const task of leftovers) await this.recover(task, 'boot');
    // one node: every task still queued waited on this very process, and its log says that it restarted
    if (!this.cluster.enabled) {
      const recovered = new Set(leftovers.map((task) => task.id));
      const waited = (await this.repository.findWaitingIds()).filter((id) => !recovered.has(id));
      this.logs.appendToEach(waited, 'queued again: the service restarted while this task was queued or running');
    }
    // with one node too: a run whose heartbeat stopped (its event loop stalled past the lease) is not left hanging
    await this.takeOverExpired();
    this.takeoverTimer = setInterval(() => void this.takeOverExpired(), Math.max(500, Math.floor(this.config.leaseMs / 3)));
    this.takeoverTimer.unref();
    this.scheduler.begin();
  }

  /** Running tasks write down where they are and stay queued (for any node); a clean shutdown never counts as a crash. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.takeoverTimer) clearInterval(this.takeoverTimer);
    this.scheduler.close();
    const leases = this.scheduler.runningLeases();
    await this.repository.clearRunCounters(leases.map((lease) => lease.token)).catch((error: unknown) => this.logger.warn(`run counters not cleared: ${describeError(error)}`));
    // every run is aborted: each reports "interrupted" and is queued again
    await this.scheduler.abortAll('shutdown', SHUTDOWN_GRACE_MS);
  }

  // ---- the scheduler's claims and reports ----

  async claim(): Promise<DownloadEntity | null> {
    const task = await this.repository.claimNext(this.config.nodeId, this.config.leaseMs);
    if (!task) return null;
    // the claim's statement takes exactly the tasks "started" applies to: queued, waiting
    const transition = outcomeTransition({ status: DownloadStatus.Waiting, queued: true, running: true, interruptedRuns: task.interruptedRuns - 1 }, { kind: 'started' });
    this.published.delete(task.id);
    this.publish(transition, () => ({ id: task.id }));
    return task;
  }

  async heartbeat(leases: RunLease[]): Promise<string[]> {
    const held = new Set(await this.repository.renewLeases(this.config.nodeId, leases.map((lease) => lease.token), this.config.leaseMs));
    return leases.filter((lease) => !held.has(lease.token)).map((lease) => lease.token);
  }

  async progress(lease: RunLease, progress: LiveProgress, due: { publish: boolean; persist: boolean }): Promise<void> {
    // a report comes from a run holding its lease, whose row says "downloading": no read is needed to know it
    const transition = outcomeTransition({ status: DownloadStatus.Downloading, queued: true, running: true, interruptedRuns: 1 }, { kind: 'progress', persist: due.persist });
    if (transition.write === 'saveProgress') await this.repository.saveProgress(lease, stored(progress));
    if (due.publish) {
      this.published.set(lease.id, progress);
      this.publish(transition, () => ({ id: lease.id, ...progress }));
    }
  }

  async succeeded(lease: RunLease, report: SucceededRunReport): Promise<void> {
    const transition = this.outcome(await this.repository.findById(lease.id), { kind: 'succeeded' });
    if (transition.write !== 'markSucceeded') return;
    const { progress } = report;
    const written = await this.repository.markSucceeded(lease, {
      file: report.file,
      outputs: report.outputs,
      fileNode: this.config.nodeId,
      name: report.name,
      nameIsDerived: report.nameIsDerived,
      downloadedBytes: progress.downloadedBytes,
      totalBytes: progress.totalBytes,
    });
    if (!this.fenced(lease, written)) return;
    this.published.delete(lease.id);
    // a last progress event, so that even a run shorter than one interval reports where it ended
    this.publishEach(transition, { [DownloadEvent.Progress]: { id: lease.id, ...progress }, [DownloadEvent.Succeeded]: { id: lease.id } });
  }

  async stopped(lease: RunLease, cause: 'client' | 'delete', progress: LiveProgress, saved?: { file: string; outputs: string[] }): Promise<void> {
    const transition = this.outcome(await this.repository.findById(lease.id), { kind: 'stopped', cause, saved: saved !== undefined });
    if (transition.write === 'releaseLease') {
      await this.repository.releaseLease(lease);
      return;
    }
    if (transition.write !== 'markStopped') return;
    const written = await this.repository.markRunStopped(lease, stored(progress), saved ? { path: saved.file, node: this.config.nodeId, outputs: saved.outputs } : undefined);
    if (!this.fenced(lease, written)) return;
    this.published.delete(lease.id);
    this.publishEach(transition, { [DownloadEvent.Progress]: { id: lease.id, ...progress }, [DownloadEvent.Stopped]: { id: lease.id } });
  }

  async interrupted(lease: RunLease, progress: LiveProgress | null, outputs?: string[]): Promise<void> {
    const transition = this.outcome(await this.repository.findById(lease.id), { kind: 'interrupted' });
    if (transition.write !== 'requeueAfterShutdown') return;
    this.fenced(lease, await this.repository.requeueAfterShutdown(lease, progress ? stored(progress) : null, outputs));
    this.published.delete(lease.id);
  }

  async failed(lease: RunLease, failure: RunFailure, progress: LiveProgress): Promise<void> {
    const transition = this.outcome(await this.repository.findById(lease.id).catch(() => null), { kind: 'failed' });
    if (transition.write !== 'markFailed') return;
    const write = () => this.repository.markRunFailed(lease, failure.message, stored(progress));
    const written = await write().catch(async (writeError: unknown) => {
      // the disk that filled up holds the database too: the reserve makes room for this one write
      if (diskFullKind(writeError) && (await this.scheduler.releaseSpaceReserve())) {
        this.logger.warn(`the disk of DATA_DIR is full: its space reserve was freed to record that task ${lease.id} failed`);
        return write().catch((again: unknown) => {
          this.logger.error(`task ${lease.id} failed (${failure.message}), but its row could not be updated: ${describeError(again)}`);
          return true;
        });
      }
      this.logger.error(`task ${lease.id} failed (${failure.message}), but its row could not be updated: ${describeError(writeError)}`);
      return true;
    });
    if (!this.fenced(lease, written)) return;
    this.published.delete(lease.id);
    this.publish(transition, () => ({ id: lease.id, error: failure.message, errorCode: failure.errorCode, ...(failure.dependency ? { dependency: failure.dependency } : {}) }));
  }

  // ---- helpers ----

  /** A run left without its node (this one before a restart, or another whose lease expired): queued again, or failed in a crash loop. */
  private async recover(task: DownloadEntity, why: 'boot' | 'takeover'): Promise<void> {
    const transition = commandTransition(taskState(task), { kind: 'boot' });
    if (transition.kind !== 'apply' || !transition.write) return;
    const lease = { id: task.id, token: task.leaseToken ?? '' };
    const byLease = task.leaseToken !== null;
    const who = why === 'boot' ? 'the service stopped unexpectedly' : `node ${task.ownerNode} stopped renewing its lease`;
    if (transition.write === 'failCrashLoop') {
      const message = `${why === 'boot' ? 'the service' : 'the node running it'} stopped unexpectedly ${task.interruptedRuns} times in a row while this task was downloading, so it is not started again on its own; see the service log for the cause, then start it again by hand`;
      const written = byLease ? await this.repository.markRunFailed(lease, message) : await this.repository.markFailedWithoutLease(task, message);
      if (!written) return;
      this.logs.append(task.id, `failed: ${message}`);
      this.logger.error(`task ${task.id} failed: ${message}`);
      this.publish(transition, () => ({ id: task.id, error: message, errorCode: ErrorCode.CrashLoop }));
      return;
    }
    if (transition.write !== 'requeueAtBoot') return;
    const written = byLease ? await this.repository.requeueLeftover(lease) : await this.repository.requeueWithoutLease(task);
    if (!written) return;
    this.logs.append(
      task.id,
      task.interruptedRuns > 0
        ? `queued again: ${who} during this task's run (${task.interruptedRuns} of ${CRASH_LOOP_LIMIT} such runs in a row before it fails)`
        : 'queued again: the service restarted while this task was running',
    );
    this.published.delete(task.id);
    this.publish(transition, () => ({ id: task.id }));
  }

  private async takeOverExpired(): Promise<void> {
    try {
      const expired = await this.repository.findExpiredLeases();
      for (const task of expired) if (!this.scheduler.isRunning(task.id)) await this.recover(task, 'takeover');
      if (expired.length > 0) this.wake();
    } catch (error) {
      this.logger.warn(`expired leases not looked at: ${describeError(error)}`);
    }
  }

  /**
   * Ends a task's run wherever it runs and waits until it has: here through the scheduler; on another node by
   * asking it, and when it does not answer in time (it died), by ending the run's lease here. False if the
   * task changed otherwise meanwhile.
   */
  private async endRun(task: DownloadEntity, reason: 'client' | 'delete'): Promise<boolean> {
    if (task.ownerNode === this.config.nodeId || !this.cluster.enabled) {
      if (await this.scheduler.abort(task.id, reason)) return true;
      // the run ended by itself meanwhile, or this node holds no such run (a lease left from before a restart)
      const now = await this.repository.findById(task.id);
      if (!now || now.leaseToken !== task.leaseToken) return true;
      return this.forceEnd(task, reason);
    }
    this.cluster.requestAbort(task.ownerNode!, { id: task.id, reason });
    const deadline = Date.now() + REMOTE_ABORT_WAIT_MS;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const now = await this.repository.findById(task.id);
      if (!now || now.leaseToken !== task.leaseToken) return true;
    }
    this.logger.warn(`node ${task.ownerNode} did not end the run of task ${task.id} within ${REMOTE_ABORT_WAIT_MS} ms: its lease is ended here`);
    return this.forceEnd(task, reason);
  }

  /** Ends a run whose node does not answer: its lease ends here, and that node can write nothing more about it. */
  private async forceEnd(task: DownloadEntity, reason: 'client' | 'delete'): Promise<boolean> {
    if (!task.leaseToken) return false;
    const lease = { id: task.id, token: task.leaseToken };
    const progress = { downloadedBytes: task.downloadedBytes, totalBytes: task.totalBytes, percent: task.percent };
    const written = reason === 'client' ? await this.repository.markRunStopped(lease, progress) : await this.repository.releaseLease(lease);
    if (written && reason === 'client') {
      this.logs.append(task.id, 'stopped by a client; the partial data is kept for a resume');
      this.published.delete(task.id);
      this.events.emit(DownloadEvent.Stopped, { id: task.id });
    }
    return written;
  }

  /** Decides on a fresh read of the task and carries the decision out; again (a few times) when the task changed meanwhile. */
  private command(id: number, command: LifecycleCommand, carryOut: (task: DownloadEntity, transition: Applied) => Promise<boolean>): Promise<void> {
    return this.inTurn(id, async () => {
      for (let attempt = 0; attempt < COMMAND_ATTEMPTS; attempt++) {
        const task = await this.mustFind(id);
        const transition = this.mustApply(this.decide(task, command), id);
        if (await carryOut(task, transition)) return;
      }
      throw this.changedTooOften(String(id), command.kind);
    });
  }

  private changedTooOften(ids: string, command: string): ApiError {
    return new ApiError(409, ErrorCode.InvalidTransition, `Task ${ids} kept changing while the ${command} command was carried out; nothing was changed, try again`);
  }

  /** False (and a line in the service log) when the run's lease was taken over: another node runs the task now. */
  private fenced(lease: RunLease, written: boolean): boolean {
    if (!written) this.logger.warn({ taskId: lease.id, msg: 'the run ended, but its lease had been taken over by another node: its end is not written' });
    return written;
  }

  private wake(): void {
    this.scheduler.wake();
    this.cluster.wakeOthers();
  }

  private decide(task: DownloadEntity | null, command: LifecycleCommand): Transition {
    return commandTransition(taskState(task), command);
  }

  private outcome(task: DownloadEntity | null, outcome: RunOutcome): Applied {
    return outcomeTransition(taskState(task), outcome);
  }

  /** The one place an illegal transition becomes the client's error. */
  private mustApply(transition: Transition, id: number): Applied {
    if (transition.kind === 'reject') throw new ApiError(transition.httpStatus, transition.errorCode, `Task ${id} ${transition.reason}`);
    return transition;
  }

  private async mustFind(id: number): Promise<DownloadEntity> {
    const task = await this.repository.findById(id);
    if (!task) throw new ApiError(404, ErrorCode.DownloadNotFound, `No task with id ${id}`);
    return task;
  }

  /** In turn on several tasks at once, taken in id order so that two such commands never wait on each other. */
  private inTurns<T>(ids: number[], step: () => Promise<T>): Promise<T> {
    if (ids.length === 0) return step();
    return this.inTurn(ids[0], () => this.inTurns(ids.slice(1), step));
  }

  private inTurn<T>(id: number, step: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(id) ?? Promise.resolve();
    const next = previous.then(step, step);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(id, settled);
    void settled.then(() => {
      if (this.turns.get(id) === settled) this.turns.delete(id);
    });
    return next;
  }

  /** Partial data follows the task when its directory changes, so that a later start resumes it. */
  private async moveWorkspace(task: DownloadEntity, localPath: string | null, folder: string): Promise<void> {
    const from = await this.workspaceOf(task.id, task.localPath, task.folder);
    const to = await this.workspaceOf(task.id, localPath, folder);
    if (!from || !to) return;
    const moved = await from.moveTo(to);
    if (moved === 'moved') this.logs.append(task.id, 'the partial data moved with the task to its new directory');
    if (moved === 'dropped') this.logs.append(task.id, 'the new directory is on another file system: the download starts over there');
  }

  private workspaceOf(id: number, localPath: string | null, folder: string): Promise<TaskWorkspace | null> {
    return TaskWorkspace.of(id, localPath ?? this.config.downloadDir, folder).catch(() => null);
  }

  /** Publishes a transition's events with one payload for all of them. */
  private publish<K extends DownloadEventName>(transition: Applied, payload: () => DownloadEventMap[K]): void {
    const value = payload();
    for (const name of transition.events) this.events.emit(name, value);
  }

  /** Publishes a transition's events, each with its own payload. */
  private publishEach(transition: Applied, payloads: Partial<{ [K in DownloadEventName]: DownloadEventMap[K] }>): void {
    for (const name of transition.events) this.events.emit(name, payloads[name]);
  }
}

/** Every file a task has on record: its outputs and its main file. */
function filesOf(task: DownloadEntity): string[] {
  return [...new Set([...task.outputs, ...(task.file ? [task.file] : [])])];
}

function stored(progress: LiveProgress): StoredProgress {
  return { downloadedBytes: progress.downloadedBytes, totalBytes: progress.totalBytes, percent: progress.percent };
}
