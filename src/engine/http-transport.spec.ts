import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HostileOrigin } from '../../test/fixtures/hostile-origin.js';
import { OriginServer } from '../../test/fixtures/origin-server.js';
import { HttpClient } from './http-client.js';
import { PermanentError, isTransient } from './http-error.js';

describe('hostile response heads', () => {
  const hostile = new HostileOrigin();
  const origin = new OriginServer();
  // the stall timeout is long on purpose: only the head and document deadlines can end these requests
  const http = new HttpClient({ stallTimeoutMs: 60_000, headTimeoutMs: 300, documentTimeoutMs: 400, retry: { attempts: 1, baseDelayMs: 10 } });

  before(async () => {
    await hostile.start();
    // the head comes at once, then ten bytes every 50 ms: no inactivity timer ever fires
    origin.route('/slow.m3u8', {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
        res.flushHeaders();
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('#EXTINF:1\n')), 50);
        res.on('close', () => clearInterval(timer));
      },
    });
    await origin.start();
  });

  after(async () => {
    await http.close();
    await hostile.stop();
    await origin.stop();
  });

  it('fails a 101 Switching Protocols answer at once, as a permanent error naming the URL', async () => {
    await assert.rejects(http.open(hostile.url('switch', 'a.bin?token=secret')), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.equal(error.message, `${hostile.url('switch', 'a.bin')} answered 101 Switching Protocols instead of the media`);
      return true;
    });
  });

  it('cuts a head trickled a byte at a time at the head deadline, as a transient timeout', async () => {
    await assert.rejects(http.open(hostile.url('trickle')), (error: unknown) => {
      assert.match((error as Error).message, /no complete answer head within 300 ms/);
      assert.ok(isTransient(error));
      return true;
    });
  });

  it('refuses a flood of 103 Early Hints', async () => {
    await assert.rejects(http.open(hostile.url('hints')), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /sent 9 interim 103 answers instead of the media/);
      return true;
    });
  });

  it('gives a small document a deadline for the whole body, however steadily it trickles', async () => {
    await assert.rejects(http.fetchText(origin.url('/slow.m3u8')), /slow\.m3u8 did not arrive whole within 400 ms/);
  });
});
