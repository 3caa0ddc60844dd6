// The medium tier: the lifecycle and the scheduler as Nest assembles them, on a real SQLite file in a
// temporary directory, with a scripted strategy registered under the DOWNLOADERS token in place of the real ones.
import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { DownloadType } from '../common/download-type.enum.js';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { pathExists } from '../common/file-system.js';
import { type AppConfig, loadConfig } from '../config/app-config.js';
import { ConfigModule } from '../config/config.module.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { DOWNLOADERS, type Downloader } from '../downloaders/downloader.interface.js';
import { DownloaderRegistry } from '../downloaders/downloader.registry.js';
import { abortError } from '../engine/abort.js';
import type { DownloadContext, DownloadJob, DownloadOutput } from '../engine/download-job.js';
import { ClusterBus } from '../cluster/cluster-bus.service.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { TaskLogService } from '../scheduler/task-log.service.js';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import { DownloadEntity } from '../tasks/download.entity.js';
import { DownloadRepository, newDownload } from '../tasks/download.repository.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { TaskLifecycleService } from './task-lifecycle.service.js';

/** What the scripted strategy does with a run: the test decides per task and per run. */
type Behaviour =
  | 'succeed'
  /** writes a part file, reports progress and waits to be aborted */
  | 'hang'
  | 'fail'
  /** records chunks until aborted, then resolves with the part recorded: a live stream */
  | 'live'
  /** succeeds after a few turns of the event loop, unless aborted first */
  | 'brief';

interface RunRecord {
  id: number;
  run: number;
  /** The partial data of an earlier run was there when this run began. */
  resumed: boolean;
  aborted: boolean;
}

/** A strategy that does what each test scripts, on real files in the task's working directory. */
class ScriptedDownloader implements Downloader {
  readonly type = DownloadType.Direct;
  readonly runs: RunRecord[] = [];
  private readonly running = new Map<number, number>();
  /** The most runs of one task at the same time. */
  maxConcurrentPerTask = 0;

  constructor(private readonly script: (job: DownloadJob, run: number) => Behaviour) {}

  async run(job: DownloadJob, ctx: DownloadContext): Promise<DownloadOutput> {
    const number = this.runs.filter((record) => record.id === job.id).length + 1;
    const part = join(job.workDir, 'part');
    const record: RunRecord = { id: job.id, run: number, resumed: await pathExists(part), aborted: false };
    this.runs.push(record);
    const now = (this.running.get(job.id) ?? 0) + 1;
    this.running.set(job.id, now);
    this.maxConcurrentPerTask = Math.max(this.maxConcurrentPerTask, now);
    try {
      return await this.perform(this.script(job, number), job, ctx, part, number, record);
    } finally {
      this.running.set(job.id, (this.running.get(job.id) ?? 1) - 1);
    }
  }

  private async perform(behaviour: Behaviour, job: DownloadJob, ctx: DownloadContext, part: string, number: number, record: RunRecord): Promise<DownloadOutput> {
    const output = join(job.workDir, `output-${number}.bin`);
    switch (behaviour) {
      case 'succeed':
        await writeFile(part, 'x'.repeat(1000));
        ctx.progress({ downloadedBytes: 1000, totalBytes: 1000 });
        await writeFile(output, `run ${number} of task ${job.id}`);
        return { path: output, extension: 'bin' };
      case 'fail':
        throw new Error('the origin answered 404 Not Found');
      case 'brief':
        for (let turn = 0; turn < 5; turn++) {
          await new Promise((resolve) => setImmediate(resolve));
          if (ctx.signal.aborted) {
            record.aborted = true;
            throw abortError(ctx.signal);
          }
        }
        await writeFile(output, `run ${number} of task ${job.id}`);
        return { path: output, extension: 'bin' };
      case 'hang':
        await writeFile(part, 'x'.repeat(1000));
        ctx.progress({ downloadedBytes: 1000, totalBytes: 4000 });
        await untilAborted(ctx.signal);
        record.aborted = true;
        throw abortError(ctx.signal);
      case 'live': {
        let recorded = 0;
        while (!ctx.signal.aborted) {
          recorded += 100;
          ctx.progress({ downloadedBytes: recorded, totalBytes: null });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        record.aborted = true;
        await writeFile(output, `recording ${number}: ${recorded} bytes`);
        return { path: output, extension: 'bin', partial: true };
      }
    }
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

@Module({})
class LifecycleTierModule {
  static register(config: AppConfig, downloader: Downloader): DynamicModule {
    return {
      module: LifecycleTierModule,
      imports: [ConfigModule.forRoot(config), TypeOrmModule.forRoot(dataSourceOptions(config.dataDir)), EventEmitterModule.forRoot(), TasksModule],
      providers: [
        { provide: DOWNLOADERS, useValue: [downloader] },
        DownloaderRegistry,
        TaskLogService,
        SchedulerService,
        ClusterBus,
        TaskLifecycleService,
        // listening from the start: what the boot itself publishes is recorded too
        {
          provide: EVENT_LOG,
          inject: [EventEmitter2],
          useFactory: (emitter: EventEmitter2) => {
            const log: Recorded[] = [];
            emitter.onAny((name, payload: Record<string, unknown>) => log.push({ name: String(name), id: payload.id as number | undefined, payload }));
            return log;
          },
        },
      ],
    };
  }
}

interface Recorded {
  name: string;
  id: number | undefined;
  payload: Record<string, unknown>;
}

/** One boot of the lifecycle tier: its services, and every event it publishes, in order. */
const EVENT_LOG = Symbol('EVENT_LOG');

class Tier {
  readonly events: Recorded[];
  readonly lifecycle: TaskLifecycleService;
  readonly repository: DownloadRepository;
  readonly scheduler: SchedulerService;

  private constructor(
    readonly context: INestApplicationContext,
    readonly downloader: ScriptedDownloader,
  ) {
    this.lifecycle = context.get(TaskLifecycleService);
    this.repository = context.get(DownloadRepository);
    this.scheduler = context.get(SchedulerService);
    this.events = context.get(EVENT_LOG);
  }

  static async boot(config: AppConfig, script: (job: DownloadJob, run: number) => Behaviour): Promise<Tier> {
    const downloader = new ScriptedDownloader(script);
    const context = await NestFactory.createApplicationContext(LifecycleTierModule.register(config, downloader), { logger: false });
    await context.init();
    return new Tier(context, downloader);
  }

  async create(count: number, start: boolean, name = 'clip'): Promise<DownloadEntity[]> {
    const rows = Array.from({ length: count }, (_, index) =>
      newDownload({ type: DownloadType.Direct, url: `https://media.example/${name}-${index}.bin`, name: `${name}-${index}`, nameIsDerived: false, folder: '', headers: '', isLive: false, speedLimit: null }, null),
    );
    const saved = await this.lifecycle.create(rows, false);
    if (start) for (const task of saved) await this.lifecycle.start(task.id, {});
    return saved;
  }

  eventsOf(id: number): string[] {
    return this.events.filter((event) => event.id === id && event.name !== 'download.progress').map((event) => event.name.replace('download.', ''));
  }

  async row(id: number): Promise<DownloadEntity> {
    const task = await this.repository.findById(id);
    assert.ok(task, `task ${id} exists`);
    return task;
  }

  close(): Promise<void> {
    return this.context.close();
  }
}

/** The rows as stored, read through a data source of their own. */
async function readRows(config: AppConfig): Promise<DownloadEntity[]> {
  const source = new DataSource({ ...dataSourceOptions(config.dataDir), migrationsRun: false });
  await source.initialize();
  try {
    return await source.getRepository(DownloadEntity).find({ order: { id: 'ASC' } });
  } finally {
    await source.destroy();
  }
}

/** Polls until the condition holds; fails after a bounded wait. */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, describe?: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}${describe ? `: ${await describe()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const scriptByName =
  (byName: Record<string, Behaviour | Behaviour[]>) =>
  (job: DownloadJob, run: number): Behaviour => {
    const given = byName[job.name] ?? 'succeed';
    return Array.isArray(given) ? (given[run - 1] ?? given[given.length - 1]) : given;
  };

describe('the task lifecycle and the scheduler on a real SQLite file (medium tier)', () => {
  let root: string;
  let config: AppConfig;
  const open: Tier[] = [];

  const boot = async (script: (job: DownloadJob, run: number) => Behaviour, env: Record<string, string> = {}): Promise<Tier> => {
    config = loadConfig({ DATA_DIR: join(root, 'data'), DOWNLOAD_DIR: join(root, 'downloads'), MIN_FREE_SPACE: '0', MAX_CONCURRENT_DOWNLOADS: '1', ...env });
    const tier = await Tier.boot(config, script);
    open.push(tier);
    return tier;
  };
  const shutDown = async (tier: Tier): Promise<void> => {
    open.splice(open.indexOf(tier), 1);
    await tier.close();
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mediago-lifecycle-'));
  });
  afterEach(async () => {
    for (const tier of open.splice(0)) await tier.close();
    await rm(root, { recursive: true, force: true });
  });
  after(async () => {
    for (const tier of open.splice(0)) await tier.close();
  });

  it('runs queued tasks one at a time, in order, to success', async () => {
    const tier = await boot(scriptByName({}));
    const [a, b] = await tier.create(2, true);
    await waitFor('both succeed', async () => (await tier.row(b.id)).status === DownloadStatus.Success);
    const [first, second] = [await tier.row(a.id), await tier.row(b.id)];
    assert.equal(first.status, DownloadStatus.Success);
    assert.deepEqual([first.queuedAt, first.interruptedRuns, first.percent], [null, 0, 100]);
    assert.equal(await readFile(first.file!, 'utf8'), `run 1 of task ${a.id}`);
    assert.equal(await readFile(second.file!, 'utf8'), `run 1 of task ${b.id}`);
    assert.deepEqual(tier.eventsOf(a.id), ['updated', 'started', 'succeeded']);
    assert.deepEqual(
      tier.events.filter((event) => event.name === 'download.started').map((event) => event.id),
      [a.id, b.id],
    );
  });

  it('a stop while queued takes the task out of the queue at once; it never runs', async () => {
    const tier = await boot(scriptByName({ 'clip-0': 'hang' }));
    const [running, queued] = await tier.create(2, true);
    await waitFor('the first runs', () => tier.scheduler.isRunning(running.id));
    await tier.lifecycle.stop(queued.id);
    const stopped = await tier.row(queued.id);
    assert.deepEqual([stopped.status, stopped.queuedAt], [DownloadStatus.Stopped, null]);
    assert.deepEqual(tier.eventsOf(queued.id), ['updated', 'stopped']);
    assert.equal(tier.scheduler.isRunning(queued.id), false);

    await tier.lifecycle.stop(running.id);
    const ended = await tier.row(running.id);
    assert.deepEqual([ended.status, ended.queuedAt, ended.downloadedBytes], [DownloadStatus.Stopped, null, 1000]);
    assert.equal(
      tier.downloader.runs.some((record) => record.id === queued.id),
      false,
      'the stopped task never ran',
    );
    assert.deepEqual(tier.eventsOf(running.id), ['updated', 'started', 'stopped']);
  });

  it('a delete during a run stops it, removes its partial data and row, and nothing is written after', async () => {
    const tier = await boot(scriptByName({ 'clip-0': 'hang' }));
    const [task] = await tier.create(1, true);
    await waitFor('it runs', () => tier.downloader.runs.length === 1 && tier.scheduler.isRunning(task.id));
    const workDir = join(config.downloadDir, `.mediago-task-${task.id}`);
    await waitFor('its partial data is on disk', () => pathExists(join(workDir, 'part')));
    await tier.lifecycle.delete(task.id, true);
    assert.equal(await tier.repository.findById(task.id), null);
    assert.equal(await pathExists(workDir), false);
    assert.equal(tier.downloader.runs[0].aborted, true);
    assert.deepEqual(tier.eventsOf(task.id), ['updated', 'started', 'stopped', 'deleted']);
    await assert.rejects(tier.lifecycle.start(task.id, {}), (error: unknown) => error instanceof ApiError && error.errorCode === ErrorCode.DownloadNotFound);
  });

  it('a shutdown leaves running and queued tasks queued with their progress; the next boot resumes them in order', async () => {
    const first = await boot(scriptByName({ 'clip-0': 'hang' }));
    const [running, queued] = await first.create(2, true);
    await waitFor('the first runs', () => first.downloader.runs.length === 1 && first.scheduler.isRunning(running.id));
    await shutDown(first);

    const second = await boot(scriptByName({ 'clip-0': 'succeed' }));
    // rows as the shutdown left them are read before anything runs again: the boot queued them in order
    await waitFor('both succeed', async () => (await second.row(queued.id)).status === DownloadStatus.Success);
    assert.deepEqual(
      second.events.filter((event) => event.name === 'download.started').map((event) => event.id),
      [running.id, queued.id],
    );
    const resumed = second.downloader.runs.find((record) => record.id === running.id);
    assert.equal(resumed?.resumed, true, 'the partial data of the interrupted run was still there');
    const done = await second.row(running.id);
    assert.deepEqual([done.status, done.interruptedRuns, done.queuedAt], [DownloadStatus.Success, 0, null]);
  });

  it('the rows a shutdown leaves: still queued, figures kept, no crash counted', async () => {
    const first = await boot(scriptByName({ 'clip-0': 'hang' }));
    const [running, queued] = await first.create(2, true);
    await waitFor('it runs', () => first.downloader.runs.length === 1 && first.scheduler.isRunning(running.id));
    const queuedAt = (await first.row(running.id)).queuedAt;
    await shutDown(first);
    // read straight from the file: a boot would queue them again
    const rows = await readRows(config);
    const interrupted = rows.find((row) => row.id === running.id)!;
    assert.deepEqual(
      [interrupted.status, interrupted.queuedAt, interrupted.interruptedRuns, interrupted.downloadedBytes, interrupted.totalBytes],
      [DownloadStatus.Waiting, queuedAt, 0, 1000, 4000],
    );
    const waiting = rows.find((row) => row.id === queued.id)!;
    assert.equal(waiting.status, DownloadStatus.Waiting);
    assert.ok(waiting.queuedAt && waiting.queuedAt > queuedAt!, 'queued after the first, as before');
  });

  it('a live recording cut by a shutdown keeps its part; after the boot it records on, and a stop keeps the new part as the file', async () => {
    const first = await boot(scriptByName({ 'clip-0': 'live' }));
    const [task] = await first.create(1, true);
    await waitFor('it records', () => first.downloader.runs.length === 1 && first.scheduler.isRunning(task.id));
    await shutDown(first);
    const saved = await readdir(config.downloadDir);
    assert.ok(saved.includes('clip-0.bin'), `the first part is saved: ${saved.join(', ')}`);

    const second = await boot(scriptByName({ 'clip-0': 'live' }));
    await waitFor('it records again', () => second.downloader.runs.length === 1 && second.scheduler.isRunning(task.id));
    await second.lifecycle.stop(task.id);
    const row = await second.row(task.id);
    assert.equal(row.status, DownloadStatus.Stopped);
    assert.ok(row.file && row.file !== join(config.downloadDir, 'clip-0.bin'), `the second part is its own file: ${row.file}`);
    assert.match(await readFile(row.file, 'utf8'), /^recording 1: \d+ bytes$/);
    assert.match(await readFile(join(config.downloadDir, 'clip-0.bin'), 'utf8'), /^recording 1: \d+ bytes$/, 'the first part is untouched');
    assert.deepEqual(second.eventsOf(task.id), ['started', 'stopped']);
    assert.deepEqual(row.outputs, [join(config.downloadDir, 'clip-0.bin'), row.file], 'both parts are files of the task');

    await second.lifecycle.delete(task.id, true);
    assert.deepEqual((await readdir(config.downloadDir)).filter((name) => !name.startsWith('.')), [], 'deleteFile removes every part');
  });

  it('a finished task downloaded again starts from an empty workspace and replaces its own file', async () => {
    const tier = await boot(scriptByName({}));
    const [task] = await tier.create(1, false);
    await tier.lifecycle.start(task.id, { deleteSegments: false });
    await waitFor('run 1 succeeds', async () => (await tier.row(task.id)).status === DownloadStatus.Success);
    const firstFile = (await tier.row(task.id)).file!;
    await tier.lifecycle.start(task.id, { deleteSegments: false });
    await waitFor('run 2 succeeds', async () => tier.downloader.runs.length === 2 && (await tier.row(task.id)).status === DownloadStatus.Success);
    const row = await tier.row(task.id);
    assert.equal(row.file, firstFile, 'the same file, replaced');
    assert.equal(await readFile(row.file!, 'utf8'), `run 2 of task ${task.id}`);
    assert.equal(tier.downloader.runs[1].resumed, false, 'the workspace was cleared for the new run');
    assert.deepEqual(
      (await readdir(config.downloadDir)).filter((name) => !name.startsWith('.')),
      ['clip-0.bin'],
    );
  });

  it('a failed run writes the error and publishes it; start runs it again', async () => {
    const tier = await boot(scriptByName({ 'clip-0': ['fail', 'succeed'] }));
    const [task] = await tier.create(1, true);
    await waitFor('its failure is published', () => tier.events.some((candidate) => candidate.name === 'download.failed'));
    const failed = await tier.row(task.id);
    assert.match(failed.error ?? '', /404/);
    const event = tier.events.find((candidate) => candidate.name === 'download.failed');
    assert.equal(event?.payload.errorCode, ErrorCode.DownloadFailed);
    await tier.lifecycle.start(task.id, {});
    await waitFor('it succeeds', async () => (await tier.row(task.id)).status === DownloadStatus.Success);
    assert.equal((await tier.row(task.id)).error, null);
  });

  it('illegal commands are rejected with their errorCode and change nothing', async () => {
    const tier = await boot(scriptByName({ 'clip-0': 'hang' }));
    const [task] = await tier.create(1, true);
    await waitFor('it downloads', async () => (await tier.row(task.id)).status === DownloadStatus.Downloading);
    const before = await tier.row(task.id);
    await assert.rejects(tier.lifecycle.edit(task.id, () => ({ name: 'renamed' })), (error: unknown) => error instanceof ApiError && error.errorCode === ErrorCode.TaskRunning);
    await assert.rejects(tier.lifecycle.mark([task.id], DownloadStatus.Success), (error: unknown) => error instanceof ApiError && error.errorCode === ErrorCode.TaskRunning);
    await assert.rejects(tier.lifecycle.stop(999_999), (error: unknown) => error instanceof ApiError && error.getStatus() === 404);
    const after = await tier.row(task.id);
    assert.deepEqual([after.name, after.status, after.updatedDate], [before.name, before.status, before.updatedDate]);
  });

  it('50 commands racing on one task leave it consistent: one run at a time, every run ended once, the row as the last event says', async () => {
    const tier = await boot(() => 'brief', { MAX_CONCURRENT_DOWNLOADS: '2' });
    const [task] = await tier.create(1, false);
    // a fixed sequence (a small linear congruential generator), so that a failure repeats
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const commands: Array<() => Promise<unknown>> = [
      () => tier.lifecycle.start(task.id, {}),
      () => tier.lifecycle.stop(task.id),
      () => tier.lifecycle.setLive(task.id, next() < 0.5),
      () => tier.lifecycle.edit(task.id, () => ({ name: `name-${Math.floor(next() * 100)}` })),
      () => tier.lifecycle.mark([task.id], next() < 0.5 ? DownloadStatus.Success : DownloadStatus.Failed),
    ];
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => commands[Math.floor(next() * commands.length)]()));
    for (const result of results) {
      if (result.status === 'rejected') assert.ok(result.reason instanceof ApiError && result.reason.errorCode === ErrorCode.TaskRunning, `only "task_running" may be refused: ${String(result.reason)}`);
    }
    assert.ok(results.some((result) => result.status === 'fulfilled'));
    await waitFor('the task is idle', async () => !tier.scheduler.isRunning(task.id) && (await tier.row(task.id)).queuedAt === null, 20_000, async () => JSON.stringify({ row: await tier.row(task.id), events: tier.eventsOf(task.id).slice(-8) }));
    await tier.lifecycle.stop(task.id);

    assert.ok(tier.downloader.runs.length > 1, `the commands ran the task more than once (${tier.downloader.runs.length} runs)`);
    assert.equal(tier.downloader.maxConcurrentPerTask, 1, 'never two runs of one task at once');
    // every "started" is followed by exactly one end of that run before the next start
    let open = false;
    for (const name of tier.eventsOf(task.id)) {
      if (name === 'started') {
        assert.equal(open, false, `a run started while another was open: ${tier.eventsOf(task.id).join(' ')}`);
        open = true;
      } else if (['succeeded', 'failed', 'stopped'].includes(name) && open) open = false;
    }
    assert.equal(open, false, 'the last run ended');
    const row = await tier.row(task.id);
    assert.notEqual(row.status, DownloadStatus.Downloading);
    assert.equal(row.queuedAt, null);
    assert.equal(row.interruptedRuns, 0);
    assert.equal(tier.downloader.runs.length, tier.events.filter((event) => event.name === 'download.started').length, 'each run was announced once');
  });
});
