import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { createApp } from '../src/bootstrap.js';
import { loadConfig } from '../src/config/app-config.js';
import { OriginServer } from './fixtures/origin-server.js';
import { callApi, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';
import { ServiceProcess, bootAndExit } from './helpers/service-process.js';
import { SseRecorder } from './helpers/sse-client.js';

const MiB = 1024 * 1024;
const TiB = 1024 ** 4;
const isRoot = process.getuid?.() === 0;

/** A small tmpfs, so that a full disk is a real one; needs root (mount). */
async function mountSmallDisk(sizeMiB: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mediago-small-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`mount failed: ${mounted.stderr}`);
  return dir;
}

async function unmount(dir: string): Promise<void> {
  spawnSync('umount', ['-l', dir]);
  await rm(dir, { recursive: true, force: true });
}

async function freeOn(dir: string): Promise<number> {
  const info = await statfs(dir);
  return info.bavail * info.bsize;
}

// the tests are independent (own directories, own routes): they run side by side to keep the wall time short
describe('full disks, crash loops, bad paths and what users read', { concurrency: 4 }, () => {
  let origin: OriginServer;
  let scratch: string;

  before(async () => {
    origin = new OriginServer()
      .route('/slow.bin', { body: randomBytes(4 * MiB), bytesPerSecond: 256 * 1024 })
      .route('/small.bin', { body: randomBytes(512 * 1024) })
      .route('/held.bin', { body: randomBytes(512 * 1024) })
      .route('/chunked.bin', { body: randomBytes(16 * MiB), hideLength: true, ranges: false })
      .route('/known.bin', { body: randomBytes(16 * MiB) })
      .route('/huge.bin', {
        // announces 1 TiB and then trickles: the service must refuse before writing
        handler: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TiB) });
          const timer = setInterval(() => res.write(Buffer.alloc(1024)), 100);
          res.on('close', () => clearInterval(timer));
        },
      })
      .route('/doctype.mpd', {
        contentType: 'application/dash+xml',
        body:
          '<?xml version="1.0"?>\n<!DOCTYPE MPD>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S" minBufferTime="PT1S" ' +
          'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1000" ' +
          'codecs="avc1.4d401e" width="320" height="240"><BaseURL>v.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>\n',
      });
    await origin.start();
    scratch = await mkdtemp(join(tmpdir(), 'mediago-disk-e2e-'));
  });

  after(async () => {
    await origin.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('fails a task whose runs died with the process twice (kill -9), while SIGTERM never counts', async () => {
    const root = join(scratch, 'crash-loop');
    const env = { DIRECT_CONNECTIONS: '1' };
    const runStarted = async (service: ServiceProcess, id: number) => {
      try {
        await waitFor(async () => (await service.api('GET', `/api/downloads/${id}`)).body.data.status === 'downloading', 45_000, 'the run to start');
      } catch (error) {
        // what the task and the service said, for a failure seen once on a loaded machine and not since
        const task = (await service.api('GET', `/api/downloads/${id}`)).body.data;
        const { log } = (await service.api('GET', `/api/downloads/${id}/logs`)).body.data;
        throw new Error(`${(error as Error).message}; the task: ${JSON.stringify(task)}\nits log:\n${log}\nthe service:\n${service.output.slice(-4000)}`, { cause: error });
      }
    };

    // a clean shutdown first: it must not count towards the limit of two
    const first = new ServiceProcess(root, env);
    await first.start();
    let id: number;
    try {
      id = (await first.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/slow.bin'), name: 'loop' }], startDownload: true })).body.data[0].id;
      await runStarted(first, id);
    } finally {
      await first.kill('SIGTERM');
    }

    for (const crash of [1, 2]) {
      const service = new ServiceProcess(root, env);
      await service.start();
      try {
        const log = (await service.api('GET', `/api/downloads/${id}/logs`)).body.data.log;
        if (crash === 2) assert.match(log, /stopped unexpectedly during this task's run \(1 of 2/);
        await runStarted(service, id);
      } finally {
        await service.kill('SIGKILL');
      }
    }

    // the third boot runs in this process, so that it can listen before the scheduler starts
    const config = loadConfig({ DATA_DIR: join(root, 'data'), DOWNLOAD_DIR: join(root, 'downloads'), RETRY_BASE_DELAY_MS: '50', ALLOW_PRIVATE_ADDRESSES: 'true' });
    const app = await createApp(config, { logger: false });
    const failures: Array<{ id: number; error: string; errorCode: string }> = [];
    app.get(EventEmitter2).on('download.failed', (payload) => failures.push(payload));
    await app.listen(0, '127.0.0.1');
    try {
      const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      const task = (await callApi<any>(baseUrl, 'GET', `/api/downloads/${id}`)).body.data;
      assert.equal(task.status, 'failed');
      assert.match(task.error, /stopped unexpectedly 2 times in a row while this task was downloading/);
      assert.deepEqual(failures, [{ id, error: task.error, errorCode: 'crash_loop' }]);
      // started again by hand, it runs (the counter starts over)
      await callApi(baseUrl, 'POST', `/api/downloads/${id}/start`);
      const done = await waitForStatus({ api: (method, path, body) => callApi(baseUrl, method, path, body) }, id, ['success', 'failed'], 40_000);
      assert.equal(done.status, 'success', done.error);
    } finally {
      await app.close();
    }
  });

  it('refuses a localPath in /proc, /sys or /dev, or under a file, with a 400 naming localPath, and creates missing directories', async () => {
    const test = await startTestApp({}, join(scratch, 'local-path'));
    try {
      const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/small.bin'), name: 'here' }] })).body.data[0].id;
      await writeFile(join(test.root, 'a-file'), 'x');
      for (const localPath of ['/proc/self', '/proc/self/cwd/videos', '/sys/kernel/x', '/dev/shm/x', join(test.root, 'a-file', 'sub')]) {
        const began = Date.now();
        const answer = await test.api('POST', `/api/downloads/${id}/start`, { localPath });
        assert.equal(answer.status, 400, `${localPath}: ${answer.text}`);
        assert.equal((answer.body as any).errorCode, 'validation_failed');
        assert.match(answer.body.message, /localPath/);
        assert.equal((answer.body as any).fields?.[0]?.path, 'localPath');
        assert.ok(Date.now() - began < 5_000, 'answered at once, no spinning mkdir');
      }
      assert.equal((await test.api('GET', `/api/downloads/${id}`)).body.data.status, 'waiting', 'a refused start changes nothing');
      const fresh = join(test.root, 'not', 'there', 'yet');
      assert.equal((await test.api('POST', `/api/downloads/${id}/start`, { localPath: fresh })).status, 200);
      const done = await waitForStatus(test, id, ['success', 'failed'], 30_000);
      assert.equal(done.status, 'success', done.error);
      assert.equal(done.file, join(fresh, 'here.bin'));
    } finally {
      await test.close();
    }
  });

  it('fails a download whose announced size cannot fit at once, saying how much it needs and how much is free', async () => {
    const test = await startTestApp({ MIN_FREE_SPACE: '0' }, join(scratch, 'huge'));
    const events = new SseRecorder();
    await events.open(`${test.baseUrl}/api/events`);
    try {
      const began = Date.now();
      const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/huge.bin'), name: 'huge' }], startDownload: true })).body.data[0].id;
      const failed = await events.waitFor('download-failed', id, 20_000);
      assert.ok(Date.now() - began < 10_000, 'failed at once, not after trickling');
      assert.equal(failed.data.errorCode, 'insufficient_space');
      assert.match(failed.data.error, /needs 1 TiB, [\d.]+ [GT]iB free/);
      const task = (await test.api('GET', `/api/downloads/${id}`)).body.data;
      assert.equal(task.status, 'failed');
      assert.equal(task.error, failed.data.error);
    } finally {
      events.close();
      await test.close();
    }
  });

  it('keeps queued tasks waiting while free space is below MIN_FREE_SPACE, with a log line, also after a restart, and says degraded on /healthy', async () => {
    let test = await startTestApp({ MIN_FREE_SPACE: '1000TiB' }, join(scratch, 'floor'));
    try {
      const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/held.bin'), name: 'held' }], startDownload: true })).body.data[0].id;
      const log = await waitFor(async () => {
        const text = (await test.api('GET', `/api/downloads/${id}/logs`)).body.data.log as string;
        return /waiting for disk space/.test(text) ? text : null;
      }, 10_000, 'the log line about disk space');
      assert.match(log, /less than MIN_FREE_SPACE \(1000 TiB\); it starts once space is freed/);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const task = (await test.api('GET', `/api/downloads/${id}`)).body.data;
      assert.equal(task.status, 'waiting');
      assert.equal(origin.hits('/held.bin'), 0, 'nothing was requested');
      assert.equal((log.match(/waiting for disk space/g) ?? []).length, 1, 'one line, not one per check');
      const health = await test.api('GET', '/healthy');
      assert.equal(health.status, 200);
      assert.equal((health.body.data as any).status, 'degraded');
      assert.ok((health.body.data as any).reasons.some((reason: string) => /DOWNLOAD_DIR, less than MIN_FREE_SPACE/.test(reason)));
      // the next boot queues it again but does not start it either
      await test.close();
      test = await startTestApp({ MIN_FREE_SPACE: '1000TiB' }, join(scratch, 'floor'));
      await waitFor(async () => /queued again[\s\S]*waiting for disk space/.test((await test.api('GET', `/api/downloads/${id}/logs`)).body.data.log), 10_000, 'the wait after the restart');
      assert.equal((await test.api('GET', `/api/downloads/${id}`)).body.data.status, 'waiting');
      assert.equal(origin.hits('/held.bin'), 0, 'nothing was requested after the restart');
      // a client's stop still works on a held task
      assert.equal((await test.api('POST', `/api/downloads/${id}/stop`)).status, 200);
      assert.equal((await test.api('GET', `/api/downloads/${id}`)).body.data.status, 'stopped');
    } finally {
      await test.close();
    }
  });

  it('says ok on /healthy when all is well, degraded naming a missing tool, and answers in milliseconds', async () => {
    const well = await startTestApp({}, join(scratch, 'health-ok'));
    const missing = await startTestApp({ FFMPEG_PATH: '/nonexistent/ffmpeg' }, join(scratch, 'health-missing'));
    try {
      const ok = (await well.api('GET', '/healthy')).body.data as any;
      assert.equal(ok.status, 'ok');
      assert.deepEqual(ok.reasons, []);
      const degraded = await missing.api('GET', '/healthy');
      assert.equal(degraded.status, 200);
      assert.equal((degraded.body.data as any).status, 'degraded');
      assert.ok((degraded.body.data as any).reasons.some((reason: string) => /ffmpeg was not found/.test(reason)));
      const began = Date.now();
      for (let i = 0; i < 20; i++) await well.api('GET', '/healthy');
      assert.ok(Date.now() - began < 3_000, `20 probes took ${Date.now() - began} ms`);
      // a store that no longer answers is a 503, after the cached answer has aged
      await missing.app.get(DataSource).destroy();
      const down = await waitFor(async () => {
        const answer = await missing.api('GET', '/healthy');
        return answer.status === 503 ? answer : null;
      }, 10_000, '/healthy to notice the database is gone');
      assert.equal((down.body as any).errorCode, 'database_unavailable');
      assert.equal(down.body.success, false);
    } finally {
      await well.close();
      await missing.close().catch(() => undefined);
    }
  });

  it('cleans bidi controls and zero-width characters out of names', async () => {
    const test = await startTestApp({}, join(scratch, 'names'));
    try {
      const answer = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/small.bin'), name: 'invoice\u202Egpj.exe\u200B\u2066' }], startDownload: true });
      const id = answer.body.data[0].id;
      assert.equal(answer.body.data[0].name, 'invoicegpj.exe');
      const done = await waitForStatus(test, id, ['success', 'failed'], 30_000);
      assert.equal(done.status, 'success', done.error);
      assert.doesNotMatch(done.file, /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/);
    } finally {
      await test.close();
    }
  });

  it('reports a broken manifest as a sentence about the task, never our internals', async () => {
    const test = await startTestApp({}, join(scratch, 'manifest'));
    try {
      const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'mediago', url: origin.url('/doctype.mpd'), name: 'doctype' }], startDownload: true })).body.data[0].id;
      const done = await waitForStatus(test, id, ['success', 'failed'], 30_000);
      assert.equal(done.status, 'failed');
      assert.doesNotMatch(done.error, /Cannot read properties|undefined|TypeError|\.js:\d+|node_modules/);
      assert.doesNotMatch(done.error, /\.mediago-task-/, 'no working-directory path');
      const log = (await test.api('GET', `/api/downloads/${id}/logs`)).body.data.log;
      assert.doesNotMatch(log, /Cannot read properties|TypeError/);
    } finally {
      await test.close();
    }
  });

  it('exits with one clear line naming DATA_DIR when it cannot be used', async () => {
    await writeFile(join(scratch, 'plain-file'), 'x');
    await mkdir(join(scratch, 'corrupt'), { recursive: true });
    await writeFile(join(scratch, 'corrupt', 'mediago.sqlite'), randomBytes(8192));
    const cases = [
      ['/proc/x', /must not be inside \/proc/],
      [join(scratch, 'plain-file', 'data'), /cannot be created/],
      [join(scratch, 'corrupt'), /database .* cannot be opened: file is not a database/],
    ] as const;
    const boots = await Promise.all(cases.map(([dataDir]) => bootAndExit({ DATA_DIR: dataDir, DOWNLOAD_DIR: join(scratch, 'dl') })));
    for (const [index, [dataDir, reason]] of cases.entries()) {
      const { code, output, ms } = boots[index];
      assert.equal(code, 2, output);
      const lines = output.trim().split('\n');
      assert.equal(lines.length, 1, output);
      assert.match(lines[0], /^Cannot start: .*DATA_DIR/);
      assert.ok(lines[0].includes(dataDir), lines[0]);
      assert.match(lines[0], reason);
      // a DATA_DIR inside /proc used to hang the boot in mkdir: bootAndExit kills after 60 s, and then code is null
      assert.ok(ms < 60_000, `took ${ms} ms`);
    }
  });

  describe('on a small disk (tmpfs)', { skip: isRoot ? false : 'mounting a tmpfs needs root' }, () => {
    it('waits for space at the floor and starts once space is freed', async () => {
      const disk = await mountSmallDisk(8);
      const test = await startTestApp({ MIN_FREE_SPACE: '4MiB', DOWNLOAD_DIR: join(disk, 'downloads') }, join(scratch, 'small-floor'));
      try {
        await mkdir(join(disk, 'downloads'), { recursive: true });
        await writeFile(join(disk, 'ballast'), Buffer.alloc(6 * MiB));
        const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/small.bin'), name: 'later' }], startDownload: true })).body.data[0].id;
        await waitFor(async () => /waiting for disk space/.test((await test.api('GET', `/api/downloads/${id}/logs`)).body.data.log), 10_000, 'the wait');
        assert.equal((await test.api('GET', `/api/downloads/${id}`)).body.data.status, 'waiting');
        await rm(join(disk, 'ballast'));
        const done = await waitForStatus(test, id, ['success', 'failed'], 20_000);
        assert.equal(done.status, 'success', done.error);
      } finally {
        await test.close();
        await unmount(disk);
      }
    });

    it('fails at once when a known size does not fit', async () => {
      const disk = await mountSmallDisk(8);
      const test = await startTestApp({ MIN_FREE_SPACE: '1MiB', DOWNLOAD_DIR: disk }, join(scratch, 'small-known'));
      try {
        const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/known.bin'), name: 'known' }], startDownload: true })).body.data[0].id;
        const done = await waitForStatus(test, id, ['success', 'failed'], 20_000);
        assert.equal(done.status, 'failed');
        assert.match(done.error, /needs 16 MiB, [\d.]+ MiB free/);
        assert.ok((await freeOn(disk)) > 7 * MiB, 'nothing was written');
      } finally {
        await test.close();
        await unmount(disk);
      }
    });

    it('survives a real ENOSPC with DATA_DIR on the same disk: the task fails with insufficient_space, its partial data is counted and deletable', async () => {
      const disk = await mountSmallDisk(8);
      const service = new ServiceProcess(disk, { MIN_FREE_SPACE: '2MiB', DIRECT_CONNECTIONS: '1' });
      const events = new SseRecorder();
      try {
        await service.start();
        await events.open(`${service.baseUrl}/api/events`);
        const id = (await service.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/chunked.bin'), name: 'too-big' }], startDownload: true })).body.data[0].id;
        const failed = await events.waitFor('download-failed', id, 30_000);
        assert.equal(failed.data.errorCode, 'insufficient_space');
        assert.match(failed.data.error, /^the disk is full/);
        assert.ok(service.alive, `the service died:\n${service.output}`);
        const task = await waitForStatus(service, id, ['failed'], 10_000);
        assert.match(task.error, /the disk is full/);
        assert.ok(task.downloadedBytes > 4 * MiB, `partial data counted: ${task.downloadedBytes}`);
        // /healthy measures at most every 5 s
        await waitFor(async () => (await service.api('GET', '/healthy')).body.data.status === 'degraded', 10_000, '/healthy to say degraded');
        // the partial data goes with the task when asked
        assert.ok((await readdir(join(disk, 'downloads'))).some((entry) => entry.startsWith('.mediago-task-')));
        assert.equal((await service.api('DELETE', `/api/downloads/${id}?deleteFile=true`)).status, 200);
        assert.deepEqual(await readdir(join(disk, 'downloads')), []);
        assert.ok((await freeOn(disk)) > 6 * MiB, 'the space came back');
        assert.ok(service.alive);
        assert.doesNotMatch(service.output, /unexpected failure/);
      } finally {
        events.close();
        await service.kill('SIGTERM').catch(() => undefined);
        await unmount(disk);
      }
    });
  });
});
