import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HostileOrigin } from './fixtures/hostile-origin.js';
import { OriginServer, drained } from './fixtures/origin-server.js';
import { waitFor } from './helpers/app-harness.js';
import { ServiceProcess } from './helpers/service-process.js';

const MiB = 1024 * 1024;
const RSS_LIMIT_MIB = 300;
const HEALTHY_LIMIT_MS = 2_000;

/** The built service as its own process, watched from outside: its memory from /proc and its /healthy latency. */
class WatchedService extends ServiceProcess {
  maxRssMiB = 0;
  maxHealthyMs = 0;
  slowProbes: number[] = [];
  private watching = false;
  private watcher: Promise<void> | null = null;

  override async start(): Promise<void> {
    await super.start();
    this.watching = true;
    this.watcher = this.watch();
  }

  /** How it ended, or null while it runs. */
  get exited(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.alive ? null : { code: this.child!.exitCode, signal: this.child!.signalCode };
  }

  /** Every ~100 ms: one /healthy probe, timed, and the resident set size. */
  private async watch(): Promise<void> {
    while (this.watching && this.alive) {
      this.maxRssMiB = Math.max(this.maxRssMiB, await this.rssMiB('VmRSS'));
      const began = performance.now();
      const ok = await fetch(`${this.baseUrl}/healthy`, { signal: AbortSignal.timeout(20_000) }).then((response) => response.ok, () => false);
      const took = performance.now() - began;
      this.maxHealthyMs = Math.max(this.maxHealthyMs, ok ? took : Infinity);
      if (!ok || took > HEALTHY_LIMIT_MS) this.slowProbes.push(ok ? Math.round(took) : -1);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async rssMiB(field: 'VmRSS' | 'VmHWM'): Promise<number> {
    const status = await readFile(`/proc/${this.child!.pid}/status`, 'utf8').catch(() => '');
    const kib = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return kib / 1024;
  }

  async create(type: string, url: string, name: string): Promise<number> {
    const created = await this.api('POST', '/api/downloads', { tasks: [{ type, url, name }], startDownload: true });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return created.body.data[0].id;
  }

  async settled(id: number, timeoutMs = 30_000): Promise<{ status: string; error: string | null }> {
    return waitFor(async () => {
      const { body } = await this.api('GET', `/api/downloads/${id}`);
      return ['success', 'failed', 'stopped'].includes(body.data.status) ? body.data : null;
    }, timeoutMs, `task ${id} to settle`);
  }

  async stop(): Promise<void> {
    this.watching = false;
    await this.watcher;
    await this.kill('SIGTERM');
  }
}

const mpd = (body: string, duration = 'PT10S') =>
  `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" profiles="urn:mpeg:dash:profile:isoff-live:2011" mediaPresentationDuration="${duration}"><Period>${body}</Period></MPD>`;
const videoSet = (inner: string) => `<AdaptationSet contentType="video" mimeType="video/mp4"><Representation id="v" bandwidth="100000" codecs="avc1.64001f" width="640" height="360">${inner}</Representation></AdaptationSet>`;

/** Writes junk to a response until the client goes away (or a bound, so the test never runs on forever). */
async function endless(res: import('node:http').ServerResponse, counter: { sent: number }): Promise<void> {
  const junk = Buffer.alloc(256 * 1024, 0x61);
  while (!res.destroyed && counter.sent < 8 * 1024 * MiB) {
    counter.sent += junk.length;
    if (!res.write(junk)) await drained(res);
  }
  res.end();
}

describe('hostile origins against the running service', () => {
  const origin = new OriginServer();
  const hostile = new HostileOrigin();
  let root: string;
  let service: WatchedService;
  const env = {
    MAX_CONCURRENT_DOWNLOADS: '12',
    DIRECT_CONNECTIONS: '1',
    RETRY_ATTEMPTS: '2',
    RETRY_BASE_DELAY_MS: '50',
    STALL_TIMEOUT_MS: '10000',
    HEAD_TIMEOUT_MS: '1500',
    DOCUMENT_TIMEOUT_MS: '2500',
  };
  const weak = randomBytes(4 * MiB);
  let weakMode: 'normal' | 'endless' = 'normal';
  const sampleJunk = { sent: 0 };
  const indexJunk = { sent: 0 };
  const failed: Record<string, { id: number; status: string; error: string | null }> = {};

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mediago-hostile-'));
    const secret = join(root, 'secret.ts');
    origin
      // item 1: segment bombs, a few hundred bytes each
      .route('/timeline-bomb.mpd', { contentType: 'application/dash+xml', body: mpd(`<AdaptationSet contentType="video" mimeType="video/mp4"><SegmentTemplate media="$Time$.m4s" initialization="init.mp4" timescale="1000"><SegmentTimeline><S t="0" d="1" r="10000000"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1" codecs="avc1.64001f"/></AdaptationSet>`) })
      .route('/template-bomb.mpd', { contentType: 'application/dash+xml', body: mpd(`<AdaptationSet contentType="video" mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s" initialization="init.mp4" duration="1" timescale="1000"/><Representation id="v" bandwidth="1" codecs="avc1.64001f"/></AdaptationSet>`, 'PT100000H') })
      .route('/huge.m3u8', { contentType: 'application/vnd.apple.mpegurl', body: `#EXTM3U\n#EXT-X-TARGETDURATION:4\n${Array.from({ length: 700_000 }, (_, index) => `#EXTINF:4.000,\nsegment-${index}.ts\n`).join('')}#EXT-X-ENDLIST\n` })
      .route('/many.m3u8', { contentType: 'application/vnd.apple.mpegurl', body: `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${'#EXTINF:1,\ns.ts\n'.repeat(150_000)}#EXT-X-ENDLIST\n` })
      // item 1: just under the limit, expanded for real (its segments do not exist)
      .route('/near.mpd', { contentType: 'application/dash+xml', body: mpd(`<AdaptationSet contentType="video" mimeType="video/mp4"><SegmentTemplate media="$Time$.m4s" initialization="init.mp4" timescale="1000"><SegmentTimeline><S t="0" d="1000" r="29998"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1" codecs="avc1.64001f"/></AdaptationSet>`, 'PT30000S') })
      .route('/near.m3u8', { contentType: 'application/vnd.apple.mpegurl', body: `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${'#EXTINF:1,\nnope.ts\n'.repeat(29_999)}#EXT-X-ENDLIST\n` })
      // item 2: an index far into a file whose server ignores Range and never stops sending
      .route('/far-index.mpd', { contentType: 'application/dash+xml', body: mpd(videoSet('<BaseURL>endless.mp4</BaseURL><SegmentBase indexRange="2000000000-2000001000"><Initialization range="0-999"/></SegmentBase>')) })
      .route('/endless.mp4', { handler: (_req, res) => void endless(res.writeHead(200, { 'content-type': 'video/mp4' }), indexJunk) })
      // item 2: a weak-ETag file whose resume check is answered without end
      .route('/weak.bin', {
        handler: async (req, res) => {
          const [, from, to] = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '') ?? [];
          const start = Number(from ?? 0);
          const end = to ? Number(to) : weak.length - 1;
          const headers = { etag: 'W/"weak"', 'content-type': 'application/octet-stream', 'content-range': `bytes ${start}-${end}/${weak.length}` };
          if (weakMode === 'endless' && end < weak.length - 1) {
            // the 64 KiB sample the resume compares, then far more than was asked, without end
            res.writeHead(206, headers).write(weak.subarray(start, end + 1));
            return endless(res, sampleJunk);
          }
          res.writeHead(206, { ...headers, 'content-length': String(end - start + 1) });
          const body = weak.subarray(start, end + 1);
          // slow enough to stop part way
          for (let offset = 0; offset < body.length && !res.destroyed; offset += 64 * 1024) {
            res.write(body.subarray(offset, offset + 64 * 1024));
            if (weakMode === 'normal') await new Promise((resolve) => setTimeout(resolve, 40));
          }
          res.end();
        },
      })
      // item 5: a "segment" that is an HLS playlist naming a local MPEG-TS file
      .route('/local-file.m3u8', { contentType: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.000,\nevil-0.ts\n#EXTINF:4.000,\nevil-1.ts\n#EXT-X-ENDLIST\n' })
      .route('/evil-0.ts', { contentType: 'video/mp2t', body: `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://${secret}\n#EXT-X-ENDLIST\n` })
      .route('/evil-1.ts', { contentType: 'video/mp2t', body: `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://${secret}\n#EXT-X-ENDLIST\n` })
      // item 7: a playlist whose head comes at once and whose body trickles on
      .route('/trickle.m3u8', {
        handler: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
          res.flushHeaders();
          const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('#\n')), 200);
          res.on('close', () => clearInterval(timer));
        },
      });
    await origin.start();
    await hostile.start();
    service = new WatchedService(root, env);
    await service.start();
  });

  after(async () => {
    await service?.stop().catch(() => undefined);
    await hostile.stop();
    await origin.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('fails every attack with a clear error while staying small and responsive', async (t) => {
    const attacks: Array<[string, string, string, RegExp]> = [
      ['timeline bomb', 'mediago', origin.url('/timeline-bomb.mpd'), /the DASH manifest .*timeline-bomb\.mpd lists 10,000,001 segments; at most 30,000 are accepted/],
      ['template bomb', 'mediago', origin.url('/template-bomb.mpd'), /the DASH manifest .*template-bomb\.mpd lists 360,000,000,000 segments; at most 30,000 are accepted/],
      ['15 MB playlist', 'm3u8', origin.url('/huge.m3u8'), /huge\.m3u8 sent more than 8388608 bytes where a small document was expected/],
      ['150,000 segments', 'm3u8', origin.url('/many.m3u8'), /the HLS playlist .*many\.m3u8 lists 150,000 segments; at most 30,000 are accepted/],
      ['far index', 'mediago', origin.url('/far-index.mpd'), /endless\.mp4 ignored the Range request for its index at byte 2000000000/],
      ['local file merge', 'm3u8', origin.url('/local-file.m3u8'), /segment [12] of .*local-file\.m3u8 is not MPEG-TS: it starts with '#EXTM3U'/],
      ['101 switch', 'direct', hostile.url('switch'), /answered 101 Switching Protocols instead of the media/],
      ['trickled head', 'direct', hostile.url('trickle'), /no complete answer head within 1500 ms( \(ETIMEDOUT\))? after 2 tries/],
      ['103 flood', 'direct', hostile.url('hints'), /sent 9 interim 103 answers instead of the media/],
      ['trickled playlist', 'm3u8', origin.url('/trickle.m3u8'), /trickle\.m3u8 did not arrive whole within 2500 ms/],
    ];
    const ids = await Promise.all(attacks.map(([name, type, url]) => service.create(type, url, name.replace(/\W+/g, '-'))));
    const outcomes = await Promise.all(ids.map((id) => service.settled(id)));
    for (const [index, [name, , , expected]] of attacks.entries()) {
      failed[name] = { id: ids[index], ...outcomes[index] };
      assert.equal(outcomes[index].status, 'failed', `${name}: ${outcomes[index].error}`);
      assert.match(outcomes[index].error ?? '', expected, name);
    }
    assert.ok(indexJunk.sent < 256 * MiB, `the far index pulled ${indexJunk.sent} bytes`);
    assert.equal(hostile.openConnections, 0, 'no attack still holds a connection');
    t.diagnostic(`after the attacks: max RSS ${service.maxRssMiB.toFixed(0)} MiB, max /healthy ${service.maxHealthyMs.toFixed(0)} ms`);
  });

  it('expands a manifest and a playlist just under the limit, one after the other, and fails them on their missing segments', async (t) => {
    const near = [
      ['mediago', origin.url('/near.mpd'), /video (segment \d+|initialization segment) of .*near\.mpd \([^)]+\) answered HTTP 404 after 2 tries/],
      ['m3u8', origin.url('/near.m3u8'), /segment \d+ of .*near\.m3u8 \([^)]+\) answered HTTP 404 after 2 tries/],
    ] as const;
    for (const [type, url, expected] of near) {
      const outcome = await service.settled(await service.create(type, url, `near-${type}`));
      assert.equal(outcome.status, 'failed');
      assert.match(outcome.error ?? '', expected);
    }
    t.diagnostic(`after the near-limit tasks: max RSS ${service.maxRssMiB.toFixed(0)} MiB, max /healthy ${service.maxHealthyMs.toFixed(0)} ms`);
  });

  it('reads only the 64 KiB it compares when a resume check is answered without end', async (t) => {
    const id = await service.create('direct', origin.url('/weak.bin'), 'weak');
    await waitFor(async () => (await service.api('GET', `/api/downloads/${id}`)).body.data.downloadedBytes > MiB, 20_000, 'a quarter of the file');
    assert.equal((await service.api('POST', `/api/downloads/${id}/stop`)).status, 200);
    await service.settled(id);
    weakMode = 'endless';
    assert.equal((await service.api('POST', `/api/downloads/${id}/start`)).status, 200);
    const done = await service.settled(id);
    assert.equal(done.status, 'success', done.error ?? '');
    const log = (await service.api('GET', `/api/downloads/${id}/logs`)).body.data.log;
    assert.match(log, /resuming/);
    assert.ok(sampleJunk.sent < 256 * MiB, `the resume check pulled ${sampleJunk.sent} bytes past its sample`);
    t.diagnostic(`the endless resume answer sent ${(sampleJunk.sent / MiB).toFixed(0)} MiB before it was cut`);
  });

  it('stops a task wedged in a response head at once', async () => {
    const earlier = hostile.hits.trickle;
    const id = await service.create('direct', hostile.url('trickle', 'held.bin'), 'held');
    await waitFor(async () => hostile.hits.trickle > earlier, 10_000, 'the request to reach the origin');
    const began = performance.now();
    const deleted = await service.api('DELETE', `/api/downloads/${id}`);
    assert.equal(deleted.status, 200);
    assert.ok(performance.now() - began < 6_000, 'DELETE answered within 6 s');
  });

  it('kept RSS under 300 MiB and /healthy under 2 s throughout, never exited, and a restart repeats nothing', async (t) => {
    const peak = await service.rssMiB('VmHWM');
    t.diagnostic(`peak RSS (VmHWM) ${peak.toFixed(0)} MiB; max /healthy ${service.maxHealthyMs.toFixed(0)} ms over the attacks`);
    assert.equal(service.exited, null, `the service exited:\n${service.output}`);
    assert.ok(peak < RSS_LIMIT_MIB, `peak RSS ${peak.toFixed(0)} MiB`);
    assert.deepEqual(service.slowProbes, [], `/healthy answers over ${HEALTHY_LIMIT_MS} ms (or none: -1)`);

    await service.stop();
    const restarted = new WatchedService(root, env);
    await restarted.start();
    service = restarted;
    const before = { timeline: origin.hits('/timeline-bomb.mpd'), huge: origin.hits('/huge.m3u8') };
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const [name, { id }] of Object.entries(failed)) {
      const { body } = await restarted.api('GET', `/api/downloads/${id}`);
      assert.equal(body.data.status, 'failed', `${name} stays failed after a restart`);
    }
    assert.deepEqual({ timeline: origin.hits('/timeline-bomb.mpd'), huge: origin.hits('/huge.m3u8') }, before, 'no attack is fetched again after a restart');
    const restartedPeak = await restarted.rssMiB('VmHWM');
    t.diagnostic(`after the restart: peak RSS ${restartedPeak.toFixed(0)} MiB, max /healthy ${restarted.maxHealthyMs.toFixed(0)} ms`);
    assert.ok(restartedPeak < RSS_LIMIT_MIB);
    assert.deepEqual(restarted.slowProbes, []);
  });
});
