import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeSampleVideo } from './fixtures/sample-media.js';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';
import { SseRecorder } from './helpers/sse-client.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;

function rangeRequests(origin: OriginServer, path: string): string[] {
  return origin.requests.filter((request) => request.path.startsWith(path)).map((request) => String(request.headers.range ?? ''));
}

describe('direct downloads over the API', () => {
  let test: TestApp;
  let origin: OriginServer;
  let events: SseRecorder;
  let media: string;
  const big = randomBytes(6 * MiB);
  const small = randomBytes(300 * 1024);

  before(async () => {
    media = await mkdtemp(join(tmpdir(), 'mediago-media-'));
    const video = await makeSampleVideo(join(media, 'clip.mp4'), 2);
    origin = new OriginServer()
      .route('/files/big.bin', { body: big, bytesPerSecond: 1.5 * MiB })
      .route('/files/clip.mp4', { file: video, contentType: 'video/mp4' })
      .route('/files/no-ranges.bin', { body: small, ranges: false })
      .route('/files/chunked.bin', { body: small, hideLength: true, ranges: false })
      .route('/files/flaky.bin', { body: big, failTimes: 2, failStatus: 503, cutAfterBytes: 200 * 1024, cutRequests: [3, 4, 5] })
      .route('/files/missing.bin', { status: 404 })
      .route('/files/down.bin', { status: 503 })
      .route('/files/expired.mp4', { body: '<html><body>Link expired</body></html>', contentType: 'text/html; charset=utf-8' })
      .route('/download', { body: small, headers: { 'content-disposition': 'attachment; filename="Quarterly Report.pdf"' }, contentType: 'application/octet-stream' })
      .route('/files/needs-header.bin', { body: small, requireHeader: ['x-token', /^secret$/] })
      .route('/files/same-name.bin', { body: small })
      // an HTTP/1.0-style server: no ranges, and the connection closes after each answer
      .route('/files/closing.bin', { body: big, ranges: false, headers: { connection: 'close' } });
    await origin.start();
    test = await startTestApp({ DIRECT_CONNECTIONS: '4', MAX_CONCURRENT_DOWNLOADS: '2', PROGRESS_INTERVAL_MS: '500' });
    events = new SseRecorder();
    await events.open(`${test.baseUrl}/api/events`);
  });

  after(async () => {
    events.close();
    await test.close();
    await origin.stop();
    await rm(media, { recursive: true, force: true });
  });

  async function create(task: Record<string, unknown>, startDownload = true): Promise<number> {
    const answer = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', ...task }], startDownload });
    assert.equal(answer.status, 200, answer.text);
    return answer.body.data[0].id;
  }

  it('downloads a file over several ranged connections, byte-exact, with the events in order', async () => {
    const id = await create({ url: origin.url('/files/big.bin'), name: 'Big File' });
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(done.file, join(test.config.downloadDir, 'Big File.bin'));
    assert.equal(sha256(await readFile(done.file)), sha256(big));
    assert.equal(done.percent, 100);
    assert.equal(done.downloadedBytes, big.length);
    assert.equal(done.totalBytes, big.length);
    const ranges = new Set(rangeRequests(origin, '/files/big.bin'));
    assert.ok(ranges.size >= 4, `expected several ranges, saw ${[...ranges].join(' ')}`);

    await events.waitFor('download-success', id);
    const created = events.events.find((event) => event.type === 'download-create' && event.data.ids.includes(id))!;
    assert.deepEqual(created.data, { ids: [id], count: 1 });
    const order = events.events.filter((event) => event.data.id === String(id) && event.type !== 'download-progress').map((event) => event.type);
    assert.deepEqual(order, ['download-start', 'download-success']);
    const progress = events.of('download-progress', id);
    assert.ok(progress.length >= 2, 'progress events arrive while the file downloads');
    for (const event of progress) {
      assert.equal(typeof event.data.id, 'string');
      for (const key of ['percent', 'speed', 'downloadedBytes', 'totalBytes', 'eta']) assert.ok(key in event.data, key);
    }
    assert.ok(progress.some((event) => event.data.speed > 0 && event.data.eta !== null));
    const span = (progress[progress.length - 1].at - progress[0].at) / 1000;
    assert.ok(progress.length <= Math.ceil(span * 2) + 2, `${progress.length} progress events in ${span} s is more than 2 per second`);
    assert.equal(await readdir(test.config.downloadDir).then((names) => names.filter((name) => name.startsWith('.mediago-task-')).length), 0, 'the working directory is gone');
  });

  it('takes the extension from the URL for a real video, and names it from the URL when no name is given', async () => {
    const id = await create({ url: origin.url('/files/clip.mp4') });
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(basename(done.file), 'clip.mp4');
    assert.equal(done.name, 'clip');
  });

  it('takes name and extension from Content-Disposition when no name is given', async () => {
    const id = await create({ url: origin.url('/download') });
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(basename(done.file), 'Quarterly Report.pdf');
    assert.equal(done.name, 'Quarterly Report');
  });

  it('streams from servers without ranges or without a length', async () => {
    for (const path of ['/files/no-ranges.bin', '/files/chunked.bin']) {
      const id = await create({ url: origin.url(path) });
      const done = await waitForStatus(test, id, ['success', 'failed']);
      assert.equal(done.status, 'success', `${path}: ${done.error}`);
      assert.equal(sha256(await readFile(done.file)), sha256(small), path);
      assert.equal(done.totalBytes, small.length);
    }
  });

  it('survives servers that close the connection after each answer, several downloads at once', async () => {
    const ids = await Promise.all([1, 2, 3].map((n) => create({ url: origin.url('/files/closing.bin'), name: `closing-${n}` })));
    for (const id of ids) {
      const done = await waitForStatus(test, id, ['success', 'failed']);
      assert.equal(done.status, 'success', done.error);
      assert.equal(sha256(await readFile(done.file)), sha256(big));
    }
  });

  it("sends the task's headers with every request", async () => {
    const refused = await create({ url: origin.url('/files/needs-header.bin') });
    const failed = await waitForStatus(test, refused, ['success', 'failed']);
    assert.equal(failed.status, 'failed');
    const id = await create({ url: origin.url('/files/needs-header.bin'), headers: 'X-Token: secret' });
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
  });

  it('retries 503s and cut connections, then finishes byte-exact', async () => {
    const id = await create({ url: origin.url('/files/flaky.bin') });
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(sha256(await readFile(done.file)), sha256(big));
    const { body } = await test.api('GET', `/api/downloads/${id}/logs`);
    assert.match(body.data.log, /503/);
    assert.match(body.data.log, /retrying/);
  });

  it('fails a missing file with a useful error and a download-failed event', async () => {
    const id = await create({ url: origin.url('/files/missing.bin') });
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'failed');
    assert.match(done.error, /HTTP 404/);
    assert.equal(done.file, null);
    const event = await events.waitFor('download-failed', id);
    assert.equal(event.data.id, String(id));
    assert.match(event.data.error, /404/);
    const expired = await create({ url: origin.url('/files/expired.mp4') });
    const refused = await waitForStatus(test, expired, ['success', 'failed']);
    assert.equal(refused.status, 'failed');
    assert.match(refused.error, /answered a web page instead of the file/);
    const down = await create({ url: origin.url('/files/down.bin') });
    const gaveUp = await waitForStatus(test, down, ['success', 'failed']);
    assert.match(gaveUp.error, /answered HTTP 503 after 5 tries/);
  });

  it('never lets two tasks overwrite each other', async () => {
    const first = await create({ url: origin.url('/files/same-name.bin'), name: 'Twin' });
    const second = await create({ url: origin.url('/files/same-name.bin'), name: 'Twin' });
    const a = await waitForStatus(test, first, ['success', 'failed']);
    const b = await waitForStatus(test, second, ['success', 'failed']);
    assert.deepEqual([a.status, b.status], ['success', 'success']);
    assert.notEqual(a.file, b.file);
    assert.deepEqual([basename(a.file), basename(b.file)].sort(), ['Twin (1).bin', 'Twin.bin']);
  });

  it('saves into the localPath given at start, and downloads a finished task again over its own file', async () => {
    const target = await mkdtemp(join(tmpdir(), 'mediago-local-'));
    try {
      const id = await create({ url: origin.url('/files/same-name.bin'), name: 'Placed', folder: 'inner' }, false);
      const started = await test.api('POST', `/api/downloads/${id}/start`, { localPath: target, deleteSegments: true });
      assert.equal(started.status, 200);
      const done = await waitForStatus(test, id, ['success', 'failed']);
      assert.equal(done.file, join(target, 'inner', 'Placed.bin'));
      assert.equal(done.localPath, target);
      const only = await test.api('GET', `/api/downloads?localPath=${encodeURIComponent(target)}`);
      assert.deepEqual(only.body.data.list.map((task: { id: number }) => task.id), [id]);
      await test.api('POST', `/api/downloads/${id}/start`);
      const again = await waitFor(async () => {
        const { body } = await test.api('GET', `/api/downloads/${id}`);
        return body.data.status === 'success' && events.of('download-success', id).length === 2 ? body.data : null;
      });
      assert.equal(again.file, done.file, 'a re-download replaces its own file');
      assert.deepEqual(await readdir(join(target, 'inner')), ['Placed.bin']);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
});

describe('stop, resume and the concurrency limit', () => {
  let test: TestApp;
  let origin: OriginServer;
  let events: SseRecorder;
  const size = 4 * MiB;
  const content = randomBytes(size);
  const changed = randomBytes(size);

  before(async () => {
    origin = new OriginServer()
      .route('/slow.bin', { body: content, bytesPerSecond: 512 * 1024, etag: '"v1"' })
      .route('/changing.bin', { body: content, bytesPerSecond: 512 * 1024, etag: '"v1"' })
      .route('/unvalidated.bin', { body: content, bytesPerSecond: 512 * 1024 });
    for (let n = 1; n <= 4; n++) origin.route(`/queue-${n}.bin`, { body: randomBytes(600 * 1024), bytesPerSecond: 512 * 1024 });
    await origin.start();
    test = await startTestApp({ DIRECT_CONNECTIONS: '2', MAX_CONCURRENT_DOWNLOADS: '2' });
    events = new SseRecorder();
    await events.open(`${test.baseUrl}/api/events`);
  });

  after(async () => {
    events.close();
    await test.close();
    await origin.stop();
  });

  async function downloadedSoFar(id: number): Promise<number> {
    const { body } = await test.api('GET', `/api/downloads/${id}`);
    return body.data.downloadedBytes;
  }

  it('stops mid-download, keeps the partial data, and resumes to a byte-exact file', async () => {
    const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/slow.bin'), name: 'resumed' }], startDownload: true })).body.data[0].id;
    await waitFor(async () => (await downloadedSoFar(id)) > size / 4, 30_000, 'a quarter of the file');
    const stop = await test.api('POST', `/api/downloads/${id}/stop`);
    assert.deepEqual(stop.body.data, {});
    const stopped = (await test.api('GET', `/api/downloads/${id}`)).body.data;
    assert.equal(stopped.status, 'stopped');
    assert.equal(stopped.file, null);
    await events.waitFor('download-stop', id);
    const workDir = join(test.config.downloadDir, `.mediago-task-${id}`);
    assert.ok(existsSync(join(workDir, 'download.part')), 'partial data stays on disk');
    const kept = stopped.downloadedBytes;
    assert.ok(kept > 0 && kept < size, `kept ${kept}`);
    assert.ok(!existsSync(join(test.config.downloadDir, 'resumed.bin')), 'no file at the final path before it is complete');

    await test.api('POST', `/api/downloads/${id}/start`);
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(sha256(await readFile(done.file)), sha256(content));
    const served = origin.sentBytes('/slow.bin');
    assert.ok(served < size * 1.25, `the origin sent ${served} bytes in all for a ${size}-byte file: the resume fetched again what was on disk`);
  });

  it('takes the partial data along when a stopped task is started in another directory', async () => {
    origin.route('/moving.bin', { body: content, bytesPerSecond: 512 * 1024 });
    const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/moving.bin'), name: 'moved', folder: 'before' }], startDownload: true })).body.data[0].id;
    await waitFor(async () => (await downloadedSoFar(id)) > size / 4, 30_000, 'a quarter of the file');
    await test.api('POST', `/api/downloads/${id}/stop`);
    const target = await mkdtemp(join(tmpdir(), 'mediago-moved-'));
    try {
      await test.api('POST', `/api/downloads/${id}/start`, { localPath: target });
      const done = await waitForStatus(test, id, ['success', 'failed']);
      assert.equal(done.status, 'success', done.error);
      assert.equal(done.file, join(target, 'before', 'moved.bin'));
      assert.equal(sha256(await readFile(done.file)), sha256(content));
      assert.ok(origin.sentBytes('/moving.bin') < size * 1.25, `the origin sent ${origin.sentBytes('/moving.bin')} bytes: the partial data was not reused`);
      assert.ok(!existsSync(join(test.config.downloadDir, 'before', `.mediago-task-${id}`)), 'nothing is left behind in the old directory');
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  it('starts over when the file changed on the server while stopped', async () => {
    const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/changing.bin') }], startDownload: true })).body.data[0].id;
    await waitFor(async () => (await downloadedSoFar(id)) > size / 4, 30_000, 'a quarter of the file');
    await test.api('POST', `/api/downloads/${id}/stop`);
    origin.route('/changing.bin', { body: changed, bytesPerSecond: 4 * MiB, etag: '"v2"' });
    await test.api('POST', `/api/downloads/${id}/start`);
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(sha256(await readFile(done.file)), sha256(changed));
    const { body } = await test.api('GET', `/api/downloads/${id}/logs`);
    assert.match(body.data.log, /changed/);
  });

  it('starts over when a file without validators changed to other bytes of the same size', async () => {
    const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/unvalidated.bin') }], startDownload: true })).body.data[0].id;
    await waitFor(async () => (await downloadedSoFar(id)) > size / 4, 30_000, 'a quarter of the file');
    await test.api('POST', `/api/downloads/${id}/stop`);
    origin.route('/unvalidated.bin', { body: changed, bytesPerSecond: 4 * MiB });
    await test.api('POST', `/api/downloads/${id}/start`);
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(sha256(await readFile(done.file)), sha256(changed));
  });

  it('resumes a file without validators when the bytes on disk still match', async () => {
    origin.route('/steady.bin', { body: content, bytesPerSecond: 512 * 1024 });
    const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/steady.bin') }], startDownload: true })).body.data[0].id;
    await waitFor(async () => (await downloadedSoFar(id)) > size / 4, 30_000, 'a quarter of the file');
    await test.api('POST', `/api/downloads/${id}/stop`);
    await test.api('POST', `/api/downloads/${id}/start`);
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(sha256(await readFile(done.file)), sha256(content));
    const { body } = await test.api('GET', `/api/downloads/${id}/logs`);
    assert.match(body.data.log, /resuming/);
  });

  /** A task whose signed link expires while it is stopped: the old token then answers 403 and the run fails. */
  async function expiredTask(path: string): Promise<{ id: number; kept: number }> {
    origin.route(path, { body: content, bytesPerSecond: 512 * 1024 });
    const id = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url(`${path}?token=old-secret`), name: `expiring-${path.slice(1, 6)}` }], startDownload: true })).body.data[0].id;
    await waitFor(async () => (await downloadedSoFar(id)) > size / 4, 30_000, 'a quarter of the file');
    await test.api('POST', `/api/downloads/${id}/stop`);
    origin.route(path, { status: 403 });
    await test.api('POST', `/api/downloads/${id}/start`);
    const failed = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /HTTP 403/);
    assert.ok(!failed.error.includes('old-secret'), 'the token stays out of the error');
    const workDir = join(test.config.downloadDir, `.mediago-task-${id}`);
    const kept = (await stat(join(workDir, 'download.part')).catch(() => null)) ? failed.downloadedBytes : 0;
    assert.ok(kept > 0 && kept < size, `kept ${kept} bytes`);
    return { id, kept };
  }

  it('resumes an expired link from its partial data once its URL is replaced by one serving the same file', async () => {
    const { id, kept } = await expiredTask('/old-a.bin');
    origin.route('/new-a.bin', { body: content, bytesPerSecond: 4 * MiB });
    const edited = await test.api('PUT', `/api/downloads/${id}`, { url: origin.url('/new-a.bin?token=fresh') });
    assert.equal(edited.status, 200, edited.text);
    assert.ok(existsSync(join(test.config.downloadDir, `.mediago-task-${id}`, 'download.part')), 'the edit keeps the partial data');
    await test.api('POST', `/api/downloads/${id}/start`);
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(sha256(await readFile(done.file)), sha256(content));
    // the first request to the new URL compares the bytes before the seam; the next ones continue from where the data stopped
    const ranges = rangeRequests(origin, '/new-a.bin').map((range) => Number(/^bytes=(\d+)-/.exec(range)?.[1] ?? -1));
    assert.ok(!ranges.includes(0), `nothing was fetched from byte 0 again: ${ranges.join(' ')}`);
    assert.ok(ranges.some((start) => start > 0 && start >= kept - 64 * 1024), `a range from the kept offset: ${ranges.join(' ')}`);
    assert.ok(origin.sentBytes('/new-a.bin') < size, `the new URL sent ${origin.sentBytes('/new-a.bin')} bytes of ${size}`);
    const { body } = await test.api('GET', `/api/downloads/${id}/logs`);
    assert.match(body.data.log, /the URL changed since the last run and the new one serves the same file/);
  });

  it('starts over, saying why, when the replacing URL serves other content', async () => {
    const { id } = await expiredTask('/old-b.bin');
    origin.route('/new-b.bin', { body: changed, bytesPerSecond: 4 * MiB });
    assert.equal((await test.api('PUT', `/api/downloads/${id}`, { url: origin.url('/new-b.bin?token=fresh') })).status, 200);
    await test.api('POST', `/api/downloads/${id}/start`);
    const done = await waitForStatus(test, id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    assert.equal(sha256(await readFile(done.file)), sha256(changed));
    const { body } = await test.api('GET', `/api/downloads/${id}/logs`);
    assert.match(body.data.log, /the URL changed since the last run and the new one serves other content \(its bytes before the resume point differ from those on disk\): starting over/);
  });

  it('runs at most MAX_CONCURRENT_DOWNLOADS at once, in FIFO order, and fills freed slots', async () => {
    const tasks = [1, 2, 3, 4].map((n) => ({ type: 'direct', url: origin.url(`/queue-${n}.bin`), name: `queued-${n}` }));
    const ids: number[] = (await test.api('POST', '/api/downloads', { tasks, startDownload: true })).body.data.map((task: { id: number }) => task.id);
    let most = 0;
    await waitFor(async () => {
      const { body } = await test.api('GET', '/api/downloads/active');
      const downloading = body.data.filter((task: { status: string; id: number }) => task.status === 'downloading' && ids.includes(task.id)).length;
      most = Math.max(most, downloading);
      const all = await Promise.all(ids.map(async (id) => (await test.api('GET', `/api/downloads/${id}`)).body.data.status));
      return all.every((status) => status === 'success');
    }, 60_000, 'all four to finish');
    assert.equal(most, 2, 'two at a time');
    const starts = events.events.filter((event) => event.type === 'download-start' && ids.includes(Number(event.data.id))).map((event) => Number(event.data.id));
    assert.deepEqual(starts, ids, 'started in the order they were queued');
  });

  it('stops a queued task before it runs, and deletes a running task with its partial data', async () => {
    origin.route('/hold-1.bin', { body: randomBytes(2 * MiB), bytesPerSecond: 256 * 1024 });
    origin.route('/hold-2.bin', { body: randomBytes(2 * MiB), bytesPerSecond: 256 * 1024 });
    origin.route('/hold-3.bin', { body: randomBytes(2 * MiB), bytesPerSecond: 256 * 1024 });
    const tasks = [1, 2, 3].map((n) => ({ type: 'direct', url: origin.url(`/hold-${n}.bin`) }));
    const ids: number[] = (await test.api('POST', '/api/downloads', { tasks, startDownload: true })).body.data.map((task: { id: number }) => task.id);
    await waitForStatus(test, ids[1], ['downloading']);
    const queued = (await test.api('GET', `/api/downloads/${ids[2]}`)).body.data;
    assert.equal(queued.status, 'waiting');
    const again = await test.api('POST', `/api/downloads/${ids[0]}/start`);
    assert.equal(again.body.data.status, 'downloading', 'starting an active task changes nothing');
    const edit = await test.api('PUT', `/api/downloads/${ids[0]}`, { name: 'renamed while running' });
    assert.equal(edit.status, 409);
    assert.equal(edit.body.code, 409);
    assert.match(edit.body.message, /downloading/);
    const mark = await test.api('PUT', '/api/downloads/status', { ids: [ids[2], ids[0]], status: 'success' });
    assert.equal(mark.status, 409);
    assert.equal((await test.api('GET', `/api/downloads/${ids[2]}`)).body.data.status, 'waiting', 'nothing was changed');
    assert.equal((await test.api('PUT', '/api/downloads/status', { ids: [ids[0]], status: 'downloading' })).status, 400);
    await test.api('POST', `/api/downloads/${ids[2]}/stop`);
    assert.equal((await test.api('GET', `/api/downloads/${ids[2]}`)).body.data.status, 'stopped');
    await events.waitFor('download-stop', ids[2]);

    await waitFor(async () => (await downloadedSoFar(ids[0])) > 0, 30_000, 'bytes on disk');
    const workDir = join(test.config.downloadDir, `.mediago-task-${ids[0]}`);
    assert.ok(existsSync(workDir));
    const deleted = await test.api('DELETE', `/api/downloads/${ids[0]}?deleteFile=true`);
    assert.deepEqual(deleted.body.data, {});
    await events.waitFor('download-stop', ids[0]);
    assert.ok(!existsSync(workDir), 'the partial data is gone');
    assert.equal((await test.api('GET', `/api/downloads/${ids[0]}`)).status, 404);
    await test.api('DELETE', `/api/downloads/${ids[1]}?deleteFile=true`);
    await test.api('DELETE', `/api/downloads/${ids[2]}?deleteFile=true`);
    assert.equal((await stat(dirname(workDir))).isDirectory(), true);
  });
});
