import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';

const KiB = 1024;

describe('settings changed at run time', () => {
  let origin: OriginServer;
  let root: string;
  let test: TestApp;

  before(async () => {
    origin = new OriginServer()
      .route('/files/slow.bin', { body: randomBytes(768 * KiB), bytesPerSecond: 256 * KiB })
      .route('/files/quick.bin', { body: randomBytes(64 * KiB) })
      .route('/files/down.bin', { status: 503 });
    await origin.start();
    root = await mkdtemp(join(tmpdir(), 'mediago-settings-'));
    test = await startTestApp({ MAX_CONCURRENT_DOWNLOADS: '1', DIRECT_CONNECTIONS: '1' }, root);
  });

  after(async () => {
    await test.close();
    await origin.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('shows each setting with its source, secrets only as set or not', async () => {
    const answer = await test.api('GET', '/api/settings');
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body.data.maxConcurrentDownloads, { value: 1, source: 'environment' });
    assert.deepEqual(answer.body.data.webhookSecret, { set: false, source: 'environment' });
    assert.equal(answer.body.data.downloadDir.value, join(root, 'downloads'));
  });

  it('refuses bad values naming the field, and changes nothing', async () => {
    for (const [body, field] of [
      [{ maxConcurrentDownloads: 0 }, 'maxConcurrentDownloads'],
      [{ retryAttempts: 'many' }, 'retryAttempts'],
      [{ downloadDir: 'relative/dir' }, 'downloadDir'],
      [{ webhookUrls: ['ftp://example.com/hook'] }, 'webhookUrls'],
      [{ webhookEvents: ['download-progress'] }, 'webhookEvents'],
      [{ webhookSecret: 'short' }, 'webhookSecret'],
    ] as const) {
      const answer = await test.api('PUT', '/api/settings', body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal((answer.body as any).errorCode, 'validation_failed');
      assert.ok((answer.body as any).fields.some((problem: { path: string }) => problem.path === field), answer.text);
    }
    assert.equal((await test.api('GET', '/api/settings')).body.data.maxConcurrentDownloads.value, 1);
  });

  it('starts queued tasks at once when concurrency is raised', async () => {
    const created = await test.api('POST', '/api/downloads', {
      tasks: ['a', 'b', 'c'].map((name) => ({ type: 'direct', url: origin.url('/files/slow.bin'), name })),
      startDownload: true,
    });
    const ids: number[] = created.body.data.map((task: { id: number }) => task.id);
    await waitForStatus(test, ids[0], ['downloading']);
    const running = async () => (await test.api('GET', '/api/downloads/active')).body.data.filter((task: { status: string }) => task.status === 'downloading').length;
    assert.equal(await running(), 1, 'one slot at first');
    const answer = await test.api('PUT', '/api/settings', { maxConcurrentDownloads: 3, unknownField: 'ignored' });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body.data.maxConcurrentDownloads, { value: 3, source: 'saved' });
    await waitFor(async () => (await running()) === 3, 5000, 'three tasks running');
    for (const id of ids) await waitForStatus(test, id, ['success']);
  });

  it('sends new tasks to a new download directory while older ones stay where they began', async () => {
    const before = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/quick.bin'), name: 'older' }] });
    const newDir = join(root, 'elsewhere');
    const answer = await test.api('PUT', '/api/settings', { downloadDir: newDir });
    assert.equal(answer.status, 200, answer.text);
    const after = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/quick.bin'), name: 'newer' }] });
    for (const id of [before.body.data[0].id, after.body.data[0].id]) await test.api('POST', `/api/downloads/${id}/start`);
    const older = await waitForStatus(test, before.body.data[0].id, ['success']);
    const newer = await waitForStatus(test, after.body.data[0].id, ['success']);
    assert.equal(dirname(older.file), join(root, 'downloads'));
    assert.equal(dirname(newer.file), newDir);
  });

  it('keeps a webhook secret write-only and sends to webhook receivers set live', async () => {
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const answer = await test.api('PUT', '/api/settings', { webhookUrls: [url], webhookSecret: 'a-secret-never-shown' });
      assert.equal(answer.status, 200, answer.text);
      assert.ok(!answer.text.includes('a-secret-never-shown'));
      assert.deepEqual(answer.body.data.webhookSecret, { set: true, source: 'saved' });
      assert.ok(!(await test.api('GET', '/api/settings')).text.includes('a-secret-never-shown'));
      const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/quick.bin'), name: 'hooked' }], startDownload: true });
      await waitForStatus(test, created.body.data[0].id, ['success']);
      await waitFor(async () => received.some((body) => JSON.parse(body).event === 'download-success'), 10_000, 'the webhook');
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('applies a new retry count to the next task', async () => {
    const tries = () => origin.requests.filter((request) => request.path === '/files/down.bin').length;
    const answer = await test.api('PUT', '/api/settings', { retryAttempts: 2 });
    assert.deepEqual(answer.body.data.retryAttempts, { value: 2, source: 'saved' });
    const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/down.bin'), name: 'down' }], startDownload: true });
    const failed = await waitForStatus(test, created.body.data[0].id, ['failed']);
    assert.equal(tries(), 2, failed.error);
    assert.match(failed.error, /after 2 tries/);
  });

  it('sends new requests through a proxy set live, shows it without its credentials, and "" turns it off', async () => {
    // a file on 127.0.0.2 (loopback, but not one of the names that always bypass the proxy)
    const body = randomBytes(32 * KiB);
    const target = createServer((_request, response) => response.writeHead(200, { 'content-length': body.length }).end(body));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.2', resolve));
    // a CONNECT proxy that records where it was asked to go, and with which credentials
    const tunnels: Array<{ target: string; authorization: string | undefined }> = [];
    const proxy = createServer();
    proxy.on('connect', (request, client, head) => {
      tunnels.push({ target: String(request.url), authorization: request.headers['proxy-authorization'] });
      const [host, port] = String(request.url).split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const proxyPort = (proxy.address() as AddressInfo).port;
      const url = `http://127.0.0.2:${(target.address() as AddressInfo).port}/file.bin`;
      const answer = await test.api('PUT', '/api/settings', { proxy: `http://agent:pr0xy-pass@127.0.0.1:${proxyPort}` });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body.data.proxy, { value: `http://127.0.0.1:${proxyPort}`, credentialsSet: true, source: 'saved' });
      assert.ok(!answer.text.includes('pr0xy-pass'));

      const viaProxy = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url, name: 'via proxy' }], startDownload: true });
      assert.deepEqual(await readFile((await waitForStatus(test, viaProxy.body.data[0].id, ['success'])).file), body);
      assert.ok(tunnels.length > 0 && tunnels.every((tunnel) => tunnel.target === new URL(url).host), JSON.stringify(tunnels));
      assert.equal(tunnels[0].authorization, `Basic ${Buffer.from('agent:pr0xy-pass').toString('base64')}`);

      const off = await test.api('PUT', '/api/settings', { proxy: '' });
      assert.deepEqual(off.body.data.proxy, { value: null, credentialsSet: false, source: 'saved' });
      const seen = tunnels.length;
      const direct = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url, name: 'direct' }], startDownload: true });
      await waitForStatus(test, direct.body.data[0].id, ['success']);
      assert.equal(tunnels.length, seen, 'no request went through the proxy');
      assert.equal((await test.api('PUT', '/api/settings', { proxy: 'ftp://proxy.lan' })).status, 400);
      await test.api('PUT', '/api/settings', { proxy: null });
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
      await new Promise((resolve) => target.close(resolve));
    }
  });

  it('keeps saved settings across a restart, and null returns one to the environment value', async () => {
    await test.close();
    test = await startTestApp({ MAX_CONCURRENT_DOWNLOADS: '1', DIRECT_CONNECTIONS: '1' }, root);
    const saved = (await test.api('GET', '/api/settings')).body.data;
    assert.deepEqual(saved.maxConcurrentDownloads, { value: 3, source: 'saved' });
    assert.deepEqual(saved.webhookSecret, { set: true, source: 'saved' });
    const reset = await test.api('PUT', '/api/settings', { maxConcurrentDownloads: null, webhookSecret: null, webhookUrls: null });
    assert.deepEqual(reset.body.data.maxConcurrentDownloads, { value: 1, source: 'environment' });
    assert.deepEqual(reset.body.data.webhookSecret, { set: false, source: 'environment' });
    assert.deepEqual(reset.body.data.webhookUrls, { value: [], source: 'environment' });
  });
});
