import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { verifyWebhookSignature } from '../src/webhooks/webhook-signature.js';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';

const SECRET = 'webhook-secret-for-tests';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A webhook receiver on 127.0.0.1 that answers 500 to the first `failFirst` deliveries, then 204. */
class Receiver {
  readonly received: Received[] = [];
  private server: Server | null = null;

  constructor(private failFirst = 0) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const answered = this.received.length < this.failFirst ? 500 : 204;
        this.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
        response.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook?token=query-secret`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('webhooks', () => {
  let origin: OriginServer;
  let receiver: Receiver;
  let test: TestApp;
  let hookUrl: string;

  before(async () => {
    origin = new OriginServer().route('/files/a.bin', { body: randomBytes(64 * 1024) }).route('/files/missing.bin', { status: 404 });
    await origin.start();
    receiver = new Receiver(2);
    hookUrl = await receiver.start();
    // a second receiver that refuses connections: its retries must never hold up downloads or the first receiver
    test = await startTestApp({ WEBHOOK_URLS: `${hookUrl}, http://127.0.0.1:9/dead`, WEBHOOK_SECRET: SECRET, RETRY_BASE_DELAY_MS: '100' });
  });

  after(async () => {
    await test.close();
    await receiver.stop();
    await origin.stop();
  });

  it('POSTs download-success signed with the secret, retried after two 500s, with credentials redacted', async () => {
    const created = await test.api('POST', '/api/downloads', {
      tasks: [{ type: 'direct', url: origin.url('/files/a.bin'), name: 'a', headers: 'Cookie: SESSDATA=very-secret\nX-Trace: 1' }],
      startDownload: true,
    });
    assert.equal(created.status, 200, created.text);
    const id = created.body.data[0].id;
    await waitForStatus(test, id, ['success']);
    const delivered = await waitFor(async () => receiver.received.find((request) => request.answered === 204), 20_000, 'a delivery answered 204');

    assert.equal(receiver.received.length, 3, 'two 500s, then the delivery that succeeded');
    const bodies = new Set(receiver.received.map((request) => request.body));
    assert.equal(bodies.size, 1, 'every retry carries the same body');
    for (const request of receiver.received) {
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['x-mediago-event'], 'download-success');
      assert.match(String(request.headers['x-webhook-timestamp']), /^\d{10}$/);
      assert.ok(verifyWebhookSignature(request.body, SECRET, String(request.headers['x-signature-256'])), 'the signature verifies');
      assert.ok(!verifyWebhookSignature(request.body, 'another-secret', String(request.headers['x-signature-256'])));
    }
    const payload = JSON.parse(delivered.body);
    assert.equal(payload.event, 'download-success');
    assert.deepEqual(payload.data, { id: String(id) });
    assert.ok(!Number.isNaN(Date.parse(payload.timestamp)));
    assert.equal(payload.task.id, id);
    assert.equal(payload.task.status, 'success');
    assert.equal(payload.task.headers, 'Cookie: [redacted]\nX-Trace: 1');
    assert.ok(!delivered.body.includes('very-secret'));

    const overview = (await test.api('GET', '/api/webhooks')).body.data;
    assert.deepEqual(overview.events, ['download-success', 'download-failed']);
    assert.equal(overview.signed, true);
    const [live, dead] = overview.targets;
    assert.equal(live.url, hookUrl.split('?')[0], 'the query string (it may hold a token) is not shown');
    assert.equal(live.delivered, 1);
    assert.equal(live.lastStatus, 204);
    assert.equal(live.lastError, null);
    assert.equal(dead.delivered, 0);
    assert.ok(dead.pending === 1 || dead.failed === 1, JSON.stringify(dead));
  });

  it('POSTs download-failed with its errorCode, and sends no webhook for the other events by default', async () => {
    const before = receiver.received.length;
    const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/missing.bin'), name: 'gone' }], startDownload: true });
    const id = created.body.data[0].id;
    await waitForStatus(test, id, ['failed']);
    const delivered = await waitFor(async () => receiver.received.slice(before).find((request) => request.answered === 204), 20_000, 'the failure delivered');
    const payload = JSON.parse(delivered.body);
    assert.equal(payload.event, 'download-failed');
    assert.equal(payload.data.errorCode, 'download_failed');
    assert.match(payload.data.error, /404/);
    assert.equal(payload.task.status, 'failed');
    assert.deepEqual(
      receiver.received.slice(before).map((request) => request.headers['x-mediago-event']),
      ['download-failed'],
      'no create, start or progress deliveries',
    );
  });

  it('sends a test event on request and reports each receiver', async () => {
    const answer = await test.api('POST', '/api/webhooks/test');
    assert.equal(answer.status, 200, answer.text);
    const [live, dead] = answer.body.data;
    assert.deepEqual(live, { url: hookUrl.split('?')[0], delivered: true, status: 204, error: null });
    assert.equal(dead.delivered, false);
    assert.ok(dead.error);
    const last = receiver.received.at(-1)!;
    assert.equal(JSON.parse(last.body).event, 'test');
    assert.ok(verifyWebhookSignature(last.body, SECRET, String(last.headers['x-signature-256'])));
  });
});
