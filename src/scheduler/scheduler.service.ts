import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { forwardableHeaders, parseHeaderLines } from '../common/header-lines.js';
import { dataDirFloor, freeBytes, formatBytes } from '../common/disk-space.js';
import { ErrorCode } from '../common/error-codes.js';
import { localPathProblem } from '../common/local-path.js';
import { resolveInside, sanitizeFileName } from '../common/path-safety.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import type { DownloadContext, DownloadJob, DownloadOutput, ProgressReport } from '../engine/download-job.js';
import { DownloaderRegistry } from '../downloaders/downloader.registry.js';
import { DownloadRepository } from '../tasks/download.repository.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import { settleAfterAbort } from '../engine/abort.js';
import { describeError, redactUrl } from '../engine/http-error.js';
import { RateLimiter, withSpeedLimits } from '../engine/rate-limiter.js';
import { CodedTaskError } from '../engine/task-errors.js';
import { DownloadEvent, type DownloadEventMap, type DownloadEventName } from '../events/download-events.js';
import { SETTINGS_CHANGED, type SettingsChangedPayload } from '../config/config-events.js';
import { CRASH_LOOP_LIMIT, bootDecision } from './boot-recovery.js';
import { describeFailure, diskFullKind } from './failure-message.js';
import { placeOutput } from './output-placement.js';
import { SpaceReserve } from './space-reserve.js';
import { type LiveProgress, SpeedMeter, deriveProgress } from './speed-meter.js';
import { TaskLogService } from './task-log.service.js';

type StopReason = 'client' | 'shutdown' | 'delete';

/** One task holding a slot. */
interface Run {
  controller: AbortController;
  reason: StopReason | null;
  done: Promise<void>;
  meter: SpeedMeter;
  report: ProgressReport;
  changed: boolean;
  lastEmitted: LiveProgress | null;
  /** Set once the run's outcome is being written: progress ticks no longer touch the row. */
  ending: boolean;
}

const SHUTDOWN_GRACE_MS = 10_000;
/** How long a stopped run may take to notice its abort before the scheduler stops waiting for it. */
const STOP_GRACE_MS = 5_000;
const PERSIST_EVERY_TICKS = 4;
/** How often queued tasks held back by low disk space look again. */
const SPACE_RECHECK_MS = 2_000;

/**
 * Runs at most MAX_CONCURRENT_DOWNLOADS tasks at once, the rest in FIFO order; owns every
 * transition out of "downloading", publishes it, and requeues interrupted tasks at boot.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly queue: number[] = [];
  private readonly runs = new Map<number, Run>();
  private ticker: NodeJS.Timeout | null = null;
  private ticks = 0;
  private closing = false;
  private startChain: Promise<unknown> = Promise.resolve();
  /** The file a re-download of a finished task may replace (its own earlier file), by task id. */
  private readonly replaceable = new Map<number, string>();
  /** SPEED_LIMIT: shared by every running task; a settings change applies to the next chunk of each. */
  private readonly globalSpeedLimit: RateLimiter;
  /** While set, free space is below MIN_FREE_SPACE where the next task saves: queued tasks stay queued. */
  private spaceGate: NodeJS.Timeout | null = null;
  /** Tasks put back at the head of the queue since the gate closed, so that they keep their order. */
  private heldInRow = 0;
  /** Tasks whose log already says why they wait for space (one line per wait, not one per check). */
  private readonly toldAboutSpace = new Set<number>();
  /** The service log says once that tasks wait for space, until one starts again. */
  private warnedAboutSpace = false;
  private readonly reserve: SpaceReserve;

  constructor(
    private readonly repository: DownloadRepository,
    private readonly registry: DownloaderRegistry,
    private readonly events: EventEmitter2,
    private readonly logs: TaskLogService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.reserve = new SpaceReserve(config.dataDir);
    this.globalSpeedLimit = new RateLimiter(config.speedLimit);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reserve.ensure();
    for (const task of await this.repository.findQueued()) {
      const decision = bootDecision(task);
      if (decision === 'fail-crash-loop') {
        await this.failCrashLoop(task);
        continue;
      }
      if (task.status !== DownloadStatus.Waiting) await this.repository.update(task.id, { status: DownloadStatus.Waiting });
      this.logs.append(
        task.id,
        decision === 'requeue-after-crash'
          ? `queued again: the service stopped unexpectedly during this task's run (${task.interruptedRuns} of ${CRASH_LOOP_LIMIT} such runs in a row before it fails)`
          : 'queued again: the service restarted while this task was queued or running',
      );
      this.queue.push(task.id);
    }
    this.ticker = setInterval(() => void this.tick(), this.config.progressIntervalMs);
    this.ticker.unref();
    this.pump();
  }

  /** The task has taken the process down with it twice: it fails rather than being queued a third time. */
  private async failCrashLoop(task: DownloadEntity): Promise<void> {
    const message = `the service stopped unexpectedly ${task.interruptedRuns} times in a row while this task was downloading, so it is not started again on its own; see the service log for the cause, then start it again by hand`;
    await this.repository.update(task.id, { status: DownloadStatus.Failed, error: message, queuedAt: null, interruptedRuns: 0 });
    this.logs.append(task.id, `failed: ${message}`);
    this.logger.error(`task ${task.id} failed: ${message}`);
    this.emit(DownloadEvent.Failed, { id: task.id, error: message, errorCode: ErrorCode.CrashLoop });
  }

  /** Flushes and aborts running tasks, leaving them queued in the database for the next boot. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.ticker) clearInterval(this.ticker);
    if (this.spaceGate) clearTimeout(this.spaceGate);
    // a clean shutdown never counts towards a crash loop, even if a run outlasts the grace period
    await this.repository.updateMany([...this.runs.keys()], { interruptedRuns: 0 }).catch((error) => this.logger.warn(`run counters not cleared: ${describeError(error)}`));
    const running = [...this.runs.values()];
    for (const run of running) {
      run.reason ??= 'shutdown';
      run.controller.abort();
    }
    const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([Promise.allSettled(running.map((run) => run.done)), grace]);
  }

  /** A raised MAX_CONCURRENT_DOWNLOADS starts queued tasks at once (a lowered one lets running tasks finish). */
  @OnEvent(SETTINGS_CHANGED)
  onSettingsChanged({ keys }: SettingsChangedPayload): void {
    if (keys.includes('speedLimit')) this.globalSpeedLimit.setRate(this.config.speedLimit);
    if (keys.includes('maxConcurrentDownloads')) this.pump();
  }

  isActive(id: number): boolean {
    return this.runs.has(id) || this.queue.includes(id);
  }

  isRunning(id: number): boolean {
    return this.runs.has(id);
  }

  /** Live figures of a running task, for the API's task view. */
  liveProgress(id: number): LiveProgress | null {
    const run = this.runs.get(id);
    return run ? this.derive(run) : null;
  }

  /**
   * Adds a task (already persisted as waiting with queuedAt) to the back of the queue; a no-op if active.
   * `replace` is the task's own earlier file, which a successful run may overwrite.
   */
  enqueue(id: number, replace: string | null = null): void {
    if (this.isActive(id)) return;
    if (replace) this.replaceable.set(id, replace);
    this.queue.push(id);
    this.pump();
  }

  /**
   * Stops a queued or running task and waits until its run has ended. A client's stop leaves it
   * "stopped"; a delete leaves the row to the caller. Returns false if the task was not active.
   */
  async stop(id: number, reason: 'client' | 'delete'): Promise<boolean> {
    const index = this.queue.indexOf(id);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.replaceable.delete(id);
      if (reason === 'client') {
        await this.repository.update(id, { status: DownloadStatus.Stopped, queuedAt: null });
        this.logs.append(id, 'stopped by a client while queued');
      }
      this.emit(DownloadEvent.Stopped, { id });
      return true;
    }
    const run = this.runs.get(id);
    if (!run) return false;
    run.reason ??= reason;
    run.controller.abort();
    await run.done;
    // a deleted task's run ends without a row to update: its listeners still learn that it stopped
    if (reason === 'delete') this.emit(DownloadEvent.Stopped, { id });
    return true;
  }

  private pump(): void {
    while (!this.closing && !this.spaceGate && this.runs.size < this.config.maxConcurrentDownloads && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const run: Run = {
        controller: new AbortController(),
        reason: null,
        done: Promise.resolve(),
        meter: new SpeedMeter(),
        report: { downloadedBytes: 0, totalBytes: null },
        changed: false,
        lastEmitted: null,
        ending: false,
      };
      this.runs.set(id, run);
      run.done = this.execute(id, run)
        .catch((error) => this.logger.error({ taskId: id, msg: `the run ended with an error of its own: ${describeError(error)}` }))
        .finally(() => {
          this.runs.delete(id);
          this.pump();
        });
    }
  }

  /** Runs the steps in the order they were asked for: tasks are marked started in queue order. */
  private inStartOrder<T>(step: () => Promise<T>): Promise<T> {
    const next = this.startChain.then(step);
    this.startChain = next.catch(() => undefined);
    return next;
  }

  private async execute(id: number, run: Run): Promise<void> {
    const begun = await this.inStartOrder(async () => {
      const task = await this.repository.findById(id);
      if (!task) return null;
      if (await this.holdForSpace(task, run)) return null;
      this.toldAboutSpace.delete(id);
      this.warnedAboutSpace = false;
      await this.reserve.ensure();
      const previousFile = this.replaceable.get(id) ?? null;
      this.replaceable.delete(id);
      await this.repository.update(id, { status: DownloadStatus.Downloading, error: null, file: null, interruptedRuns: task.interruptedRuns + 1 });
      this.emit(DownloadEvent.Started, { id });
      return { task, previousFile };
    });
    if (!begun) return;
    const { task, previousFile } = begun;
    run.report = { downloadedBytes: task.downloadedBytes, totalBytes: task.totalBytes, percent: task.percent };
    this.logs.append(id, `run started: ${task.type} ${redactUrl(task.url)}`);
    let job: DownloadJob | null = null;
    try {
      const downloader = this.registry.find(task.type);
      if (!downloader) throw new Error(`the "${task.type}" type is not available in this version of the service`);
      job = await this.prepareJob(task);
      if (previousFile) await rm(job.workDir, { recursive: true, force: true }).then(() => mkdir(job!.workDir, { recursive: true }));
      const outputDir = job.outputDir;
      const context: DownloadContext = {
        signal: run.controller.signal,
        progress: (report) => this.onProgress(run, report),
        log: (line) => this.logs.append(id, line),
        ensureSpace: (bytes) => this.ensureSpace(outputDir, bytes),
      };
      const limits = [this.globalSpeedLimit, ...(task.speedLimit ? [new RateLimiter(task.speedLimit)] : [])];
      // a stop settles the run even if the strategy never returns; its slot frees after the grace
      const output = await settleAfterAbort(
        withSpeedLimits(limits, () => downloader.run(job!, context)),
        run.controller.signal,
        STOP_GRACE_MS,
      );
      run.ending = true;
      await this.finish(task, job, run, output, previousFile);
    } catch (error) {
      run.ending = true;
      await this.handleFailure(task, job, run, error);
    }
  }

  /**
   * Leaves the task at the head of the queue, unstarted, while free space where it saves (or in DATA_DIR)
   * is below MIN_FREE_SPACE; looks again every few seconds. True when it was held.
   */
  private async holdForSpace(task: DownloadEntity, run: Run): Promise<boolean> {
    const floor = this.config.minFreeSpaceBytes;
    if (floor <= 0 || run.controller.signal.aborted) return false;
    const places: Array<[string, string, number]> = [
      [task.localPath ?? this.config.downloadDir, 'where it saves', floor],
      [this.config.dataDir, 'in DATA_DIR', dataDirFloor(floor)],
    ];
    for (const [path, label, needed] of places) {
      const free = await freeBytes(path).catch(() => null);
      if (free === null || free >= needed) continue;
      // a stop that came meanwhile is honoured by the start, which ends at once
      if (run.controller.signal.aborted) return false;
      this.queue.splice(this.heldInRow++, 0, task.id);
      this.spaceGate ??= setTimeout(() => this.openSpaceGate(), SPACE_RECHECK_MS);
      if (!this.warnedAboutSpace) {
        this.warnedAboutSpace = true;
        this.logger.warn(`queued tasks wait: only ${formatBytes(free)} free ${label} (${path}), less than MIN_FREE_SPACE (${formatBytes(needed)})`);
      }
      if (!this.toldAboutSpace.has(task.id)) {
        this.toldAboutSpace.add(task.id);
        this.logs.append(task.id, `waiting for disk space: only ${formatBytes(free)} free ${label}, less than MIN_FREE_SPACE (${formatBytes(needed)}); it starts once space is freed`);
      }
      return true;
    }
    return false;
  }

  private openSpaceGate(): void {
    this.spaceGate = null;
    this.heldInRow = 0;
    this.pump();
  }

  /** A strategy's question before a download of known size: fails the task at once when it cannot fit. */
  private async ensureSpace(directory: string, bytes: number): Promise<void> {
    const free = await freeBytes(directory).catch(() => null);
    const floor = this.config.minFreeSpaceBytes;
    if (free === null || bytes + floor <= free) return;
    const kept = floor > 0 ? `, and MIN_FREE_SPACE keeps ${formatBytes(floor)} free` : '';
    throw new CodedTaskError(ErrorCode.InsufficientSpace, `not enough disk space: the download needs ${formatBytes(bytes)}, ${formatBytes(free)} free in ${directory}${kept}`);
  }

  private async prepareJob(task: DownloadEntity): Promise<DownloadJob> {
    const base = task.localPath ?? this.config.downloadDir;
    // a directory inside /proc or /sys would send the recursive mkdir round in circles
    const problem = await localPathProblem(base);
    if (problem) throw new CodedTaskError(ErrorCode.DownloadFailed, `the task's directory ${problem}`);
    await mkdir(base, { recursive: true });
    const outputDir = await resolveInside(base, task.folder || '.');
    const workDir = join(outputDir, `.mediago-task-${task.id}`);
    await mkdir(workDir, { recursive: true });
    const { forwarded, dropped } = forwardableHeaders(parseHeaderLines(task.headers));
    if (dropped.length > 0) this.logs.append(task.id, `headers not sent: ${dropped.join(', ')} (they belong to a single connection, not to the task)`);
    return {
      id: task.id,
      type: task.type,
      url: task.url,
      name: task.name,
      nameIsDerived: task.nameIsDerived,
      headers: forwarded,
      isLive: task.isLive,
      outputDir,
      workDir,
      deleteSegments: task.deleteSegments,
      speedLimit: effectiveSpeedLimit(task.speedLimit, this.config.speedLimit),
    };
  }

  private async finish(task: DownloadEntity, job: DownloadJob, run: Run, output: DownloadOutput, previousFile: string | null): Promise<void> {
    const name = task.nameIsDerived && output.title ? sanitizeFileName(output.title, task.name) : task.name;
    const file = await placeOutput(job.outputDir, name, output.extension, output.path, previousFile);
    if (job.deleteSegments) await rm(job.workDir, { recursive: true, force: true });
    // a stop only changes the outcome of a recording it cut short; media that ended is a success
    const stoppedByClient = run.reason === 'client' && output.partial === true;
    const shutdown = run.reason === 'shutdown' && output.partial === true;
    if (shutdown) {
      // the part recorded so far is saved under its own name; the next boot records on into a new file
      await this.repository.update(task.id, { status: DownloadStatus.Waiting, file: null, error: null, interruptedRuns: 0 });
      this.logs.append(task.id, `the service shut down during a live recording: what was recorded is saved as ${file}; recording resumes at the next start`);
      return;
    }
    const progress = this.derive(run);
    const totalBytes = progress.totalBytes ?? progress.downloadedBytes;
    await this.repository.update(task.id, {
      status: stoppedByClient ? DownloadStatus.Stopped : DownloadStatus.Success,
      file,
      name,
      nameIsDerived: task.nameIsDerived && name === task.name,
      downloadedBytes: progress.downloadedBytes,
      totalBytes,
      percent: stoppedByClient ? progress.percent : 100,
      error: null,
      queuedAt: null,
      interruptedRuns: 0,
    });
    this.logs.append(task.id, `saved ${file}`);
    // a last progress event, so that even a run shorter than one interval reports where it ended
    const finalPercent = stoppedByClient ? progress.percent : 100;
    this.emit(DownloadEvent.Progress, { id: task.id, ...progress, totalBytes, percent: finalPercent, speed: 0, eta: finalPercent === 100 ? 0 : null });
    if (stoppedByClient) this.emit(DownloadEvent.Stopped, { id: task.id });
    else if (run.reason !== 'delete') this.emit(DownloadEvent.Succeeded, { id: task.id });
  }

  private async handleFailure(task: DownloadEntity, job: DownloadJob | null, run: Run, error: unknown): Promise<void> {
    const progress = this.derive(run);
    const kept = { downloadedBytes: progress.downloadedBytes, totalBytes: progress.totalBytes, percent: progress.percent, interruptedRuns: 0 };
    if (run.controller.signal.aborted && run.reason === 'delete') return;
    if (run.controller.signal.aborted && run.reason === 'shutdown') {
      await this.repository.update(task.id, { ...kept, status: DownloadStatus.Waiting });
      this.logs.append(task.id, 'interrupted by a shutdown; it resumes at the next start');
      return;
    }
    if (run.controller.signal.aborted) {
      await this.repository.update(task.id, { ...kept, status: DownloadStatus.Stopped, queuedAt: null });
      this.logs.append(task.id, 'stopped by a client; the partial data is kept for a resume');
      this.emit(DownloadEvent.Stopped, { id: task.id });
      return;
    }
    const { message, internal, ...code } = describeFailure(error, { type: task.type, outputDir: job?.outputDir }, { workDir: job?.workDir, dataDir: this.config.dataDir });
    if (internal) this.logger.error(`task ${task.id} (${task.type}) failed because of an internal error: ${internal}`);
    const failed = { ...kept, status: DownloadStatus.Failed, error: message, queuedAt: null };
    await this.repository.update(task.id, failed).catch(async (writeError: unknown) => {
      // the disk that filled up holds the database too: the reserve makes room for this one write
      if (diskFullKind(writeError) && (await this.reserve.release())) {
        this.logger.warn(`the disk of DATA_DIR is full: its space reserve was freed to record that task ${task.id} failed`);
        await this.repository.update(task.id, failed).catch((again: unknown) => this.logger.error(`task ${task.id} failed (${message}), but its row could not be updated: ${describeError(again)}`));
      } else {
        this.logger.error(`task ${task.id} failed (${message}), but its row could not be updated: ${describeError(writeError)}`);
      }
    });
    this.logs.append(task.id, `failed: ${message}${job ? '' : ' (before the download began)'}`);
    this.emit(DownloadEvent.Failed, { id: task.id, error: message, ...code });
  }

  private onProgress(run: Run, report: ProgressReport): void {
    run.report = report;
    run.meter.record(report.downloadedBytes);
    run.changed = true;
  }

  private derive(run: Run): LiveProgress {
    return deriveProgress(run.report.downloadedBytes, run.report.totalBytes, run.report.percent, run.meter.speed());
  }

  /** At most one progress event per task and interval; the database gets it every few intervals. */
  private async tick(): Promise<void> {
    this.ticks++;
    const persist = this.ticks % PERSIST_EVERY_TICKS === 0;
    for (const [id, run] of this.runs) {
      if (run.controller.signal.aborted || run.ending) continue;
      const progress = this.derive(run);
      const last = run.lastEmitted;
      if (run.changed || !last || last.speed !== progress.speed) {
        run.changed = false;
        run.lastEmitted = progress;
        this.emit(DownloadEvent.Progress, { id, ...progress });
      }
      if (persist && !run.ending) {
        await this.repository
          .saveProgress(id, { downloadedBytes: progress.downloadedBytes, totalBytes: progress.totalBytes, percent: progress.percent })
          .catch((error) => this.logger.warn({ taskId: id, msg: `progress not saved: ${describeError(error)}` }));
      }
    }
  }

  private emit<K extends DownloadEventName>(name: K, payload: DownloadEventMap[K]): void {
    this.events.emit(name, payload);
  }
}


/** The tighter of a task's own limit and the global one, for tools that take one number (yt-dlp); null: none. */
export function effectiveSpeedLimit(task: number | null, global: number): number | null {
  const limits = [task ?? 0, global].filter((limit) => limit > 0);
  return limits.length > 0 ? Math.min(...limits) : null;
}
