import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AppConfig, loadConfig } from '../src/config/app-config.js';
import type { DownloadJob, DownloadOutput } from '../src/engine/download-job.js';
import { M3u8Downloader } from '../src/downloaders/m3u8/m3u8.downloader.js';
import { DownloadType } from '../src/common/download-type.enum.js';
import type { HttpClient } from '../src/engine/http-client.js';
import { ToolsService } from '../src/engine/tools.service.js';
import { FIXTURE_SECONDS, PLAYLIST_TYPE, buildHlsFixtures, liveHandler, serveFixtureDir } from './fixtures/hls-media.js';
import { OriginServer } from './fixtures/origin-server.js';
import { httpClientFor, jobIn, run, runAndStopAt, segmentFiles } from './helpers/downloader-run.js';
import { type ProbedMedia, assertDecodesCleanly, assertPlayableMp4 as assertPlayableMp4In, audioZeroCrossingRate, cueTimes, probe, streamTypes } from './helpers/media-checks.js';

const root = mkdtempSync(join(tmpdir(), 'm3u8-e2e-'));
const baseConfig = loadConfig({ RETRY_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '20', STALL_TIMEOUT_MS: '5000', DATA_DIR: root, DOWNLOAD_DIR: root }, root);
const tools = new ToolsService(baseConfig);
const origin = new OriginServer();
const clients: HttpClient[] = [];
let jobs = 0;

function downloaderWith(overrides: Partial<AppConfig> = {}, toolsOverride: ToolsService = tools): M3u8Downloader {
  const config = { ...baseConfig, ...overrides };
  const http = httpClientFor(config);
  clients.push(http);
  return new M3u8Downloader(http, toolsOverride, config);
}

function aJob(path: string, overrides: Partial<DownloadJob> = {}): DownloadJob {
  return jobIn(root, ++jobs, DownloadType.M3u8, origin.url(path), overrides);
}

function assertPlayableMp4(output: DownloadOutput, job: DownloadJob, expected: { seconds?: number; width?: number; audio?: boolean; subtitles?: boolean } = {}): ProbedMedia {
  return assertPlayableMp4In(tools, output, job, { ...expected, seconds: expected.seconds ?? FIXTURE_SECONDS, width: expected.width ?? 160 });
}

describe('m3u8 downloader against a local origin', { timeout: 180_000 }, () => {
  let media: ReturnType<typeof buildHlsFixtures>;

  before(async () => {
    assert.ok(tools.ffmpeg && tools.ffprobe, 'ffmpeg and ffprobe are needed for these tests');
    media = buildHlsFixtures(tools.ffmpeg, join(root, 'media'));
    await origin.start();
    for (const name of ['clear', 'fmp4', 'byterange', 'byterange-fmp4', 'aes-sequence', 'aes-fmp4', 'master', 'discontinuity']) serveFixtureDir(origin, media.root, name);
    serveFixtureDir(origin, media.root, 'clear', {}, 'expired');
    origin.route('/expired/seg2.ts', { status: 403 });
    serveFixtureDir(origin, media.root, 'aes-explicit', { requireHeader: ['referer', /^https:\/\/player\.example\//] });
    serveFixtureDir(origin, media.root, 'clear', {}, 'flaky');
    origin.route('/flaky/seg3.ts', { file: join(media.root, 'clear', 'seg3.ts'), failTimes: 2, failStatus: 503 });
    serveFixtureDir(origin, media.root, 'clear', {}, 'broken');
    origin.route('/broken/seg2.ts', { status: 404 });
    serveFixtureDir(origin, media.root, 'clear', { latencyMs: 150 }, 'slow');
    serveFixtureDir(origin, media.root, 'clear', {}, 'live-src');
    serveFixtureDir(origin, media.root, 'clear', {}, 'nofm');
    origin.route('/moved/index.m3u8', { handler: (_req, res) => void res.writeHead(302, { location: '/clear/index.m3u8' }).end() });
    origin.route('/drm/index.m3u8', {
      contentType: PLAYLIST_TYPE,
      body: '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key",KEYFORMAT="com.apple.streamingkeydelivery"\n#EXTINF:1,\n/clear/seg0.ts\n#EXT-X-ENDLIST\n',
    });
  });

  after(async () => {
    await origin.stop();
    await Promise.all(clients.map((client) => client.close()));
    rmSync(root, { recursive: true, force: true });
  });

  it('downloads a clear MPEG-TS stream through a redirect into one MP4, reporting progress', async () => {
    const job = aJob('/moved/index.m3u8', { nameIsDerived: true });
    const { output, progress } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.equal(output.title, 'moved', 'a derived name gets the playlist URL as title');
    const last = progress.at(-1)!;
    assert.equal(last.percent, 100);
    assert.equal(last.totalBytes, last.downloadedBytes);
    assert.ok(last.downloadedBytes > 0);
    assert.deepEqual(segmentFiles(job), [], 'deleteSegments removes the segment files');
  });

  it('decrypts AES-128 with explicit IVs, key rotation and a METHOD=NONE tail, sending the task headers everywhere', async () => {
    const job = aJob('/aes-explicit/index.m3u8', { headers: [['Referer', 'https://player.example/watch']] });
    const { output } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.equal(origin.hits('/aes-explicit/key0.bin'), 1, 'each key is fetched once');
    assert.equal(origin.hits('/aes-explicit/key1.bin'), 1);
    assert.ok(origin.requests.some((request) => request.path === '/aes-explicit/seg5.ts?token=t5'), 'query tokens are kept');
  });

  it('derives the IV from the media sequence number when the key has none', async () => {
    const job = aJob('/aes-sequence/index.m3u8');
    assertPlayableMp4((await run(downloaderWith(), job)).output, job);
  });

  it('joins fMP4 fragments after their EXT-X-MAP init section, and keeps segments when asked', async () => {
    const job = aJob('/fmp4/index.m3u8', { deleteSegments: false });
    const { output } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.equal(segmentFiles(job).filter((file) => file.endsWith('.m4s')).length, FIXTURE_SECONDS);
  });

  it('fetches EXT-X-BYTERANGE segments of a single file, with and without offsets', async () => {
    const job = aJob('/byterange/index.m3u8');
    assertPlayableMp4((await run(downloaderWith(), job)).output, job);
  });

  it('fetches a byte-range fMP4 stream whose EXT-X-MAP is a range too', async () => {
    const job = aJob('/byterange-fmp4/index.m3u8');
    assertPlayableMp4((await run(downloaderWith(), job)).output, job);
  });

  it('picks the best variant of a master playlist and muxes the default audio rendition, without subtitles unless asked', async () => {
    const job = aJob('/master/master.m3u8');
    const { output } = await run(downloaderWith(), job);
    const result = assertPlayableMp4(output, job, { width: 320 });
    assert.equal(result.streams.find((stream) => stream.codec_type === 'video')?.height, 240);
    assert.equal(origin.hits('/master/lo0.ts'), 0, 'the lower variant is not downloaded');
    assert.equal(origin.hits('/master/audio0.ts'), 1, 'the DEFAULT=YES audio rendition is downloaded');
    assert.equal(origin.hits('/master/dub0.ts'), 0, 'the other rendition is not');
    assert.ok(audioZeroCrossingRate(tools.ffmpeg!, output.path) > 0.025, 'the saved sound is the English 660 Hz tone');
    assert.equal(output.subtitles, undefined);
    assert.equal(result.streams.some((stream) => stream.codec_type === 'subtitle'), false, 'subtitles are saved beside the file, never muxed');
  });

  it('takes the variant of a maximum height, the audio and the subtitles of the languages asked, each subtitle on the media clock', async () => {
    const job = aJob('/master/master.m3u8', { quality: 200, audioLanguages: ['fr'], subtitleLanguages: ['fr', 'en', 'de'] });
    const hiBefore = origin.hits('/master/hi0.ts');
    const { output, log } = await run(downloaderWith(), job);
    const result = assertPlayableMp4(output, job, { width: 160 });
    assert.equal(result.streams.find((stream) => stream.codec_type === 'video')?.height, 120, 'the 120-line variant, the tallest not above 200');
    assert.equal(origin.hits('/master/hi0.ts'), hiBefore, 'the taller variant is not downloaded');
    assert.ok(origin.hits('/master/dub0.ts') >= 1, 'the French rendition is downloaded');
    assert.ok(audioZeroCrossingRate(tools.ffmpeg!, output.path) < 0.02, 'the saved sound is the French 330 Hz tone');
    assert.deepEqual(output.subtitles?.map((subtitle) => subtitle.language), ['fr', 'en']);
    const [french, english] = output.subtitles!.map((subtitle) => readFileSync(subtitle.path, 'utf8'));
    assert.match(french, /Ligne 1/);
    assert.match(english, /Line 1/);
    // both maps put cue 1 at the video's first frame (MPEGTS 1.4 s): fr writes it at LOCAL 1 s, en at 0
    assert.deepEqual(cueTimes(french), ['00:00:00.000 --> 00:00:01.500', '00:00:02.000 --> 00:00:03.500', '00:00:04.000 --> 00:00:05.500', '00:00:06.000 --> 00:00:07.500']);
    assert.deepEqual(cueTimes(english), cueTimes(french));
    assert.ok(log.some((line) => /no subtitles in de \(offered: en, fr\)/.test(line)), 'the missing language is named in the log');
  });

  it('falls back to the nearest height and the default audio when the choice is not offered, and says so in the log', async () => {
    const job = aJob('/master/master.m3u8', { quality: 100, audioLanguages: ['ja'] });
    const { output, log } = await run(downloaderWith(), job);
    const result = assertPlayableMp4(output, job, { width: 160 });
    assert.equal(result.streams.find((stream) => stream.codec_type === 'video')?.height, 120);
    assert.ok(audioZeroCrossingRate(tools.ffmpeg!, output.path) > 0.025, 'the default (English) sound');
    assert.ok(log.some((line) => line.includes('no picture of at most 100 lines is offered (offered: 120p, 240p); took the nearest, 120p')), log.join('\n'));
    assert.ok(log.some((line) => /no audio in ja is offered \(offered: fr, en\); took "Main" \[en\]/.test(line)), log.join('\n'));
  });

  it('saves the sound alone from the audio rendition for quality "audio"', async () => {
    const job = aJob('/master/master.m3u8', { quality: 'audio', audioLanguages: ['fr'] });
    const videoHits = origin.hits('/master/hi0.ts') + origin.hits('/master/lo0.ts');
    const { output } = await run(downloaderWith(), job);
    assert.equal(output.extension, 'm4a');
    const media = probe(tools.ffprobe!, output.path);
    assert.deepEqual(streamTypes(media), ['audio']);
    assert.ok(Math.abs(media.duration - FIXTURE_SECONDS) <= 0.5);
    assert.equal(origin.hits('/master/hi0.ts') + origin.hits('/master/lo0.ts'), videoHits, 'no video segment is fetched');
    assert.ok(audioZeroCrossingRate(tools.ffmpeg!, output.path) < 0.02, 'the French sound');
  });

  it('gives a file that plays through an EXT-X-DISCONTINUITY where timestamps restart', async () => {
    const job = aJob('/discontinuity/index.m3u8');
    assertPlayableMp4((await run(downloaderWith(), job)).output, job);
  });

  it('retries a segment that fails twice', async () => {
    const job = aJob('/flaky/index.m3u8');
    const { output, log } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.equal(origin.hits('/flaky/seg3.ts'), 3);
    assert.ok(log.some((line) => /segment 4 of .* answered HTTP 503/.test(line)));
  });

  it('fails with a message naming the segment, the playlist and the status when a segment is always 404', async () => {
    const job = aJob('/broken/index.m3u8');
    await assert.rejects(run(downloaderWith(), job), /segment 3 of http:\/\/127\.0\.0\.1:\d+\/broken\/index\.m3u8 \(http:\/\/127\.0\.0\.1:\d+\/broken\/[^ ]+\) answered HTTP 404 after 3 tries/);
  });

  it('decrypts an AES-128 encrypted EXT-X-MAP init section with the key declared before it (fMP4)', async () => {
    const job = aJob('/aes-fmp4/index.m3u8');
    assertPlayableMp4((await run(downloaderWith(), job)).output, job);
    assert.equal(origin.hits('/aes-fmp4/key.bin'), 1, 'the key is fetched once for the init section and the fragments');
    assert.equal(origin.hits('/aes-fmp4/init.mp4'), 1);
  });

  it('names the failing segment URL in the error, with its token redacted', async () => {
    const token = 'secret-token-4711';
    const playlist = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', '#EXT-X-PLAYLIST-TYPE:VOD'];
    for (let index = 0; index < 4; index++) playlist.push('#EXTINF:1,', `seg${index}.ts?token=${token}&expires=1700000000`);
    origin.route('/expired/index.m3u8', { body: [...playlist, '#EXT-X-ENDLIST', ''].join('\n'), contentType: PLAYLIST_TYPE });
    const job = aJob('/expired/index.m3u8');
    await assert.rejects(run(downloaderWith(), job), (error: Error) => {
      assert.match(error.message, /segment 3 of http:\/\/127\.0\.0\.1:\d+\/expired\/index\.m3u8 \(http:\/\/127\.0\.0\.1:\d+\/expired\/seg2\.ts\?token=…&expires=…\) answered HTTP 403 after 1 try/);
      assert.ok(!error.message.includes(token), 'the token stays out of the message');
      return true;
    });
  });

  it('refuses SAMPLE-AES/DRM streams with an error naming the method', async () => {
    await assert.rejects(run(downloaderWith(), aJob('/drm/index.m3u8')), /METHOD=SAMPLE-AES with KEYFORMAT="com\.apple\.streamingkeydelivery", which is not supported/);
  });

  it('stops promptly when aborted and resumes without fetching completed segments again', async () => {
    const downloader = downloaderWith({ segmentConcurrency: 2 });
    const job = aJob('/slow/index.m3u8');
    await runAndStopAt(downloader, job, 30);
    const kept = segmentFiles(job);
    assert.ok(kept.length >= 2 && kept.length < FIXTURE_SECONDS, `kept ${kept.length} segments`);
    const hitsBefore = new Map(kept.map((file) => [file, origin.hits(`/slow/seg${Number.parseInt(file, 10)}.ts`)]));

    const { output } = await run(downloader, job);
    assertPlayableMp4(output, job);
    for (const [file, hits] of hitsBefore) {
      assert.equal(hits, 1);
      assert.equal(origin.hits(`/slow/seg${Number.parseInt(file, 10)}.ts`), 1, `${file} was not fetched again`);
    }
  });

  it('falls back to a joined MPEG-TS file when ffmpeg is missing', async () => {
    const noFfmpeg = new ToolsService({ ...baseConfig, ffmpegPath: join(root, 'no-such-ffmpeg') });
    assert.equal(noFfmpeg.ffmpeg, null);
    const job = aJob('/nofm/index.m3u8');
    const { output, log } = await run(downloaderWith({}, noFfmpeg), job);
    assert.equal(output.extension, 'ts');
    assert.ok(log.some((line) => line.includes('ffmpeg was not found')));
    assert.ok(Math.abs(probe(tools.ffprobe!, output.path).duration - FIXTURE_SECONDS) <= 0.5);
    assertDecodesCleanly(tools.ffmpeg!, output.path);
  });

  it('records a live window until EXT-X-ENDLIST, each segment once and in order', async () => {
    origin.route('/live/index.m3u8', { handler: liveHandler(media.root, { segmentsAt: '/live-src', stepMs: 400, window: 3 }) });
    const job = aJob('/live/index.m3u8');
    const { output, progress } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    for (let index = 0; index < FIXTURE_SECONDS; index++) assert.equal(origin.hits(`/live-src/seg${index}.ts`), 1, `segment ${index} fetched once`);
    assert.ok(origin.hits('/live/index.m3u8') > 2, 'the playlist was reloaded');
    assert.equal(progress.at(-1)?.totalBytes, null);
  });

  it('records the subtitles of a live stream too, timed from the first recorded frame', async () => {
    const startedAt = Date.now();
    origin.route('/live-subs/video.m3u8', { handler: liveHandler(media.root, { segmentsAt: '/live-src', stepMs: 400, window: 3, startedAt }) });
    origin.route('/live-subs/subs.m3u8', { handler: liveHandler(media.root, { segmentsAt: '/live-src', stepMs: 400, window: 3, startedAt, playlist: 'subs-en.m3u8' }) });
    origin.route('/live-subs/master.m3u8', {
      contentType: PLAYLIST_TYPE,
      body: '#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="English",LANGUAGE="en",URI="subs.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=160x120,SUBTITLES="s"\nvideo.m3u8\n',
    });
    const job = aJob('/live-subs/master.m3u8', { subtitleLanguages: ['en'] });
    const { output } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.deepEqual(output.subtitles?.map((subtitle) => subtitle.language), ['en']);
    const cues = cueTimes(readFileSync(output.subtitles![0].path, 'utf8'));
    assert.equal(cues.length, FIXTURE_SECONDS, 'every live subtitle segment was recorded once');
    assert.equal(cues[0], '00:00:00.000 --> 00:00:00.800');
    assert.equal(cues.at(-1), `00:00:0${FIXTURE_SECONDS - 1}.000 --> 00:00:0${FIXTURE_SECONDS - 1}.800`);
  });

  it('resolves with what was recorded when a live recording is stopped', async () => {
    origin.route('/endless/index.m3u8', { handler: liveHandler(media.root, { segmentsAt: '/clear', stepMs: 400, window: 3, endless: true }) });
    const job = aJob('/endless/index.m3u8', { isLive: true });
    const controller = new AbortController();
    let stopScheduled = false;
    const recording = run(downloaderWith(), job, {
      signal: controller.signal,
      onProgress: (report) => {
        if (report.downloadedBytes === 0 || stopScheduled) return;
        stopScheduled = true;
        setTimeout(() => controller.abort(), 1_200);
      },
    });
    const { output } = await recording;
    const result = probe(tools.ffprobe!, output.path);
    assert.ok(result.duration >= 1 && result.duration < FIXTURE_SECONDS, `recorded ${result.duration} s`);
    assertDecodesCleanly(tools.ffmpeg!, output.path);
  });
});
