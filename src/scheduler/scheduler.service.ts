import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { mkdir } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { dataDirFloor, freeBytes, formatBytes } from '../common/disk-space.js';
import { ErrorCode } from '../common/error-codes.js';
import { forwardableHeaders, parseHeaderLines } from '../common/header-lines.js';
import { localPathProblem } from '../common/local-path.js';
import { sanitizeFileName } from '../common/path-safety.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { parseQuality, storedLanguages } from '../config/media-choice.js';
import { SETTINGS_CHANGED, type SettingsChangedPayload } from '../config/config-events.js';
import { DownloaderRegistry } from '../downloaders/downloader.registry.js';
import { settleAfterAbort } from '../engine/abort.js';
import type { DownloadContext, DownloadJob, DownloadOutput, ProgressReport } from '../engine/download-job.js';
import { describeError, redactUrl } from '../engine/http-error.js';
import { RateLimiter, withSpeedLimits } from '../engine/rate-limiter.js';
import { CodedTaskError } from '../engine/task-errors.js';
import { TaskWorkspace } from '../engine/task-workspace.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import { DownloadRepository } from '../tasks/download.repository.js';
import { describeFailure } from './failure-message.js';
import { placeOutput } from './output-placement.js';
import type { RunReporter } from './run-reporter.js';
import { SpaceReserve } from './space-reserve.js';
import { type LiveProgress, SpeedMeter, deriveProgress } from './speed-meter.js';
import { TaskLogService } from './task-log.service.js';

/** Why a run was aborted: a client's stop, a delete of its task, or the service shutting down. */
export type StopReason = 'client' | 'shutdown' | 'delete';

/** One task holding a slot. */
interface Run {
  controller: AbortController;
  reason: StopReason | null;
  done: Promise<void>;
  meter: SpeedMeter;
  report: ProgressReport;
  changed: boolean;
  lastPublished: LiveProgress | null;
  /** Set once the run's outcome is being reported: progress ticks no longer report it. */
  ending: boolean;
}

/** How long a stopped run may take to notice its abort before the scheduler stops waiting for it. */
const STOP_GRACE_MS = 5_000;
const PERSIST_EVERY_TICKS = 4;
/** How often queued tasks held back by low disk space look again. */
const SPACE_RECHECK_MS = 2_000;

/**
 * Runs at most MAX_CONCURRENT_DOWNLOADS tasks at once, the rest in FIFO order, and reports what becomes of
 * each run to the lifecycle (the RunReporter attached to it). It reads tasks but never writes them.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly queue: number[] = [];
  private readonly runs = new Map<number, Run>();
  private reporter: RunReporter | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private ticks = 0;
  private closing = false;
  private startChain: Promise<unknown> = Promise.resolve();
  /** The files a re-download of a finished task may replace (its own earlier files), by task id. */
  private readonly replaceable = new Map<number, string[]>();
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
    private readonly logs: TaskLogService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.reserve = new SpaceReserve(config.dataDir);
    this.globalSpeedLimit = new RateLimiter(config.speedLimit);
  }

  /** The lifecycle attaches itself once: the scheduler reports every run to it and knows nothing above. */
  attach(reporter: RunReporter): void {
    this.reporter = reporter;
  }

  private get lifecycle(): RunReporter {
    if (!this.reporter) throw new Error('no lifecycle is attached to the scheduler');
    return this.reporter;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reserve.ensure();
    this.ticker = setInterval(() => void this.tick(), this.config.progressIntervalMs);
    this.ticker.unref();
  }

  /** No run starts from now on; running ones are the lifecycle's to end. */
  close(): void {
    this.closing = true;
    if (this.ticker) clearInterval(this.ticker);
    if (this.spaceGate) clearTimeout(this.spaceGate);
  }

  onApplicationShutdown(): void {
    this.close();
  }

  /** A raised MAX_CONCURRENT_DOWNLOADS starts queued tasks at once (a lowered one lets running tasks finish). */
  @OnEvent(SETTINGS_CHANGED)
  onSettingsChanged({ keys }: SettingsChangedPayload): void {
    if (keys.includes('speedLimit')) this.globalSpeedLimit.setRate(this.config.speedLimit);
    if (keys.includes('maxConcurrentDownloads')) this.pump();
  }

  isQueued(id: number): boolean {
    return this.queue.includes(id);
  }

  isRunning(id: number): boolean {
    return this.runs.has(id);
  }

  runningIds(): number[] {
    return [...this.runs.keys()];
  }

  /**
   * Adds a task (already written down as queued) to the back of the queue; a no-op if it is queued or running.
   * `replace` are the task's own earlier files, which a successful run may overwrite.
   */
  enqueue(id: number, replace: string[] | null = null): void {
    if (this.runs.has(id) || this.queue.includes(id)) return;
    if (replace && replace.length > 0) this.replaceable.set(id, replace);
    this.queue.push(id);
    this.pump();
  }

  /** Takes a task out of the queue before it runs; false when it was not waiting there. */
  dequeue(id: number): boolean {
    const index = this.queue.indexOf(id);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    this.replaceable.delete(id);
    return true;
  }

  /** Aborts a task's run and waits until it has ended and its outcome is reported; false when it was not running. */
  async abort(id: number, reason: StopReason): Promise<boolean> {
    const run = this.runs.get(id);
    if (!run) return false;
    run.reason ??= reason;
    run.controller.abort();
    await run.done;
    return true;
  }

  /** Aborts every run for a shutdown and waits for them, at most `graceMs`. */
  async abortAll(reason: StopReason, graceMs: number): Promise<void> {
    const running = [...this.runs.values()];
    for (const run of running) {
      run.reason ??= reason;
      run.controller.abort();
    }
    const grace = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.allSettled(running.map((run) => run.done)), grace]);
  }

  /** Frees the space kept in DATA_DIR, so that one more write can land on a full disk; false if there was none. */
  releaseSpaceReserve(): Promise<boolean> {
    return this.reserve.release();
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
        lastPublished: null,
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
      const stored = await this.repository.findById(id);
      if (!stored) return null;
      if (await this.holdForSpace(stored, run)) return null;
      this.toldAboutSpace.delete(id);
      this.warnedAboutSpace = false;
      await this.reserve.ensure();
      const previousFiles = this.replaceable.get(id) ?? null;
      this.replaceable.delete(id);
      // the lifecycle marks it started, or says it no longer runs (stopped or deleted while it waited)
      const task = await this.lifecycle.started(id);
      return task ? { task, previousFiles } : null;
    });
    if (!begun) return;
    const { task, previousFiles } = begun;
    run.report = { downloadedBytes: task.downloadedBytes, totalBytes: task.totalBytes, percent: task.percent };
    this.logs.append(id, `run started: ${task.type} ${redactUrl(task.url)}`);
    let job: DownloadJob | null = null;
    try {
      const downloader = this.registry.find(task.type);
      if (!downloader) throw new Error(`the "${task.type}" type is not available in this version of the service`);
      const workspace = await this.prepareWorkspace(task);
      if (previousFiles) await workspace.clear();
      job = this.jobFor(task, workspace);
      const outputDir = workspace.outputDir;
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
      await this.finish(task, workspace, run, output, previousFiles ?? []);
    } catch (error) {
      run.ending = true;
      await this.reportFailure(task, job, run, error);
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

  private async prepareWorkspace(task: DownloadEntity): Promise<TaskWorkspace> {
    const base = task.localPath ?? this.config.downloadDir;
    // a directory inside /proc or /sys would send the recursive mkdir round in circles
    const problem = await localPathProblem(base);
    if (problem) throw new CodedTaskError(ErrorCode.DownloadFailed, `the task's directory ${problem}`);
    await mkdir(base, { recursive: true });
    const workspace = await TaskWorkspace.of(task.id, base, task.folder);
    await workspace.create();
    return workspace;
  }

  private jobFor(task: DownloadEntity, workspace: TaskWorkspace): DownloadJob {
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
      outputDir: workspace.outputDir,
      workDir: workspace.path,
      deleteSegments: task.deleteSegments,
      speedLimit: effectiveSpeedLimit(task.speedLimit, this.config.speedLimit),
      ...effectiveChoice(task, this.config),
    };
  }

  private async finish(task: DownloadEntity, workspace: TaskWorkspace, run: Run, output: DownloadOutput, previousFiles: string[]): Promise<void> {
    const name = task.nameIsDerived && output.title ? sanitizeFileName(output.title, task.name) : task.name;
    const file = await placeOutput(workspace.outputDir, name, output.extension, output.path, previousFiles);
    // subtitles take the name the file got: "Show (1).mp4" gets "Show (1).en.vtt"
    const stem = basename(file, extname(file));
    const subtitles: string[] = [];
    for (const subtitle of output.subtitles ?? []) {
      const placed = await placeOutput(workspace.outputDir, `${stem}.${subtitle.language}`, 'vtt', subtitle.path, previousFiles);
      subtitles.push(placed);
      this.logs.append(task.id, `saved subtitles (${subtitle.language}) as ${placed}`);
    }
    // the parts of a live recording saved by earlier runs stay the task's files; a re-download started them over
    const outputs = [...new Set([...task.outputs, file, ...subtitles])];
    if (task.deleteSegments) await workspace.remove();
    // a stop only changes the outcome of a recording it cut short; media that ended is a success
    if (run.reason === 'shutdown' && output.partial === true) {
      // the part recorded so far is saved under its own name; the next boot records on into a new file
      this.logs.append(task.id, `the service shut down during a live recording: what was recorded is saved as ${file}; recording resumes at the next start`);
      await this.lifecycle.interrupted(task.id, null, outputs);
      return;
    }
    const progress = this.derive(run);
    const totalBytes = progress.totalBytes ?? progress.downloadedBytes;
    this.logs.append(task.id, `saved ${file}`);
    if (run.reason === 'client' && output.partial === true) {
      await this.lifecycle.stopped(task.id, 'client', { ...progress, totalBytes, speed: 0, eta: null }, { file, outputs });
      return;
    }
    const nameIsDerived = task.nameIsDerived && name === task.name;
    await this.lifecycle.succeeded(task.id, { file, outputs, name, nameIsDerived, progress: { ...progress, totalBytes, percent: 100, speed: 0, eta: 0 } });
  }

  private async reportFailure(task: DownloadEntity, job: DownloadJob | null, run: Run, error: unknown): Promise<void> {
    const progress = this.derive(run);
    if (run.controller.signal.aborted && run.reason !== null) {
      if (run.reason === 'shutdown') {
        this.logs.append(task.id, 'interrupted by a shutdown; it resumes at the next start');
        await this.lifecycle.interrupted(task.id, progress);
      } else {
        if (run.reason === 'client') this.logs.append(task.id, 'stopped by a client; the partial data is kept for a resume');
        await this.lifecycle.stopped(task.id, run.reason, progress);
      }
      return;
    }
    const { message, internal, ...code } = describeFailure(error, { type: task.type, outputDir: job?.outputDir }, { workDir: job?.workDir, dataDir: this.config.dataDir });
    if (internal) this.logger.error(`task ${task.id} (${task.type}) failed because of an internal error: ${internal}`);
    this.logs.append(task.id, `failed: ${message}${job ? '' : ' (before the download began)'}`);
    await this.lifecycle.failed(task.id, { message, ...code }, progress);
  }

  private onProgress(run: Run, report: ProgressReport): void {
    run.report = report;
    run.meter.record(report.downloadedBytes);
    run.changed = true;
  }

  private derive(run: Run): LiveProgress {
    return deriveProgress(run.report.downloadedBytes, run.report.totalBytes, run.report.percent, run.meter.speed());
  }

  /** At most one progress report per task and interval; every few intervals it is to be written down too. */
  private async tick(): Promise<void> {
    this.ticks++;
    const persist = this.ticks % PERSIST_EVERY_TICKS === 0;
    for (const [id, run] of this.runs) {
      if (run.controller.signal.aborted || run.ending) continue;
      const progress = this.derive(run);
      const last = run.lastPublished;
      const publish = run.changed || !last || last.speed !== progress.speed;
      if (publish) {
        run.changed = false;
        run.lastPublished = progress;
      }
      if (publish || persist) {
        await this.lifecycle.progress(id, progress, { publish, persist }).catch((error: unknown) => this.logger.warn({ taskId: id, msg: `progress not saved: ${describeError(error)}` }));
      }
    }
  }
}

/** The task's own media choice where it has one, else the installation's default, as a run gets it. */
export function effectiveChoice(
  task: Pick<DownloadEntity, 'quality' | 'audioLanguage' | 'subtitleLanguages'>,
  defaults: Pick<AppConfig, 'defaultQuality' | 'defaultAudioLanguage' | 'defaultSubtitleLanguages'>,
): Pick<DownloadJob, 'quality' | 'audioLanguages' | 'subtitleLanguages'> {
  return {
    quality: (task.quality !== null ? parseQuality(task.quality) : null) ?? defaults.defaultQuality,
    audioLanguages: storedLanguages(task.audioLanguage) ?? defaults.defaultAudioLanguage,
    subtitleLanguages: storedLanguages(task.subtitleLanguages) ?? defaults.defaultSubtitleLanguages,
  };
}

/** The tighter of a task's own limit and the global one, for tools that take one number (yt-dlp); null: none. */
export function effectiveSpeedLimit(task: number | null, global: number): number | null {
  const limits = [task ?? 0, global].filter((limit) => limit > 0);
  return limits.length > 0 ? Math.min(...limits) : null;
}
