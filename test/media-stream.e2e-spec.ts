import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { OriginServer } from './fixtures/origin-server.js';
import { makeSampleVideo } from './fixtures/sample-media.js';
import { type TestApp, startTestApp, waitFor } from './helpers/app-harness.js';

const run = promisify(execFile);
const KEY = 'stream-test-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
const HLS_SECONDS = 8;

function ffmpeg(args: string[], cwd: string): void {
  const result = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${result.stderr}`);
}

const SOURCES = ['-f', 'lavfi', '-i', `testsrc=size=160x120:rate=25:duration=${HLS_SECONDS}`, '-f', 'lavfi', '-i', `sine=frequency=440:duration=${HLS_SECONDS}`];
const CODECS = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k'];

/** Streams the tests play: MPEG-TS HLS, fMP4 HLS (EXT-X-MAP) and DASH with separate video and audio, 1 s segments. */
function buildStreams(root: string): void {
  const dir = (name: string) => {
    const path = join(root, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const hls = ['-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', '-hls_list_size', '0'];
  ffmpeg([...SOURCES, ...CODECS, ...hls, '-hls_segment_filename', 'seg%d.ts', 'index.m3u8'], dir('ts'));
  ffmpeg([...SOURCES, ...CODECS, ...hls, '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', 'frag%d.m4s', 'index.m3u8'], dir('fmp4'));
  ffmpeg([...SOURCES, ...CODECS, '-f', 'dash', '-seg_duration', '1', '-use_template', '1', '-use_timeline', '1', '-adaptation_sets', 'id=0,streams=v id=1,streams=a', 'manifest.mpd'], dir('dash'));
}

/** The EXTINF durations of a playlist, in order. */
function durations(playlist: string): number[] {
  return [...playlist.matchAll(/^#EXTINF:([\d.]+)/gm)].map((match) => Number(match[1]));
}

/** The URIs a playlist lists (segments, and EXT-X-MAP / EXT-X-MEDIA URIs). */
function uris(playlist: string): string[] {
  const lines = playlist.split('\n');
  const plain = lines.filter((line) => line && !line.startsWith('#'));
  const quoted = [...playlist.matchAll(/URI="([^"]+)"/g)].map((match) => match[1]);
  return [...quoted, ...plain];
}

async function ffprobeStreams(url: string): Promise<string[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'json', url], { timeout: 60_000 });
  return (JSON.parse(stdout) as { streams: Array<{ codec_type: string }> }).streams.map((stream) => stream.codec_type);
}

describe('play while downloading: GET /api/downloads/:id/stream and stream.m3u8', { timeout: 240_000 }, () => {
  let test: TestApp;
  let origin: OriginServer;
  let media: string;
  let clip: Buffer;

  before(async () => {
    media = await mkdtemp(join(tmpdir(), 'mediago-stream-media-'));
    const clipPath = await makeSampleVideo(join(media, 'clip.mp4'), 6, '640x360');
    clip = readFileSync(clipPath);
    buildStreams(media);
    origin = new OriginServer()
      .route('/files/clip.mp4', { file: clipPath, contentType: 'video/mp4' })
      // a few seconds per download at the least, so the task is still running when the tests look at it
      .route('/files/slow-clip.mp4', { file: clipPath, contentType: 'video/mp4', bytesPerSecond: Math.ceil(clip.length / 12) });
    for (const name of ['ts', 'fmp4', 'dash']) {
      for (const file of readdirSync(join(media, name))) {
        const slow = name === 'ts' && /\.ts$/.test(file);
        origin.route(`/${name}/${file}`, { file: join(media, name, file), contentType: file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : file.endsWith('.mpd') ? 'application/dash+xml' : 'application/octet-stream', ...(slow ? { latencyMs: 1200 } : {}) });
      }
    }
    // a live window over the MPEG-TS segments: one more each second, EXT-X-ENDLIST once all are out
    const names = readFileSync(join(media, 'ts', 'index.m3u8'), 'utf8').split('\n').filter((line) => line.endsWith('.ts'));
    let liveStart = 0;
    origin.route('/live/index.m3u8', {
      handler: (_req, res) => {
        liveStart ||= Date.now();
        const available = Math.min(names.length, 1 + Math.floor((Date.now() - liveStart) / 1000));
        const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:0'];
        for (const name of names.slice(0, available)) lines.push('#EXTINF:1.0,', `/ts/${name}`);
        if (available === names.length) lines.push('#EXT-X-ENDLIST');
        res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(`${lines.join('\n')}\n`);
      },
    });
    await origin.start();
    test = await startTestApp({ API_KEY: KEY, DIRECT_CONNECTIONS: '1', SEGMENT_CONCURRENCY: '1', PROGRESS_INTERVAL_MS: '500' });
  });

  after(async () => {
    await test?.close();
    await origin?.stop();
    await rm(media, { recursive: true, force: true });
  });

  async function create(task: Record<string, unknown>, startDownload = true): Promise<number> {
    const answer = await test.api('POST', '/api/downloads', { tasks: [task], startDownload }, AUTH);
    assert.equal(answer.status, 200, answer.text);
    return answer.body.data[0].id as number;
  }

  function waitForStatus(_test: TestApp, id: number, statuses: string[], timeoutMs = 60_000): Promise<any> {
    return waitFor(
      async () => {
        const { body } = await test.api('GET', `/api/downloads/${id}`, undefined, AUTH);
        return statuses.includes(body?.data?.status) ? body.data : undefined;
      },
      timeoutMs,
      `task ${id} to reach ${statuses.join('/')}`,
    );
  }

  async function get(path: string, headers: Record<string, string> = AUTH): Promise<{ status: number; headers: Headers; bytes: Buffer; json: any }> {
    const response = await fetch(`${test.baseUrl}${path}`, { headers, signal: AbortSignal.timeout(30_000) });
    const bytes = Buffer.from(await response.arrayBuffer());
    let json: any = null;
    if ((response.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(bytes.toString('utf8'));
    return { status: response.status, headers: response.headers, bytes, json };
  }

  it('streams a finished direct task byte-exact, whole and by Range, with its type and length', async () => {
    const id = await create({ type: 'direct', url: origin.url('/files/clip.mp4') });
    await waitForStatus(test, id, ['success']);

    const whole = await get(`/api/downloads/${id}/stream`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.equal(whole.headers.get('content-length'), String(clip.length));
    assert.ok(whole.bytes.equals(clip), 'the whole answer is the file');

    const middle = await get(`/api/downloads/${id}/stream`, { ...AUTH, range: 'bytes=1000-4999' });
    assert.equal(middle.status, 206);
    assert.equal(middle.headers.get('content-range'), `bytes 1000-4999/${clip.length}`);
    assert.equal(middle.headers.get('content-length'), '4000');
    assert.ok(middle.bytes.equals(clip.subarray(1000, 5000)));

    const head = await fetch(`${test.baseUrl}/api/downloads/${id}/stream`, { method: 'HEAD', headers: AUTH });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(clip.length), 'HEAD tells the size without the body');

    const open = await get(`/api/downloads/${id}/stream`, { ...AUTH, range: `bytes=${clip.length - 10}-` });
    assert.equal(open.status, 206);
    assert.ok(open.bytes.equals(clip.subarray(clip.length - 10)));
    const suffix = await get(`/api/downloads/${id}/stream`, { ...AUTH, range: 'bytes=-100' });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers.get('content-range'), `bytes ${clip.length - 100}-${clip.length - 1}/${clip.length}`);
    assert.ok(suffix.bytes.equals(clip.subarray(clip.length - 100)));

    const past = await get(`/api/downloads/${id}/stream`, { ...AUTH, range: `bytes=${clip.length}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${clip.length}`);
    assert.equal(past.json.errorCode, 'range_not_satisfiable');

    // a <video> element cannot send headers: ?token= is the way, and nothing else gets in
    assert.equal((await get(`/api/downloads/${id}/stream?token=${KEY}`, {})).status, 200);
    const anonymous = await get(`/api/downloads/${id}/stream`, {});
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.json.errorCode, 'unauthorized');
    assert.equal((await get(`/api/downloads/${id}/stream?token=wrong`, {})).status, 401);

    const playlist = await get(`/api/downloads/${id}/stream.m3u8`);
    assert.equal(playlist.status, 409);
    assert.equal(playlist.json.errorCode, 'stream_not_ready');
    assert.match(playlist.json.message, /\/api\/downloads\/\d+\/stream\b/);
  });

  it('serves the completed prefix of a running direct download, and refuses ranges past it', async () => {
    const id = await create({ type: 'direct', url: origin.url('/files/slow-clip.mp4') });
    const prefix = await waitFor(
      async () => {
        const answer = await get(`/api/downloads/${id}/stream`);
        if (answer.status === 409) assert.equal(answer.json.errorCode, 'stream_not_ready');
        return answer.status === 200 ? answer : null;
      },
      60_000,
      'a prefix to serve',
    );
    const task = (await test.api('GET', `/api/downloads/${id}`, undefined, AUTH)).body.data;
    assert.equal(task.status, 'downloading', 'the download still runs');
    const length = Number(prefix.headers.get('content-length'));
    assert.equal(prefix.bytes.length, length);
    assert.ok(length > 0 && length < clip.length, `a prefix (${length} of ${clip.length} bytes)`);
    assert.ok(prefix.bytes.equals(clip.subarray(0, length)), 'the prefix is the start of the file, byte for byte');
    assert.equal(prefix.headers.get('content-type'), 'video/mp4', 'the type from the URL before the file is named');

    const head = await get(`/api/downloads/${id}/stream`, { ...AUTH, range: 'bytes=0-99' });
    assert.equal(head.status, 206);
    assert.match(head.headers.get('content-range') ?? '', /^bytes 0-99\/\d+$/);
    assert.ok(head.bytes.equals(clip.subarray(0, 100)));
    const beyond = await get(`/api/downloads/${id}/stream`, { ...AUTH, range: `bytes=${clip.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.json.errorCode, 'range_not_satisfiable');

    await waitForStatus(test, id, ['success'], 90_000);
    const done = await get(`/api/downloads/${id}/stream`);
    assert.equal(done.status, 200);
    assert.ok(done.bytes.equals(clip), 'once finished, the whole file');
  });

  it('offers a running HLS download as a growing EVENT playlist that ffprobe reads while it runs, ended once complete', async () => {
    const source = readFileSync(join(media, 'ts', 'index.m3u8'), 'utf8');
    const sourceDurations = durations(source);
    const id = await create({ type: 'm3u8', url: origin.url('/ts/index.m3u8') }, false);
    assert.equal((await test.api('POST', `/api/downloads/${id}/start`, { deleteSegments: false }, AUTH)).status, 200);

    const early = await waitFor(
      async () => {
        const answer = await get(`/api/downloads/${id}/stream.m3u8?token=${KEY}`, {});
        if (answer.status !== 200) assert.equal(answer.json?.errorCode, 'stream_not_ready', answer.bytes.toString());
        return answer.status === 200 ? answer : null;
      },
      60_000,
      'the first segment to be listed',
    );
    assert.equal(early.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    const text = early.bytes.toString('utf8');
    assert.match(text, /^#EXTM3U\n/);
    assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT/);
    assert.doesNotMatch(text, /#EXT-X-ENDLIST/, 'no end while the download runs');
    const listed = durations(text);
    assert.ok(listed.length > 0 && listed.length < sourceDurations.length, `some but not all segments (${listed.length} of ${sourceDurations.length})`);
    assert.deepEqual(listed, sourceDurations.slice(0, listed.length), 'real durations from the source playlist, in order');
    assert.ok(uris(text).every((uri) => uri.endsWith(`?token=${KEY}`)), 'the key goes along in every URL a player fetches');

    // a listed segment is the source's segment, byte for byte; names are looked up, never paths
    const first = await get(`/api/downloads/${id}/stream/segments/video-0.ts`);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'video/mp2t');
    assert.ok(first.bytes.equals(readFileSync(join(media, 'ts', 'seg0.ts'))));
    for (const name of ['video-99.ts', 'video-0.mp4', '..%2F..%2Fhls-state.json', 'stream-index.json']) {
      const answer = await get(`/api/downloads/${id}/stream/segments/${name}`);
      assert.equal(answer.status, 404, name);
      assert.equal(answer.json.errorCode, 'segment_not_found', name);
    }
    const direct = await get(`/api/downloads/${id}/stream`);
    assert.equal(direct.status, 409);
    assert.match(direct.json.message, /stream\.m3u8/);

    const streams = await ffprobeStreams(`${test.baseUrl}/api/downloads/${id}/stream.m3u8?token=${KEY}`);
    assert.ok(streams.includes('video'), `ffprobe reads a video stream from the growing playlist (got ${streams.join(', ')})`);
    const during = (await test.api('GET', `/api/downloads/${id}`, undefined, AUTH)).body.data;
    assert.equal(during.status, 'downloading', 'ffprobe read the playlist while the download was still running');

    await waitForStatus(test, id, ['success'], 90_000);
    const final = (await get(`/api/downloads/${id}/stream.m3u8`)).bytes.toString('utf8');
    assert.match(final, /#EXT-X-ENDLIST\n$/, 'the finished playlist ends');
    assert.deepEqual(durations(final), sourceDurations, 'every segment, once finished');
    const file = await get(`/api/downloads/${id}/stream`);
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'video/mp4', 'the finished task streams its merged file');
  });

  it('lists fMP4 segments after their EXT-X-MAP, and points a finished task without segments at its file', async () => {
    const kept = await create({ type: 'm3u8', url: origin.url('/fmp4/index.m3u8') }, false);
    await test.api('POST', `/api/downloads/${kept}/start`, { deleteSegments: false }, AUTH);
    await waitForStatus(test, kept, ['success']);
    const text = (await get(`/api/downloads/${kept}/stream.m3u8`)).bytes.toString('utf8');
    assert.match(text, /#EXT-X-MAP:URI="stream\/segments\/video-init-0\.mp4"\n#EXTINF/);
    assert.match(text, /#EXT-X-ENDLIST/);
    const init = await get(`/api/downloads/${kept}/stream/segments/video-init-0.mp4`);
    assert.ok(init.bytes.equals(readFileSync(join(media, 'fmp4', 'init.mp4'))), 'the init section as the source served it');
    const streams = await ffprobeStreams(`${test.baseUrl}/api/downloads/${kept}/stream.m3u8?token=${KEY}`);
    assert.deepEqual(streams.sort(), ['audio', 'video']);

    const cleaned = await create({ type: 'm3u8', url: origin.url('/fmp4/index.m3u8') });
    await waitForStatus(test, cleaned, ['success']);
    const gone = await get(`/api/downloads/${cleaned}/stream.m3u8`);
    assert.equal(gone.status, 409);
    assert.equal(gone.json.errorCode, 'stream_not_ready');
    assert.match(gone.json.message, /has finished.*\/api\/downloads\/\d+\/stream$/);
  });

  it('offers DASH as a master playlist with a video and an audio track', async () => {
    const id = await create({ type: 'mediago', url: origin.url('/dash/manifest.mpd') }, false);
    await test.api('POST', `/api/downloads/${id}/start`, { deleteSegments: false }, AUTH);
    await waitForStatus(test, id, ['success']);
    const master = (await get(`/api/downloads/${id}/stream.m3u8`)).bytes.toString('utf8');
    assert.match(master, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio".*URI="stream\/tracks\/audio\.m3u8"/);
    assert.match(master, /#EXT-X-STREAM-INF:BANDWIDTH=\d+.*AUDIO="audio"\nstream\/tracks\/video\.m3u8\n/);
    const video = (await get(`/api/downloads/${id}/stream/tracks/video.m3u8`)).bytes.toString('utf8');
    assert.match(video, /#EXT-X-MAP:URI="\.\.\/segments\/video-init-0\.mp4"/);
    const seconds = durations(video).reduce((sum, value) => sum + value, 0);
    assert.ok(Math.abs(seconds - HLS_SECONDS) < 0.5, `durations from the manifest add up to the media (${seconds} s)`);
    const streams = await ffprobeStreams(`${test.baseUrl}/api/downloads/${id}/stream.m3u8?token=${KEY}`);
    assert.deepEqual(streams.sort(), ['audio', 'video']);
    assert.equal((await get(`/api/downloads/${id}/stream/tracks/subtitles.m3u8`)).status, 404);
  });

  it('offers a live recording as it is recorded, ended once the stream has ended', async () => {
    const id = await create({ type: 'm3u8', url: origin.url('/live/index.m3u8'), isLive: true }, false);
    await test.api('POST', `/api/downloads/${id}/start`, { deleteSegments: false }, AUTH);
    const early = await waitFor(async () => {
      const answer = await get(`/api/downloads/${id}/stream.m3u8`);
      return answer.status === 200 ? answer.bytes.toString('utf8') : null;
    }, 60_000, 'the first recorded segment');
    assert.doesNotMatch(early, /#EXT-X-ENDLIST/);
    assert.ok(durations(early).length >= 1);
    await waitForStatus(test, id, ['success'], 90_000);
    const final = (await get(`/api/downloads/${id}/stream.m3u8`)).bytes.toString('utf8');
    assert.match(final, /#EXT-X-ENDLIST\n$/);
    assert.equal(durations(final).length, HLS_SECONDS, 'every recorded segment');
  });

  it('says plainly when a task cannot be played while it downloads', async () => {
    const bilibili = await create({ type: 'bilibili', url: 'BV1xx411c7mD' }, false);
    for (const path of ['stream', 'stream.m3u8']) {
      const answer = await get(`/api/downloads/${bilibili}/${path}`);
      assert.equal(answer.status, 409, path);
      assert.equal(answer.json.errorCode, 'stream_not_ready');
      assert.match(answer.json.message, /cannot be played while it downloads/);
    }
    const missing = await get('/api/downloads/999999/stream');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.errorCode, 'download_not_found');
    assert.equal((await get('/api/downloads/abc/stream.m3u8')).json.errorCode, 'invalid_id');
  });
});
