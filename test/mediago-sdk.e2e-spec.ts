import { MediaGoClient, type TaskEventEmitter } from '@mediago/core-sdk';
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';

/** What the SDK's event emitter delivered, in order. */
interface Heard {
  type: string;
  data: Record<string, unknown>;
}

/** The SDK's response interceptor unwraps axios responses: each call resolves to our envelope. */
interface Envelope<T = any> {
  success: boolean;
  code: number;
  message: string;
  data: T;
  errorCode?: string;
}

/** MediaGo's own client SDK against the running service: the calls its web UI and scripts make, with its default headers. */
describe('MediaGo core SDK as a client', () => {
  let test: TestApp;
  let origin: OriginServer;
  let client: MediaGoClient;
  let events: TaskEventEmitter;
  const heard: Heard[] = [];
  const heardOf = (type: string, id?: number) => heard.filter((event) => event.type === type && (id === undefined || event.data.id === String(id)));
  const hear = (type: string, id?: number) => waitFor(async () => heardOf(type, id)[0], 30_000, `${type}${id === undefined ? '' : ` for task ${id}`} through the SDK`);

  before(async () => {
    origin = new OriginServer()
      .route('/clip.bin', { body: Buffer.alloc(8192, 3) })
      .route('/slow.bin', { body: Buffer.alloc(4 * 1024 * 1024, 4), bytesPerSecond: 128 * 1024 })
      .route('/gone.bin', { status: 404 });
    await origin.start();
    test = await startTestApp();
    client = new MediaGoClient({ baseURL: test.baseUrl });
    events = client.streamEvents();
    const opened = new Promise<void>((resolve) => events.once('open', () => resolve()));
    for (const type of ['download-start', 'download-success', 'download-stop', 'download-failed'] as const) {
      events.on(type, (payload) => heard.push({ type, data: payload as unknown as Record<string, unknown> }));
    }
    // the SDK's emitter does not re-emit download-create; its own EventSource carries it
    const source = (events as unknown as { source: EventTarget }).source;
    source.addEventListener('download-create', (event) => heard.push({ type: 'download-create', data: JSON.parse((event as unknown as { data: string }).data) }));
    await opened;
  });

  after(async () => {
    events?.close();
    await test?.close();
    await origin?.stop();
  });

  it('sends Content-Type: application/json without a body on stop and delete (what the service must accept)', async () => {
    const seen: Array<{ method?: string; headers: IncomingHttpHeaders; length: number }> = [];
    const recorder = createServer((request, response) => {
      let length = 0;
      request.on('data', (chunk: Buffer) => (length += chunk.length));
      request.on('end', () => {
        seen.push({ method: request.method, headers: request.headers, length });
        response.setHeader('content-type', 'application/json').end('{"success":true,"code":0,"message":"ok","data":{}}');
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const probe = new MediaGoClient({ baseURL: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}` });
      await probe.api.post('/api/downloads/1/stop');
      await probe.api.delete('/api/downloads/1');
      for (const request of seen) {
        assert.match(request.headers['content-type'] ?? '', /^application\/json/, request.method);
        assert.equal(request.length, 0, request.method);
      }
      assert.equal(seen.length, 2);
    } finally {
      recorder.close();
    }
  });

  it('reads health', async () => {
    const health = (await client.health()) as unknown as Envelope<{ status: string }>;
    assert.equal(health.success, true);
    assert.equal(health.data.status, 'ok');
  });

  it('creates, lists, gets and exports through client.api, and hears download-create, -start and -success', async () => {
    const created = (await client.api.post('/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/clip.bin'), name: 'From the SDK' }], startDownload: true })) as unknown as Envelope<Array<{ id: number }>>;
    assert.equal(created.success, true);
    const id = created.data[0].id;
    assert.equal(typeof id, 'number');
    const create = await hear('download-create');
    assert.deepEqual(create.data, { ids: [id], count: 1 });
    assert.deepEqual((await hear('download-start', id)).data, { id: String(id) });
    assert.deepEqual((await hear('download-success', id)).data, { id: String(id) });

    const list = (await client.api.get('/api/downloads', { params: { current: 1, pageSize: 20, _: Date.now() } })) as unknown as Envelope<{ total: number; list: Array<{ id: number; exists: boolean }> }>;
    assert.equal(list.data.total, 1);
    assert.equal(list.data.list[0].id, id);
    assert.equal(list.data.list[0].exists, true);
    const one = (await client.api.get(`/api/downloads/${id}`)) as unknown as Envelope<{ name: string; status: string; exists: boolean }>;
    assert.equal(one.data.name, 'From the SDK');
    assert.equal(one.data.status, 'success');
    const exported = (await client.api.get('/api/downloads/export')) as unknown as Envelope<string>;
    assert.equal(exported.success, true, 'axios ranks application/json first, so the export comes wrapped');
    assert.equal(exported.data, `${origin.url('/clip.bin')}\n`);
  });

  it('starts, stops and deletes through client.api with its default headers and no body', async () => {
    const created = (await client.api.post('/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/slow.bin') }] })) as unknown as Envelope<Array<{ id: number; status: string }>>;
    const id = created.data[0].id;
    assert.equal(created.data[0].status, 'waiting');
    const started = (await client.api.post(`/api/downloads/${id}/start`)) as unknown as Envelope<{ id: number; queuedAt: string | null }>;
    assert.equal(started.success, true);
    assert.equal(started.data.id, id);
    await hear('download-start', id);
    await waitForStatus(test, id, ['downloading']);
    const stopped = (await client.api.post(`/api/downloads/${id}/stop`)) as unknown as Envelope;
    assert.deepEqual(stopped, { success: true, code: 0, message: 'ok', data: {} });
    assert.deepEqual((await hear('download-stop', id)).data, { id: String(id) });
    assert.equal((await waitForStatus(test, id, ['stopped'])).status, 'stopped');
    const deleted = (await client.api.delete(`/api/downloads/${id}`, { params: { deleteFile: true } })) as unknown as Envelope;
    assert.deepEqual(deleted.data, {});
  });

  it('hears download-failed with errorCode for a task that cannot be fetched', async () => {
    const created = (await client.api.post('/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/gone.bin') }], startDownload: true })) as unknown as Envelope<Array<{ id: number }>>;
    const id = created.data[0].id;
    const failed = await hear('download-failed', id);
    assert.equal(failed.data.id, String(id));
    assert.equal(failed.data.errorCode, 'download_failed');
    assert.match(String(failed.data.error), /404/);
  });

  it('sees invalid_id and download_not_found as the SDK reports them, and as axios reads them', async () => {
    await assert.rejects(client.api.get('/api/downloads/abc'), /API request failed: .*id must be a positive integer/);
    await assert.rejects(client.api.post('/api/downloads/999999/stop'), /API request failed: No task with id 999999/);
    await assert.rejects(client.api.delete('/api/downloads/999999'), /API request failed: No task with id 999999/);
    const invalid = (await client.api.get('/api/downloads/abc', { validateStatus: () => true })) as unknown as Envelope;
    assert.equal(invalid.code, 400);
    assert.equal(invalid.errorCode, 'invalid_id');
    const missing = (await client.api.post('/api/downloads/999999/start', undefined, { validateStatus: () => true })) as unknown as Envelope;
    assert.equal(missing.code, 404);
    assert.equal(missing.errorCode, 'download_not_found');
  });
});
