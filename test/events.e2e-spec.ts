import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';
import { SseRecorder } from './helpers/sse-client.js';

describe('GET /api/events', () => {
  let test: TestApp;
  let origin: OriginServer;

  before(async () => {
    origin = new OriginServer().route('/tiny.bin', { body: Buffer.alloc(4096, 7) });
    await origin.start();
    test = await startTestApp({ SSE_PING_INTERVAL_MS: '300' });
  });

  after(async () => {
    await test.close();
    await origin.stop();
  });

  it('sends the response head at once, before any event, and pings', async () => {
    const controller = new AbortController();
    const response = await fetch(`${test.baseUrl}/api/events`, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes(': ping') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    assert.match(text, /^: ping$/m);
  });

  it('delivers each event with the contract names and types: ids numbers, id strings', async () => {
    const client = new SseRecorder();
    await client.open(`${test.baseUrl}/api/events`);
    try {
      const answer = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/tiny.bin') }, { type: 'direct', url: origin.url('/nope.bin') }], startDownload: true });
      const [ok, missing] = answer.body.data.map((task: { id: number }) => task.id);
      const created = await client.waitFor('download-create');
      assert.deepEqual(created.data, { ids: [ok, missing], count: 2 });
      assert.deepEqual((await client.waitFor('download-start', ok)).data, { id: String(ok) });
      assert.deepEqual((await client.waitFor('download-success', ok)).data, { id: String(ok) });
      const failed = await client.waitFor('download-failed', missing);
      assert.equal(failed.data.id, String(missing));
      assert.match(failed.data.error, /404/);
      assert.equal(failed.data.errorCode, 'download_failed');
      assert.equal('dependency' in failed.data, false);
      const idle = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/tiny.bin') }] })).body.data[0].id;
      await test.api('POST', `/api/downloads/${idle}/start`);
      await waitForStatus(test, idle, ['success']);
      await client.waitFor('download-success', idle);
    } finally {
      client.close();
    }
  });

  it('sends download-update for edits, the live flag, marks and requeues, and download-delete, with string ids', async () => {
    const client = new SseRecorder();
    await client.open(`${test.baseUrl}/api/events`);
    try {
      const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/tiny.bin') }, { type: 'direct', url: origin.url('/tiny.bin') }] });
      const [edited, marked] = created.body.data.map((task: { id: number }) => task.id);
      const updatesOf = (id: number) => client.of('download-update', id).length;

      await test.api('PUT', `/api/downloads/${edited}`, { name: 'Renamed' });
      assert.deepEqual((await client.waitFor('download-update', edited)).data, { id: String(edited) });
      await test.api('PUT', `/api/downloads/${edited}/live`, { isLive: false });
      await waitFor(async () => updatesOf(edited) === 2, 10_000, 'an update for the live flag');
      await test.api('PUT', '/api/downloads/status', { ids: [marked], status: 'failed' });
      await client.waitFor('download-update', marked);
      await test.api('POST', `/api/downloads/${marked}/start`, '', { 'content-type': 'application/json' });
      await waitFor(async () => updatesOf(marked) === 2, 10_000, 'an update for the requeue');
      await waitForStatus(test, marked, ['success']);
      await client.waitFor('download-success', marked);
      await test.api('DELETE', `/api/downloads/${edited}`);
      assert.deepEqual((await client.waitFor('download-delete', edited)).data, { id: String(edited) });
      assert.equal(client.of('download-delete', marked).length, 0, 'only the deleted task');
      assert.equal(updatesOf(edited), 2, 'reads and a delete are no updates');
    } finally {
      client.close();
    }
  });

  it('keeps serving other clients while one client never reads', async () => {
    const stalled = connect(Number(new URL(test.baseUrl).port), '127.0.0.1');
    stalled.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    stalled.pause();
    const client = new SseRecorder();
    await client.open(`${test.baseUrl}/api/events`);
    try {
      for (let round = 0; round < 20; round++) {
        await test.api('POST', '/api/downloads', { tasks: Array.from({ length: 50 }, () => ({ type: 'direct', url: origin.url('/tiny.bin'), name: 'x'.repeat(200) })) });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(client.of('download-create').length, 20);
      const health = await test.api('GET', '/healthy');
      assert.equal(health.status, 200);
    } finally {
      client.close();
      stalled.destroy();
    }
  });
});

describe('download-failed for a missing tool', () => {
  let test: TestApp;

  before(async () => {
    test = await startTestApp({ YTDLP_PATH: '/nonexistent/tools/yt-dlp' });
  });

  after(async () => {
    await test.close();
  });

  it('says errorCode dependency_missing and names the tool, on the wire and in the task', async () => {
    const client = new SseRecorder();
    await client.open(`${test.baseUrl}/api/events`);
    try {
      const answer = await test.api('POST', '/api/downloads', { tasks: [{ type: 'youtube', url: 'http://127.0.0.1:9/watch?v=x' }], startDownload: true });
      const id = answer.body.data[0].id;
      const failed = await client.waitFor('download-failed', id);
      assert.equal(failed.data.id, String(id));
      assert.equal(failed.data.errorCode, 'dependency_missing');
      assert.equal(failed.data.dependency, 'yt-dlp');
      assert.match(failed.data.error, /yt-dlp/);
      assert.doesNotMatch(failed.data.error, /exit (status|code) 1$/);
      const task = await waitForStatus(test, id, ['failed']);
      assert.match(task.error, /yt-dlp/);
    } finally {
      client.close();
    }
  });
});
