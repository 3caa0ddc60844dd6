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
import { DownloadRepository, type RunLease } from '../tasks/download.repository.js';
import { describeFailure } from './failure-message.js';
import { placeOutput } from './output-placement.js';
import type { RunReporter } from './run-reporter.js';
import { SpaceReserve } from './space-reserve.js';
import { type LiveProgress, SpeedMeter, deriveProgress } from './speed-meter.js';
import { TaskLogService } from './task-log.service.js';

/** Why a run was aborted: a client's stop, a delete of its task, the service shutting down, or its lease lost to another node. */
export type StopReason = 'client' | 'shutdown' | 'delete' | 'lease-lost';

/** One task holding a slot. */
interface Run {
  lease: RunLease;
  /** When its lease was last known to be held: a run that cannot renew it for a whole lease stops. */
  renewedAt: number;
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
/** How often the queue is looked at without a wake-up (tasks queued by a node whose wake-up was missed). */
const POLL_MS = 2_000;

/**
 * Runs at most MAX_CONCURRENT_DOWNLOADS tasks at once. The queue is the tasks table: with a free slot it asks the
 * lifecycle to claim the oldest queued task (FIFO by queuedAt, across every node sharing the database), keeps the
 * leases of its runs alive, and reports what becomes of each run. It reads tasks but never writes them.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly runs = new Map<number, Run>();
  /** A claim under way: a stop that comes meanwhile waits for it, so that it finds the run. */
  private claiming: Promise<unknown> | null = null;
  private pumping = false;
  private pumpAgain = false;
  private poller: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private reporter: RunReporter | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private ticks = 0;
  private closing = false;
  /** SPEED_LIMIT: shared by every running task; a settings change applies to the next chunk of each. */
  private readonly globalSpeedLimit: RateLimiter;
  /** While set, free space is below MIN_FREE_SPACE where the next task saves: queued tasks stay queued. */
  private spaceGate: NodeJS.Timeout | null = null;
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
    // a lease is renewed three times in its life: one late heartbeat does not lose it
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(500, Math.floor(this.config.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** Claims from now on: the lifecycle says when, once it has recovered what the last run of the service left. */
  begin(): void {
    if (this.closing || this.poller) return;
    this.poller = setInterval(() => this.wake(), POLL_MS);
    this.poller.unref();
    this.wake();
  }

  /** No run starts from now on; running ones are the lifecycle's to end. */
  close(): void {
    this.closing = true;
    for (const timer of [this.ticker, this.poller, this.heartbeat]) if (timer) clearInterval(timer);
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

  /** True while this node runs the task. */
  isRunning(id: number): boolean {
    return this.runs.has(id);
  }

  /** The leases of this node's runs. */
  runningLeases(): RunLease[] {
    return [...this.runs.values()].map((run) => run.lease);
  }

  /** Tasks were queued (here or on another node): free slots claim them. */
  wake(): void {
    if (this.poller) void this.pump();
  }

  /** Aborts a task's run and waits until it has ended and its outcome is reported; false when this node does not run it. */
  async abort(id: number, reason: StopReason): Promise<boolean> {
    if (!this.runs.has(id) && this.claiming) await this.claiming.catch(() => undefined);
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

  /** Claims queued tasks while slots are free; one claim at a time, again when woken meanwhile. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (!this.closing && !this.spaceGate && this.runs.size < this.config.maxConcurrentDownloads) {
          const claim = this.claimOne();
          this.claiming = claim;
          const claimed = await claim.finally(() => (this.claiming = null));
          if (!claimed) break;
        }
      } while (this.pumpAgain && !this.closing);
    } catch (error) {
      this.logger.warn(`the queue could not be read: ${describeError(error)}; trying again in a moment`);
    } finally {
      this.pumping = false;
    }
  }

  /** Claims the next queued task if its disk has room, and starts its run; false when nothing was started. */
  private async claimOne(): Promise<boolean> {
    const next = await this.repository.peekNextQueued();
    if (!next) return false;
    if (await this.holdForSpace(next)) return false;
    this.toldAboutSpace.delete(next.id);
    this.warnedAboutSpace = false;
    await this.reserve.ensure();
    const task = await this.lifecycle.claim();
    if (!task) return false;
    const run: Run = {
      lease: { id: task.id, token: task.leaseToken! },
      renewedAt: Date.now(),
      controller: new AbortController(),
      reason: null,
      done: Promise.resolve(),
      meter: new SpeedMeter(),
      report: { downloadedBytes: task.downloadedBytes, totalBytes: task.totalBytes, percent: task.percent },
      changed: false,
      lastPublished: null,
      ending: false,
    };
    this.runs.set(task.id, run);
    run.done = this.execute(task, run)
      .catch((error) => this.logger.error({ taskId: task.id, msg: `the run ended with an error of its own: ${describeError(error)}` }))
      .finally(() => {
        this.runs.delete(task.id);
        this.wake();
      });
    return true;
  }

  /** Keeps this node's leases alive; a run whose lease another node took is aborted without a word written. */
  private async renewLeases(): Promise<void> {
    if (this.runs.size === 0) return;
    const asked = Date.now();
    let lost: Set<string>;
    try {
      lost = new Set(await this.lifecycle.heartbeat(this.runningLeases()));
    } catch (error) {
      // the database does not answer: once a whole lease has passed, another node may run the task
      this.logger.warn(`leases not renewed: ${describeError(error)}`);
      for (const [id, run] of this.runs) {
        if (run.ending || asked - run.renewedAt <= this.config.leaseMs) continue;
        this.logs.append(id, 'the database did not answer for a whole lease: the run here stops (its partial data stays) and the task runs again when the database is back');
        run.reason ??= 'lease-lost';
        run.controller.abort();
      }
      return;
    }
    for (const [id, run] of this.runs) {
      if (!lost.has(run.lease.token)) {
        run.renewedAt = asked;
        continue;
      }
      // a run that is writing its end has given its lease back itself
      if (run.ending) continue;
      this.logs.append(id, 'this node lost its lease on the task (another node took it over): the run here stops and writes nothing more');
      run.reason ??= 'lease-lost';
      run.controller.abort();
    }
  }

  private async execute(task: DownloadEntity, run: Run): Promise<void> {
    const id = task.id;
    const previousFile = task.replacesFile;
    this.logs.append(id, `run started: ${task.type} ${redactUrl(task.url)}`);
    let job: DownloadJob | null = null;
    try {
      const downloader = this.registry.find(task.type);
      if (!downloader) throw new Error(`the "${task.type}" type is not available in this version of the service`);
      const workspace = await this.prepareWorkspace(task);
      if (previousFile) await workspace.clear();
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
      await this.finish(task, workspace, run, output, previousFile);
    } catch (error) {
      run.ending = true;
      await this.reportFailure(task, job, run, error);
    }
  }

  /**
   * Leaves the next task queued, unclaimed, while free space where it saves (or in DATA_DIR) is below
   * MIN_FREE_SPACE; looks again every few seconds. True when it was held.
   */
  private async holdForSpace(task: DownloadEntity): Promise<boolean> {
    const floor = this.config.minFreeSpaceBytes;
    if (floor <= 0) return false;
    const places: Array<[string, string, number]> = [
      [task.localPath ?? this.config.downloadDir, 'where it saves', floor],
      [this.config.dataDir, 'in DATA_DIR', dataDirFloor(floor)],
    ];
    for (const [path, label, needed] of places) {
      const free = await freeBytes(path).catch(() => null);
      if (free === null || free >= needed) continue;
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
    this.wake();
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

  private async finish(task: DownloadEntity, workspace: TaskWorkspace, run: Run, output: DownloadOutput, previousFile: string | null): Promise<void> {
    // a node that was cut off (frozen, partitioned) may finish a run another node took over: it places no file
    if ((await this.lifecycle.heartbeat([run.lease])).length > 0) {
      this.logs.append(task.id, 'this node lost its lease on the task (another node took it over): what it downloaded is left unplaced');
      return;
    }
    const name = task.nameIsDerived && output.title ? sanitizeFileName(output.title, task.name) : task.name;
    // a re-download may replace the task's own earlier files (its file and subtitles), never another task's
    const ownFiles = previousFile ? [previousFile, ...task.outputs] : [];
    const file = await placeOutput(workspace.outputDir, name, output.extension, output.path, ownFiles);
    // subtitles take the name the file got: "Show (1).mp4" gets "Show (1).en.vtt"
    const stem = basename(file, extname(file));
    const subtitles: string[] = [];
    for (const subtitle of output.subtitles ?? []) {
      const placed = await placeOutput(workspace.outputDir, `${stem}.${subtitle.language}`, 'vtt', subtitle.path, ownFiles);
      subtitles.push(placed);
      this.logs.append(task.id, `saved subtitles (${subtitle.language}) as ${placed}`);
    }
    // the parts of a live recording saved by earlier runs stay the task's files; a re-download's files replace the earlier ones
    const outputs = [...new Set([...(previousFile ? [] : task.outputs), file, ...subtitles])];
    if (task.deleteSegments) await workspace.remove();
    // a stop only changes the outcome of a recording it cut short; media that ended is a success
    if (run.reason === 'shutdown' && output.partial === true) {
      // the part recorded so far is saved under its own name; the next boot records on into a new file
      this.logs.append(task.id, `the service shut down during a live recording: what was recorded is saved as ${file}; recording resumes at the next start`);
      await this.lifecycle.interrupted(run.lease, null, outputs);
      return;
    }
    const progress = this.derive(run);
    const totalBytes = progress.totalBytes ?? progress.downloadedBytes;
    this.logs.append(task.id, `saved ${file}`);
    if (run.reason === 'client' && output.partial === true) {
      await this.lifecycle.stopped(run.lease, 'client', { ...progress, totalBytes, speed: 0, eta: null }, { file, outputs });
      return;
    }
    const nameIsDerived = task.nameIsDerived && name === task.name;
    await this.lifecycle.succeeded(run.lease, { file, outputs, name, nameIsDerived, progress: { ...progress, totalBytes, percent: 100, speed: 0, eta: 0 } });
  }

  private async reportFailure(task: DownloadEntity, job: DownloadJob | null, run: Run, error: unknown): Promise<void> {
    const progress = this.derive(run);
    if (run.controller.signal.aborted && run.reason !== null) {
      // another node runs the task now: nothing about this run may be written
      if (run.reason === 'lease-lost') return;
      if (run.reason === 'shutdown') {
        this.logs.append(task.id, 'interrupted by a shutdown; it resumes at the next start');
        await this.lifecycle.interrupted(run.lease, progress);
      } else {
        if (run.reason === 'client') this.logs.append(task.id, 'stopped by a client; the partial data is kept for a resume');
        await this.lifecycle.stopped(run.lease, run.reason, progress);
      }
      return;
    }
    const { message, internal, ...code } = describeFailure(error, { type: task.type, outputDir: job?.outputDir }, { workDir: job?.workDir, dataDir: this.config.dataDir });
    if (internal) this.logger.error(`task ${task.id} (${task.type}) failed because of an internal error: ${internal}`);
    this.logs.append(task.id, `failed: ${message}${job ? '' : ' (before the download began)'}`);
    await this.lifecycle.failed(run.lease, { message, ...code }, progress);
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
        await this.lifecycle.progress(run.lease, progress, { publish, persist }).catch((error: unknown) => this.logger.warn({ taskId: id, msg: `progress not saved: ${describeError(error)}` }));
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
