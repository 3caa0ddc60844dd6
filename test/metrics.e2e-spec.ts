import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, callApi, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';
import { SseRecorder } from './helpers/sse-client.js';

const KEY = 'metrics-test-key-123';

/** The value of one sample in Prometheus text, e.g. sample(text, 'mediago_tasks', { status: 'success' }). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('metrics and stats', () => {
  let origin: OriginServer;
  const body = randomBytes(512 * 1024);

  before(async () => {
    origin = new OriginServer()
      .route('/files/a.bin', { body })
      .route('/files/missing.bin', { status: 404 })
      .route('/files/flaky.bin', { body, failTimes: 2, failStatus: 503 });
    await origin.start();
  });

  after(async () => {
    await origin.stop();
  });

  describe('without a key', () => {
    let test: TestApp;
    before(async () => {
      test = await startTestApp({ DIRECT_CONNECTIONS: '2' });
    });
    after(async () => {
      await test.close();
    });

    it('counts runs, bytes, statuses, event streams and requests in the Prometheus text format', async () => {
      const events = new SseRecorder();
      await events.open(`${test.baseUrl}/api/events`);
      try {
        const created = await test.api('POST', '/api/downloads', {
          tasks: [
            { type: 'direct', url: origin.url('/files/a.bin'), name: 'a' },
            { type: 'direct', url: origin.url('/files/missing.bin'), name: 'missing' },
          ],
          startDownload: true,
        });
        assert.equal(created.status, 200, created.text);
        const [ok, missing] = created.body.data.map((task: { id: number }) => task.id);
        await waitForStatus(test, ok, ['success']);
        await waitForStatus(test, missing, ['failed']);
        await waitFor(async () => {
          const text = await (await fetch(`${test.baseUrl}/metrics`)).text();
          return sample(text, 'mediago_tasks_failed_total', { type: 'direct', error_code: 'download_failed' }) === 1;
        }, 10_000, 'the failure to be counted');

        const response = await fetch(`${test.baseUrl}/metrics`);
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
        const text = await response.text();
        assert.equal(sample(text, 'mediago_tasks_started_total', { type: 'direct' }), 2);
        assert.equal(sample(text, 'mediago_tasks_succeeded_total', { type: 'direct' }), 1);
        assert.equal(sample(text, 'mediago_tasks_failed_total', { type: 'direct', error_code: 'download_failed' }), 1);
        assert.equal(sample(text, 'mediago_downloaded_bytes_total', { type: 'direct' }), body.length);
        assert.equal(sample(text, 'mediago_tasks', { status: 'success' }), 1);
        assert.equal(sample(text, 'mediago_tasks', { status: 'failed' }), 1);
        assert.equal(sample(text, 'mediago_tasks', { status: 'downloading' }), 0);
        assert.equal(sample(text, 'mediago_tasks_running'), 0);
        assert.equal(sample(text, 'mediago_sse_clients'), 1);
        assert.equal(sample(text, 'mediago_run_duration_seconds_count', { type: 'direct', outcome: 'success' }), 1);
        assert.equal(sample(text, 'mediago_queue_wait_seconds_count', { type: 'direct' }), 2);
        // requests are labelled by route pattern, never by URL
        assert.ok((sample(text, 'mediago_http_request_duration_seconds_count', { method: 'GET', route: '/api/downloads/:id', status: '200' }) ?? 0) >= 2);
        assert.ok(!text.includes(`/api/downloads/${ok}"`), 'no series per task id');
        assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'default process metrics are there');
        assert.ok(!text.includes('nodejs_gc_duration_seconds'), 'GC durations only with METRICS_GC=true');
      } finally {
        events.close();
      }
      await waitFor(async () => sample(await (await fetch(`${test.baseUrl}/metrics`)).text(), 'mediago_sse_clients') === 0, 5000, 'the closed stream to be uncounted');
    });

    it('counts retries by reason', async () => {
      const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/flaky.bin'), name: 'flaky' }], startDownload: true });
      await waitForStatus(test, created.body.data[0].id, ['success']);
      const text = await (await fetch(`${test.baseUrl}/metrics`)).text();
      assert.equal(sample(text, 'mediago_retries_total', { reason: 'http_5xx', source: 'download' }), 2);
      await test.api('DELETE', `/api/downloads/${created.body.data[0].id}`);
    });

    it('answers /api/stats with counts by status, speed and free disk space', async () => {
      const answer = await test.api('GET', '/api/stats');
      assert.equal(answer.status, 200, answer.text);
      const stats = answer.body.data;
      assert.deepEqual(stats.counts, { waiting: 0, downloading: 0, success: 1, failed: 1, stopped: 0, total: 2 });
      assert.equal(stats.speed, 0);
      assert.equal(stats.running, 0);
      assert.ok(stats.disk.freeBytes > 0 && stats.disk.totalBytes >= stats.disk.freeBytes);
    });
  });

  it('adds the GC durations by kind with METRICS_GC=true', async () => {
    const test = await startTestApp({ METRICS_GC: 'true' });
    try {
      // each scrape allocates: a few of them make the young generation collect
      await waitFor(async () => (sample(await (await fetch(`${test.baseUrl}/metrics`)).text(), 'nodejs_gc_duration_seconds_count', { kind: 'minor' }) ?? 0) > 0, 10_000, 'a collection to be counted');
      const text = await (await fetch(`${test.baseUrl}/metrics`)).text();
      assert.ok((sample(text, 'nodejs_gc_duration_seconds_sum', { kind: 'minor' }) ?? 0) > 0);
      assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'the other process metrics are there as well');
    } finally {
      await test.close();
    }
  });

  describe('with API_KEY', () => {
    it('guards /metrics and /api/stats with the key', async () => {
      const test = await startTestApp({ API_KEY: KEY });
      try {
        const denied = await callApi(test.baseUrl, 'GET', '/metrics');
        assert.equal(denied.status, 401);
        assert.equal(denied.body.success, false);
        assert.equal((denied.body as { errorCode?: string }).errorCode, 'unauthorized');
        assert.equal((await callApi(test.baseUrl, 'GET', '/metrics', undefined, { authorization: `Bearer ${KEY}` })).status, 200);
        assert.equal((await callApi(test.baseUrl, 'GET', '/api/stats')).status, 401);
        assert.equal((await callApi(test.baseUrl, 'GET', '/api/stats', undefined, { 'x-api-key': KEY })).status, 200);
      } finally {
        await test.close();
      }
    });

    it('opens /metrics alone with METRICS_PUBLIC=true', async () => {
      const test = await startTestApp({ API_KEY: KEY, METRICS_PUBLIC: 'true' });
      try {
        assert.equal((await callApi(test.baseUrl, 'GET', '/metrics')).status, 200);
        assert.equal((await callApi(test.baseUrl, 'GET', '/api/stats')).status, 401);
      } finally {
        await test.close();
      }
    });
  });
});
