import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { assertUsableLocalPath } from '../common/local-path.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { describeError } from '../engine/http-error.js';
import { TaskWorkspace } from '../engine/task-workspace.js';
import { DownloadEvent, type DownloadEventMap, type DownloadEventName } from '../events/download-events.js';
import { diskFullKind } from '../scheduler/failure-message.js';
import type { RunFailure, RunReporter, SucceededRunReport } from '../scheduler/run-reporter.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import type { LiveProgress } from '../scheduler/speed-meter.js';
import { TaskLogService } from '../scheduler/task-log.service.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import { DownloadRepository, type MediaChoiceColumns, type NewDownload, type StoredProgress, type TaskDescriptionEdit } from '../tasks/download.repository.js';
import { CRASH_LOOP_LIMIT, type Applied, type LifecycleCommand, type RunOutcome, type Transition, commandTransition, outcomeTransition, taskState } from './task-transitions.js';

/** How long a shutdown waits for running tasks to write down where they are. */
const SHUTDOWN_GRACE_MS = 10_000;

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
 * the repository's intent methods, carries out their effects and publishes their events.
 */
@Injectable()
export class TaskLifecycleService implements RunReporter, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TaskLifecycleService.name);
  /** Commands on one task run one after another; a run's reports are not held up by them (a stop waits for its run). */
  private readonly turns = new Map<number, Promise<unknown>>();
  /** The figures last published for each running task: what a task view shows between writes. */
  private readonly published = new Map<number, LiveProgress>();

  constructor(
    private readonly repository: DownloadRepository,
    private readonly scheduler: SchedulerService,
    private readonly logs: TaskLogService,
    private readonly events: EventEmitter2,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    scheduler.attach(this);
  }

  /** Live figures of a running task, as last published. */
  liveProgress(id: number): LiveProgress | null {
    return this.scheduler.isRunning(id) ? (this.published.get(id) ?? null) : null;
  }

  isRunning(id: number): boolean {
    return this.scheduler.isRunning(id);
  }

  // ---- commands ----

  async create(rows: NewDownload[], start: boolean): Promise<DownloadEntity[]> {
    const transition = this.mustApply(commandTransition(null, { kind: 'create', start }), 0);
    const saved = await this.repository.insertMany(rows);
    this.publish(transition, () => ({ ids: saved.map((task) => task.id), count: saved.length }));
    if (transition.effects.includes('enqueue')) for (const task of saved) this.scheduler.enqueue(task.id);
    return saved;
  }

  /** Queues a task for a run; a no-op if it is queued or running already. */
  start(id: number, options: StartOptions): Promise<void> {
    return this.inTurn(id, async () => {
      const task = await this.mustFind(id);
      const transition = this.mustApply(this.decide(task, { kind: 'start' }), id);
      if (!transition.write) return;
      const localPath = options.localPath !== undefined && options.localPath !== null ? resolve(options.localPath) : task.localPath;
      if (localPath !== task.localPath) await assertUsableLocalPath(localPath!);
      await this.moveWorkspace(task, localPath, task.folder);
      const restart = task.status === DownloadStatus.Success;
      await this.repository.markQueued(id, {
        localPath,
        deleteSegments: options.deleteSegments ?? true,
        speedLimit: options.speedLimit !== undefined ? options.speedLimit || null : undefined,
        choice: options.choice,
        restart,
      });
      this.logs.append(id, 'queued by a client');
      this.publish(transition, () => ({ id }));
      this.scheduler.enqueue(id, restart ? filesOf(task) : null);
    });
  }

  /** Stops a queued or running task and returns once it has stopped; a no-op for any other. */
  stop(id: number): Promise<void> {
    return this.inTurn(id, async () => {
      const task = await this.mustFind(id);
      const transition = this.mustApply(this.decide(task, { kind: 'stop' }), id);
      if (transition.effects.includes('abortRun')) {
        await this.scheduler.abort(id, 'client');
        return;
      }
      if (!transition.write) return;
      this.scheduler.dequeue(id);
      await this.repository.markStopped(id);
      this.logs.append(id, 'stopped by a client while queued');
      this.publish(transition, () => ({ id }));
    });
  }

  /** Deletes a task (its run stopped first), with its file and partial data when asked; returns the file it had. */
  delete(id: number, deleteFile: boolean): Promise<string | null> {
    return this.inTurn(id, async () => {
      const before = await this.mustFind(id);
      const transition = this.mustApply(this.decide(before, { kind: 'delete' }), id);
      if (transition.effects.includes('abortRun')) await this.scheduler.abort(id, 'delete');
      if (transition.effects.includes('dequeue')) this.scheduler.dequeue(id);
      // read after the stop: a run that finished meanwhile has placed its file
      const task = (await this.repository.findById(id)) ?? before;
      // files first: on a full disk, removing them is what makes room for the database write
      if (deleteFile) {
        // the file, its subtitles and the parts of a live recording
        for (const file of filesOf(task)) await rm(file, { force: true });
        const workspace = await this.workspaceOf(task.id, task.localPath, task.folder);
        await workspace?.remove();
      }
      await this.repository.delete(id);
      this.published.delete(id);
      this.publish(transition, () => ({ id }));
      await this.logs.remove(id);
      return task.file;
    });
  }

  /** A client sets the outcome of several tasks at once; none may be running, and nothing changes if one is. */
  async mark(ids: number[], status: DownloadStatus.Success | DownloadStatus.Failed): Promise<void> {
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
    for (const [id, transition] of transitions) if (transition.effects.includes('dequeue')) this.scheduler.dequeue(id);
    await this.repository.markByClient(ids, status);
    for (const [id, transition] of transitions) this.publish(transition, () => ({ id }));
  }

  /** Changes what an idle task downloads or where; a running one must be stopped first. */
  edit(id: number, editOf: EditOf): Promise<void> {
    return this.inTurn(id, async () => {
      const task = await this.mustFind(id);
      const transition = this.mustApply(this.decide(task, { kind: 'edit' }), id);
      const edit = editOf(task);
      if (Object.keys(edit).length === 0) return;
      if (edit.folder !== undefined) await this.moveWorkspace(task, task.localPath, edit.folder);
      await this.repository.editDescription(id, edit);
      this.publish(transition, () => ({ id }));
    });
  }

  setLive(id: number, isLive: boolean): Promise<void> {
    return this.inTurn(id, async () => {
      const transition = this.mustApply(this.decide(await this.mustFind(id), { kind: 'setLive' }), id);
      await this.repository.setLive(id, isLive);
      this.publish(transition, () => ({ id }));
    });
  }

  /** Tasks queued or running when the service last stopped are queued again, in their order; a crash loop fails. */
  async onApplicationBootstrap(): Promise<void> {
    for (const task of await this.repository.findQueued()) {
      const transition = this.decide(task, { kind: 'boot' });
      if (transition.kind !== 'apply') continue;
      if (transition.write === 'failCrashLoop') {
        const message = `the service stopped unexpectedly ${task.interruptedRuns} times in a row while this task was downloading, so it is not started again on its own; see the service log for the cause, then start it again by hand`;
        await this.repository.markFailed(task.id, message);
        this.logs.append(task.id, `failed: ${message}`);
        this.logger.error(`task ${task.id} failed: ${message}`);
        this.publish(transition, () => ({ id: task.id, error: message, errorCode: ErrorCode.CrashLoop }));
        continue;
      }
      if (!transition.effects.includes('enqueue')) continue;
      if (transition.write === 'requeueAtBoot') await this.repository.requeueAtBoot(task.id);
      const crashed = task.status === DownloadStatus.Downloading && task.interruptedRuns > 0;
      this.logs.append(
        task.id,
        crashed
          ? `queued again: the service stopped unexpectedly during this task's run (${task.interruptedRuns} of ${CRASH_LOOP_LIMIT} such runs in a row before it fails)`
          : 'queued again: the service restarted while this task was queued or running',
      );
      this.publish(transition, () => ({ id: task.id }));
      this.scheduler.enqueue(task.id);
    }
  }

  /** Running tasks write down where they are and stay queued for the next boot; a clean shutdown never counts as a crash. */
  async beforeApplicationShutdown(): Promise<void> {
    this.scheduler.close();
    const running = await this.repository.findByIds(this.scheduler.runningIds()).catch(() => []);
    const ending = running.filter((task) => this.mustApply(this.decide(task, { kind: 'shutdown' }), task.id).write === 'clearRunCounter');
    await this.repository.clearRunCounters(ending.map((task) => task.id)).catch((error: unknown) => this.logger.warn(`run counters not cleared: ${describeError(error)}`));
    // every run is aborted, even one whose row could not be read: each reports "interrupted" and stays queued
    await this.scheduler.abortAll('shutdown', SHUTDOWN_GRACE_MS);
  }

  // ---- the scheduler's reports ----

  async started(id: number): Promise<DownloadEntity | null> {
    const task = await this.repository.findById(id);
    const transition = this.outcome(task, { kind: 'started' });
    if (!task || transition.write !== 'markStarted') return null;
    const interruptedRuns = task.interruptedRuns + 1;
    await this.repository.markStarted(id, interruptedRuns);
    this.published.delete(id);
    this.publish(transition, () => ({ id }));
    return { ...task, status: DownloadStatus.Downloading, error: null, file: null, interruptedRuns };
  }

  async progress(id: number, progress: LiveProgress, due: { publish: boolean; persist: boolean }): Promise<void> {
    // a report comes from a run holding a slot, whose row says "downloading": no read is needed to know it
    const transition = outcomeTransition({ status: DownloadStatus.Downloading, queued: true, running: this.scheduler.isRunning(id), interruptedRuns: 0 }, { kind: 'progress', persist: due.persist });
    if (transition.write === 'saveProgress') await this.repository.saveProgress(id, stored(progress));
    if (due.publish && transition.events.length > 0) {
      this.published.set(id, progress);
      this.publish(transition, () => ({ id, ...progress }));
    }
  }

  async succeeded(id: number, report: SucceededRunReport): Promise<void> {
    const transition = this.outcome(await this.repository.findById(id), { kind: 'succeeded' });
    if (transition.write !== 'markSucceeded') return;
    const { progress } = report;
    await this.repository.markSucceeded(id, { file: report.file, outputs: report.outputs, name: report.name, nameIsDerived: report.nameIsDerived, downloadedBytes: progress.downloadedBytes, totalBytes: progress.totalBytes });
    this.published.delete(id);
    // a last progress event, so that even a run shorter than one interval reports where it ended
    this.publishEach(transition, { [DownloadEvent.Progress]: { id, ...progress }, [DownloadEvent.Succeeded]: { id } });
  }

  async stopped(id: number, cause: 'client' | 'delete', progress: LiveProgress, saved?: { file: string; outputs: string[] }): Promise<void> {
    const transition = this.outcome(await this.repository.findById(id), { kind: 'stopped', cause, saved: saved !== undefined });
    if (transition.write !== 'markStopped') return;
    await this.repository.markStopped(id, stored(progress), saved);
    this.published.delete(id);
    this.publishEach(transition, { [DownloadEvent.Progress]: { id, ...progress }, [DownloadEvent.Stopped]: { id } });
  }

  async interrupted(id: number, progress: LiveProgress | null, outputs?: string[]): Promise<void> {
    const transition = this.outcome(await this.repository.findById(id), { kind: 'interrupted' });
    if (transition.write !== 'requeueAfterShutdown') return;
    await this.repository.requeueAfterShutdown(id, progress ? stored(progress) : null, outputs);
    this.published.delete(id);
  }

  async failed(id: number, failure: RunFailure, progress: LiveProgress): Promise<void> {
    const transition = this.outcome(await this.repository.findById(id).catch(() => null), { kind: 'failed' });
    if (transition.write !== 'markFailed') return;
    const write = () => this.repository.markFailed(id, failure.message, stored(progress));
    await write().catch(async (writeError: unknown) => {
      // the disk that filled up holds the database too: the reserve makes room for this one write
      if (diskFullKind(writeError) && (await this.scheduler.releaseSpaceReserve())) {
        this.logger.warn(`the disk of DATA_DIR is full: its space reserve was freed to record that task ${id} failed`);
        await write().catch((again: unknown) => this.logger.error(`task ${id} failed (${failure.message}), but its row could not be updated: ${describeError(again)}`));
      } else {
        this.logger.error(`task ${id} failed (${failure.message}), but its row could not be updated: ${describeError(writeError)}`);
      }
    });
    this.published.delete(id);
    this.publish(transition, () => ({ id, error: failure.message, errorCode: failure.errorCode, ...(failure.dependency ? { dependency: failure.dependency } : {}) }));
  }

  // ---- helpers ----

  private decide(task: DownloadEntity | null, command: LifecycleCommand): Transition {
    return commandTransition(taskState(task, task ? this.scheduler.isRunning(task.id) : false), command);
  }

  private outcome(task: DownloadEntity | null, outcome: RunOutcome): Applied {
    // reports come from a run, which holds its slot until its report is written
    return outcomeTransition(taskState(task, true), outcome);
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
