import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from '../../test/fixtures/origin-server.js';
import { HttpClient } from './http-client.js';
import { HLS_SEGMENT } from './media-sniff.js';
import { SegmentPool, type SegmentPoolOptions } from './segment-pool.js';

const body = (index: number) => Buffer.alloc(20_000, index);

describe('SegmentPool', () => {
  const origin = new OriginServer();
  const http = new HttpClient({ stallTimeoutMs: 10_000, retry: { attempts: 3, baseDelayMs: 10 } });
  const dir = mkdtempSync(join(tmpdir(), 'segment-pool-'));
  let busy = 0;
  let peak = 0;
  let served = 0;
  let edgeHits = 0;

  before(async () => {
    for (let index = 0; index < 8; index++) origin.route(`/s/${index}`, { body: body(index) });
    origin.route('/range', { body: Buffer.concat([body(1), body(2)]) });
    origin.route('/norange', { body: Buffer.concat([body(1), body(2)]), ranges: false });
    origin.route('/gone', { status: 404 });
    // a CDN edge that answers its error page with 200 twice, then the media
    origin.route('/edge-error', {
      handler: (_req, res) => {
        edgeHits++;
        if (edgeHits <= 2) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>busy</html>');
        res.writeHead(200, { 'content-type': 'video/mp2t' }).end(body(5));
      },
    });
    // a large resource without Range support whose first answer is cut part way
    origin.route('/norange-cut', { body: Buffer.alloc(1024 * 1024, 7), ranges: false, cutAfterBytes: 300_000, cutRequests: [1] });
    // answers 429 to the first burst, then serves slowly enough to measure concurrency
    origin.route('/busy', {
      handler: async (req, res) => {
        served++;
        if (served <= 4) return void res.writeHead(429, { 'retry-after': '0' }).end();
        busy++;
        peak = Math.max(peak, busy);
        await new Promise((resolve) => setTimeout(resolve, 30));
        busy--;
        res.writeHead(200).end(body(9));
      },
    });
    let stalls = 0;
    origin.route('/stall', {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-length': '20000' });
        if (++stalls === 1) return void res.write(body(3).subarray(0, 100));
        res.end(body(3));
      },
    });
    // a "segment" that is an HLS playlist naming a local file; small (buffered) and large (streamed) bodies
    origin.route('/playlist-as-segment', { body: '#EXTM3U\n#EXTINF:1,\nfile:///etc/hostname\n#EXT-X-ENDLIST\n' });
    origin.route('/playlist-as-segment-large', { body: `#EXTM3U\n${'#EXTINF:1,\nfile:///etc/hostname\n'.repeat(300_000)}`, hideLength: true });
    origin.route('/ts', { body: Buffer.concat(Array.from({ length: 4 }, () => Buffer.concat([Buffer.from([0x47, 0x40, 0, 0x10]), Buffer.alloc(184, 0xff)]))) });
    await origin.start();
  });

  after(async () => {
    await origin.stop();
    await http.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const options = (overrides: Partial<SegmentPoolOptions> = {}): SegmentPoolOptions => ({
    http,
    headers: [['X-Task', 'yes']],
    concurrency: 4,
    retry: { attempts: 3, baseDelayMs: 10 },
    stallTimeoutMs: 5_000,
    signal: new AbortController().signal,
    ...overrides,
  });

  it('fetches every piece into its file with the task headers, and skips complete files on a later run', async () => {
    const target = join(dir, 'all');
    const requests = Array.from({ length: 8 }, (_, index) => ({ label: `piece ${index}`, url: origin.url(`/s/${index}`), path: join(target, `${index}.bin`) }));
    const pool = new SegmentPool(options());
    pool.add(requests);
    await pool.settled();
    for (let index = 0; index < 8; index++) assert.deepEqual(readFileSync(join(target, `${index}.bin`)), body(index));
    assert.ok(origin.requests.filter((request) => request.path.startsWith('/s/')).every((request) => request.headers['x-task'] === 'yes'));
    assert.deepEqual(readdirSync(target).filter((file) => file.endsWith('.part')), []);

    const again = new SegmentPool(options());
    again.add(requests);
    await again.settled();
    assert.equal(origin.hits('/s/0'), 1);
    assert.equal(again.progress().done, 8);
    assert.equal(again.progress().completedBytes, 8 * 20_000);
  });

  it('fails on a piece that is not media, naming it, and keeps no file of it', async () => {
    for (const path of ['/playlist-as-segment', '/playlist-as-segment-large']) {
      const target = join(dir, `sniff${path.replaceAll('/', '-')}`);
      const pool = new SegmentPool(options());
      pool.add([
        { label: 'segment 1 of http://cdn.example/a.m3u8', url: origin.url('/ts'), path: join(target, '1.ts'), check: HLS_SEGMENT },
        { label: 'segment 2 of http://cdn.example/a.m3u8', url: origin.url(path), path: join(target, '2.ts'), check: HLS_SEGMENT },
      ]);
      await assert.rejects(pool.settled(), (error: Error) => {
        assert.equal(error.message, "segment 2 of http://cdn.example/a.m3u8 is not MPEG-TS: it starts with '#EXTM3U'");
        return true;
      });
      assert.equal(existsSync(join(target, '2.ts')), false);
      assert.equal(origin.hits(path), 1, 'a piece that is not media is not asked for again');
    }
  });

  it('cuts a byte range, also out of a server that ignores Range', async () => {
    const pool = new SegmentPool(options());
    pool.add([
      { label: 'ranged', url: origin.url('/range'), range: { start: 20_000, end: 29_999 }, path: join(dir, 'r1') },
      { label: 'ignored', url: origin.url('/norange'), range: { start: 20_000, end: 29_999 }, path: join(dir, 'r2') },
    ]);
    await pool.settled();
    assert.deepEqual(readFileSync(join(dir, 'r1')), body(2).subarray(0, 10_000));
    assert.deepEqual(readFileSync(join(dir, 'r2')), body(2).subarray(0, 10_000));
  });

  it('retries a cut answer from a server that ignores Range instead of waiting forever', async () => {
    const log: string[] = [];
    const pool = new SegmentPool(options({ stallTimeoutMs: 1_000, log: (line) => log.push(line) }));
    pool.add([{ label: 'cut', url: origin.url('/norange-cut'), range: { start: 100_000, end: 499_999 }, path: join(dir, 'cut') }]);
    await pool.settled();
    assert.deepEqual(readFileSync(join(dir, 'cut')), Buffer.alloc(400_000, 7));
    assert.equal(origin.hits('/norange-cut'), 2, log.join('\n'));
  });

  it('never keeps an HTML error page as a piece of media: it tries again', async () => {
    const pool = new SegmentPool(options());
    pool.add([{ label: 'edge', url: origin.url('/edge-error'), path: join(dir, 'edge') }]);
    await pool.settled();
    assert.deepEqual(readFileSync(join(dir, 'edge')), body(5));
    assert.equal(edgeHits, 3);
  });

  it('lowers the concurrency for a host that answers 429, and still completes', async () => {
    const log: string[] = [];
    const pool = new SegmentPool(options({ concurrency: 4, log: (line) => log.push(line) }));
    pool.add(Array.from({ length: 8 }, (_, index) => ({ label: `busy ${index}`, url: origin.url('/busy'), path: join(dir, 'busy', `${index}`) })));
    await pool.settled();
    assert.ok(log.some((line) => /answered HTTP 429: lowering its concurrency to 2/.test(line)), log.join('\n'));
    assert.ok(peak <= 2, `peak concurrency after the 429s was ${peak}`);
  });

  it('aborts a stalled request and tries again', async () => {
    const pool = new SegmentPool(options({ stallTimeoutMs: 300 }));
    pool.add([{ label: 'stalling', url: origin.url('/stall'), path: join(dir, 'stall') }]);
    await pool.settled();
    assert.deepEqual(readFileSync(join(dir, 'stall')), body(3));
    assert.equal(origin.hits('/stall'), 2);
  });

  it('fails with the piece, the status and the tries when a piece never succeeds', async () => {
    const pool = new SegmentPool(options());
    pool.add([{ label: 'segment 5 of https://h/p.m3u8', url: origin.url('/gone'), path: join(dir, 'gone') }]);
    await assert.rejects(pool.settled(), /^SegmentFailedError: segment 5 of https:\/\/h\/p\.m3u8 \(http:\/\/127\.0\.0\.1:\d+\/gone\) answered HTTP 404 after 3 tries$/);
    assert.equal(existsSync(join(dir, 'gone')), false);
  });

  it('rejects with an AbortError when the signal aborts', async () => {
    const controller = new AbortController();
    const pool = new SegmentPool(options({ signal: controller.signal }));
    writeFileSync(join(dir, 'placeholder'), '');
    pool.add([{ label: 'stalling', url: origin.url('/stall'), path: join(dir, 'never') }]);
    controller.abort();
    await assert.rejects(pool.settled(), (error: Error) => error.name === 'AbortError');
  });
});
