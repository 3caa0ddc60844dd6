import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AppConfig, loadConfig } from '../src/config/app-config.js';
import type { DownloadJob, DownloadOutput } from '../src/engine/download-job.js';
import { MediagoDownloader } from '../src/downloaders/mediago/mediago.downloader.js';
import { DownloadType } from '../src/common/download-type.enum.js';
import type { HttpClient } from '../src/engine/http-client.js';
import { ToolsService } from '../src/engine/tools.service.js';
import { DASH_SECONDS, type DashFixtures, MPD_TYPE, buildDashFixtures, liveDashHandler, manifestOf, serveDashDir } from './fixtures/dash-media.js';
import { OriginServer } from './fixtures/origin-server.js';
import { makeSampleVideo } from './fixtures/sample-media.js';
import { httpClientFor, jobIn, run, runAndStopAt, segmentFiles } from './helpers/downloader-run.js';
import { type ProbedMedia, assertDecodesCleanly, assertPlayableMp4 as assertPlayableMp4In, audioZeroCrossingRate, cueTimes, probe, streamTypes } from './helpers/media-checks.js';

const root = mkdtempSync(join(tmpdir(), 'mediago-e2e-'));
const baseConfig = loadConfig({ RETRY_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '20', STALL_TIMEOUT_MS: '5000', DATA_DIR: root, DOWNLOAD_DIR: root }, root);
const tools = new ToolsService(baseConfig);
const origin = new OriginServer();
const clients: HttpClient[] = [];
let jobs = 0;

function downloaderWith(overrides: Partial<AppConfig> = {}): MediagoDownloader {
  const config = { ...baseConfig, ...overrides };
  const http = httpClientFor(config);
  clients.push(http);
  return new MediagoDownloader(http, tools, config);
}

function aJob(path: string, overrides: Partial<DownloadJob> = {}): DownloadJob {
  return jobIn(root, ++jobs, DownloadType.Mediago, origin.url(path), overrides);
}

function assertPlayableMp4(output: DownloadOutput, job: DownloadJob, width = 320): ProbedMedia {
  return assertPlayableMp4In(tools, output, job, { seconds: DASH_SECONDS, width });
}

/** The loudest sample (dBFS) of the audio between `from` and `from + seconds`. */
function loudness(path: string, from: number, seconds: number): number {
  const result = spawnSync(tools.ffmpeg!, ['-hide_banner', '-nostats', '-ss', String(from), '-t', String(seconds), '-i', path, '-map', '0:a', '-af', 'volumedetect', '-f', 'null', '-'], { encoding: 'utf8', timeout: 60_000 });
  const match = /max_volume: (-?[\d.]+|-inf) dB/.exec(result.stderr);
  assert.ok(match, result.stderr);
  return match[1] === '-inf' ? -Infinity : Number(match[1]);
}

/** The average luma (16 black … 235 white) of the frame at `at` seconds. */
function brightness(path: string, at: number): number {
  const result = spawnSync(tools.ffmpeg!, ['-hide_banner', '-ss', String(at), '-i', path, '-frames:v', '1', '-vf', 'signalstats,metadata=print:key=lavfi.signalstats.YAVG', '-f', 'null', '-'], { encoding: 'utf8', timeout: 60_000 });
  const match = /YAVG=([\d.]+)/.exec(result.stderr);
  assert.ok(match, result.stderr);
  return Number(match[1]);
}

function streamDuration(path: string, stream: 'a' | 'v'): number {
  const result = spawnSync(tools.ffprobe!, ['-v', 'error', '-select_streams', `${stream}:0`, '-show_entries', 'stream=duration', '-of', 'csv=p=0', path], { encoding: 'utf8', timeout: 60_000 });
  return Number(result.stdout.trim());
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('mediago downloader against a local origin', { timeout: 150_000 }, () => {
  let media: DashFixtures;
  let sample: string;

  before(async () => {
    assert.ok(tools.ffmpeg && tools.ffprobe, 'ffmpeg and ffprobe are needed for these tests');
    media = buildDashFixtures(tools.ffmpeg, join(root, 'media'));
    sample = await makeSampleVideo(join(root, 'sample.mp4'), 3);
    await origin.start();
    for (const name of ['timeline', 'number', 'segment-list', 'segment-base', 'multi', 'gap', 'gap-video', 'hls', 'languages']) serveDashDir(origin, media.root, name);
    serveDashDir(origin, media.root, 'number', { latencyMs: 120 }, 'slow');
    serveDashDir(origin, media.root, 'number', { requireHeader: ['referer', /^https:\/\/player\.example\//] }, 'private');
    origin.route('/go/multi', { handler: (_req, res) => void res.writeHead(302, { location: '/multi/manifest.mpd' }).end() });
    // served as text/plain on purpose: the first bytes decide, not the label
    origin.route('/hls-plain/index.m3u8', { file: join(media.root, 'hls', 'index.m3u8'), contentType: 'text/plain' });
    for (let index = 0; index < DASH_SECONDS; index++) origin.route(`/hls-plain/seg${index}.ts`, { file: join(media.root, 'hls', `seg${index}.ts`), contentType: 'video/mp2t' });
    origin.route('/files/clip', { file: sample, contentType: 'application/octet-stream', headers: { 'content-disposition': 'attachment; filename="Holiday Clip.mp4"' } });
    origin.route('/watch', { body: '<!DOCTYPE html><html><head><title>A video</title></head><body><video src="x.mp4"></video></body></html>', contentType: 'text/html; charset=utf-8' });
    origin.route('/api/status', { body: '{"error":"not a video"}', contentType: 'application/json' });
    const protectedMpd = manifestOf(media.root, 'timeline').replace(
      /(<Representation id="0"[^>]*>)/,
      '$1\n<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" />\n<ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed" />',
    );
    origin.route('/timeline/drm.mpd', { body: protectedMpd, contentType: MPD_TYPE });
  });

  after(async () => {
    await origin.stop();
    await Promise.all(clients.map((client) => client.close()));
    rmSync(root, { recursive: true, force: true });
  });

  it('downloads SegmentTemplate + SegmentTimeline ($Time$), choosing the best video representation, with progress', async () => {
    const job = aJob('/timeline/manifest.mpd', { nameIsDerived: true });
    const { output, progress, log } = await run(downloaderWith(), job);
    const result = assertPlayableMp4(output, job, media.best.width);
    assert.equal(result.streams.find((stream) => stream.codec_type === 'video')?.height, media.best.height);
    assert.equal(origin.hits('/timeline/chunk-1-0.m4s'), 0, 'the lower video representation is not downloaded');
    assert.equal(origin.hits('/timeline/chunk-0-0.m4s'), 1);
    assert.equal(output.title, 'timeline', 'a derived name gets the manifest folder as title');
    assert.ok(log.some((line) => line.includes('is a DASH manifest')));
    const last = progress.at(-1)!;
    assert.equal(last.percent, 100);
    assert.equal(last.totalBytes, last.downloadedBytes);
    assert.deepEqual(segmentFiles(job, 'video'), [], 'deleteSegments removes the segment files');
  });

  it('downloads SegmentTemplate with @duration and $Number$ (no timeline), keeping segments when asked', async () => {
    const job = aJob('/number/manifest.mpd', { deleteSegments: false });
    const { output } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.equal(segmentFiles(job, 'video').filter((file) => file.endsWith('.m4s')).length, DASH_SECONDS);
  });

  it('downloads SegmentList media ranges of one file per representation', async () => {
    const job = aJob('/segment-list/manifest.mpd');
    assertPlayableMp4((await run(downloaderWith(), job)).output, job);
    assert.equal(origin.hits('/segment-list/manifest-stream1.mp4'), 0, 'the lower representation is not downloaded');
  });

  it('downloads SegmentBase by reading the sidx at its indexRange and fetching the referenced ranges', async () => {
    const job = aJob('/segment-base/manifest.mpd');
    const { output, log } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.ok(log.some((line) => /video "0": \d+ segments from the index/.test(line)), log.join('\n'));
    assert.ok(origin.sentBytes('/segment-base/manifest-stream0.mp4') < 2 * readFileSync(join(media.root, 'segment-base', 'manifest-stream0.mp4')).length);
  });

  it('joins a multi-period manifest in order, resolving BaseURLs at every level against the URL after a redirect', async () => {
    const job = aJob('/go/multi', { nameIsDerived: true });
    const { output } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.equal(output.title, 'Two Parts', 'the ProgramInformation title names the task');
    assert.equal(origin.hits('/multi/media/p1/video/init-stream0.m4s'), 1);
    assert.equal(origin.hits('/multi/media/p0/audio/chunk-stream1-00003.m4s'), 1);
  });

  it('pads a period without audio with silence, so that the audio of the periods after it stays in sync', async () => {
    const job = aJob('/gap/manifest.mpd');
    const { output, log } = await run(downloaderWith(), job);
    const probed = assertPlayableMp4(output, job);
    assert.deepEqual(streamTypes(probed), ['audio', 'video']);
    assert.ok(log.some((line) => /audio: period 2 has none; padded with silence/.test(line)), log.join('\n'));
    const third = DASH_SECONDS / 3;
    const audioSeconds = streamDuration(output.path, 'a');
    assert.ok(Math.abs(audioSeconds - DASH_SECONDS) < 0.3, `the audio lasts ${audioSeconds} s of ${DASH_SECONDS}`);
    // the tone sounds in the first and third periods and nothing in the second: the third period's tone kept its place
    assert.ok(loudness(output.path, 0.2, third - 0.4) > -40, 'a tone in period 1');
    assert.ok(loudness(output.path, third + 0.2, third - 0.4) < -80, 'silence in period 2');
    assert.ok(loudness(output.path, 2 * third + 0.2, third - 0.4) > -40, 'a tone in period 3');
  });

  it('pads a period without video with black, so that the picture of the periods after it stays in sync', async () => {
    const job = aJob('/gap-video/manifest.mpd');
    const { output, log } = await run(downloaderWith(), job);
    const probed = assertPlayableMp4(output, job);
    assert.deepEqual(streamTypes(probed), ['audio', 'video']);
    assert.ok(log.some((line) => /video: period 2 has none; padded with black/.test(line)), log.join('\n'));
    const videoSeconds = streamDuration(output.path, 'v');
    assert.ok(Math.abs(videoSeconds - DASH_SECONDS) < 0.3, `the video lasts ${videoSeconds} s of ${DASH_SECONDS}`);
    const third = DASH_SECONDS / 3;
    // black has luma 16; the test pattern of periods 1 and 3 is far brighter
    assert.ok(brightness(output.path, third + third / 2) < 20, 'black in period 2');
    assert.ok(brightness(output.path, 2 * third + third / 2) > 40, 'the picture of period 3 in period 3');
  });

  it('tries every BaseURL mirror in turn, per segment, when one answers 404 or 500', async () => {
    serveDashDir(origin, media.root, 'number', { status: 500 }, 'mirror-500');
    serveDashDir(origin, media.root, 'number', {}, 'mirror-ok');
    // /mirror-404/ has no routes: every request there is a 404
    const mirrored = manifestOf(media.root, 'number').replace(/(<Period )/, '<BaseURL>/mirror-404/</BaseURL>\n\t<BaseURL>/mirror-500/</BaseURL>\n\t<BaseURL>/mirror-ok/</BaseURL>\n\t$1');
    origin.route('/mirrored/manifest.mpd', { body: mirrored, contentType: MPD_TYPE });
    const job = aJob('/mirrored/manifest.mpd');
    const { output, log } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    const asked = (mirror: string) => origin.requests.filter((request) => request.path.startsWith(`/${mirror}/`)).map((request) => request.path.replace(`/${mirror}/`, ''));
    const pieces = asked('mirror-ok');
    assert.ok(pieces.includes('init-stream0.m4s') && pieces.includes('chunk-stream0-00006.m4s') && pieces.includes('chunk-stream1-00001.m4s'), pieces.join(' '));
    assert.deepEqual(asked('mirror-404').sort(), pieces.slice().sort(), 'every piece was asked at the first mirror first');
    assert.deepEqual(asked('mirror-500').sort(), pieces.slice().sort(), 'then once at the second: a failing mirror is left at once while others remain');
    assert.ok(log.some((line) => /video segment 1 of .*: http:\/\/127\.0\.0\.1:\d+\/mirror-404\/chunk-stream0-00001\.m4s failed \(.*HTTP 404\); trying mirror 2 of 3/.test(line)), log.join('\n'));
    assert.ok(log.some((line) => /mirror-500\/chunk-stream0-00001\.m4s failed \(.*HTTP 500\); trying mirror 3 of 3/.test(line)));
  });

  it('fails naming the last mirror when no BaseURL mirror serves a segment', async () => {
    const broken = manifestOf(media.root, 'number').replace(/(<Period )/, '<BaseURL>/mirror-404/</BaseURL>\n\t<BaseURL>/mirror-500/</BaseURL>\n\t$1');
    origin.route('/mirrored/broken.mpd', { body: broken, contentType: MPD_TYPE });
    await assert.rejects(run(downloaderWith(), aJob('/mirrored/broken.mpd')), /\(after 2 mirrors\) \(http:\/\/127\.0\.0\.1:\d+\/mirror-500\/[^)]+\) answered HTTP 500 after 3 tries/);
  });

  it('downloads an HLS playlist through the HLS engine, recognised by its bytes despite a text/plain label', async () => {
    const job = aJob('/hls-plain/index.m3u8');
    const { output, log } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.ok(log.some((line) => line.includes('is an HLS playlist (by its bytes')));
    assert.equal(origin.hits('/hls-plain/index.m3u8'), 1, 'the probe hands the playlist over instead of fetching it twice');
  });

  it('downloads a plain file byte for byte with the segmented downloader, named from Content-Disposition', async () => {
    const job = aJob('/files/clip', { nameIsDerived: true });
    const { output } = await run(downloaderWith(), job);
    assert.equal(output.extension, 'mp4');
    assert.equal(output.title, 'Holiday Clip');
    assert.equal(sha256(output.path), sha256(sample));
  });

  it('fails on a web page with a pointer to the youtube type', async () => {
    await assert.rejects(run(downloaderWith(), aJob('/watch')), (error: Error) => {
      assert.equal(error.name, 'PermanentError');
      assert.match(error.message, /is a web page \(text\/html\).*type "youtube"/);
      return true;
    });
  });

  it('fails on content that is neither a manifest nor media', async () => {
    await assert.rejects(run(downloaderWith(), aJob('/api/status')), /\(application\/json\) that is neither an HLS playlist, a DASH manifest nor a media file/);
  });

  it('refuses encrypted DASH, naming the protection, before fetching any segment', async () => {
    const before = origin.hits('/timeline/init-stream0.m4s');
    await assert.rejects(run(downloaderWith(), aJob('/timeline/drm.mpd')), /is encrypted \(ContentProtection: CENC, Widevine\); DRM-protected content cannot be downloaded/);
    assert.equal(origin.hits('/timeline/init-stream0.m4s'), before);
  });

  it('records a live (dynamic) manifest until it turns static, each segment once and in order', async () => {
    serveDashDir(origin, media.root, 'number', {}, 'live-dash');
    // two segments are out already; the others appear one a second
    origin.route('/live-dash/manifest.mpd', { handler: liveDashHandler(media.root, { availableAt: Date.now() - 2_000 }) });
    const job = aJob('/live-dash/manifest.mpd');
    const { output, log, progress } = await run(downloaderWith(), job);
    assertPlayableMp4(output, job);
    assert.equal(output.partial, undefined, 'a stream that ended is complete');
    for (let number = 1; number <= DASH_SECONDS; number++) assert.equal(origin.hits(`/live-dash/chunk-stream0-${String(number).padStart(5, '0')}.m4s`), 1, `video segment ${number} fetched once`);
    assert.ok(origin.hits('/live-dash/manifest.mpd') > 2, 'the manifest was reloaded');
    assert.ok(log.some((line) => /live DASH: recording video and audio until the stream ends or the task is stopped/.test(line)), log.join('\n'));
    assert.equal(progress.at(-1)?.totalBytes, null);
  });

  it('keeps what was recorded as the file when a live DASH recording is stopped', async () => {
    serveDashDir(origin, media.root, 'number', {}, 'live-stop');
    origin.route('/live-stop/manifest.mpd', { handler: liveDashHandler(media.root, { availableAt: Date.now() - 2_000, endless: true }) });
    const job = aJob('/live-stop/manifest.mpd', { isLive: true });
    const controller = new AbortController();
    let stopScheduled = false;
    const { output, log } = await run(downloaderWith(), job, {
      signal: controller.signal,
      onProgress: (report) => {
        if (report.downloadedBytes === 0 || stopScheduled) return;
        stopScheduled = true;
        setTimeout(() => controller.abort(), 1_200);
      },
    });
    assert.equal(output.partial, true, 'a stopped recording says it was cut short');
    const result = probe(tools.ffprobe!, output.path);
    assert.deepEqual(streamTypes(result), ['audio', 'video']);
    assert.ok(result.duration >= 1, `recorded ${result.duration} s`);
    assertDecodesCleanly(tools.ffmpeg!, output.path);
    assert.ok(log.some((line) => /^live: stopped; \d+ video segments recorded/.test(line)), log.join('\n'));
  });

  it('sends the task headers with every request', async () => {
    const job = aJob('/private/manifest.mpd', { headers: [['Referer', 'https://player.example/watch']] });
    assertPlayableMp4((await run(downloaderWith(), job)).output, job);
    const seen = origin.requests.filter((request) => request.path.startsWith('/private/'));
    assert.ok(seen.length > DASH_SECONDS * 2);
    assert.ok(seen.every((request) => request.headers.referer === 'https://player.example/watch'));
    await assert.rejects(run(downloaderWith(), aJob('/private/manifest.mpd')), /HTTP 403/);
  });

  it('stops promptly when aborted and resumes without fetching completed segments again', async () => {
    const downloader = downloaderWith({ segmentConcurrency: 2 });
    const job = aJob('/slow/manifest.mpd');
    await runAndStopAt(downloader, job, 30);
    // p0-000003.m4s is segment 4 of representation "0" (video) or "1" (audio): chunk-stream<id>-00004.m4s
    const originPath = (track: string, file: string) =>
      file.includes('init') ? `/slow/init-stream${track === 'video' ? 0 : 1}.m4s` : `/slow/chunk-stream${track === 'video' ? 0 : 1}-${String(Number(/-(\d+)\.m4s$/.exec(file)![1]) + 1).padStart(5, '0')}.m4s`;
    const kept = ['video', 'audio'].flatMap((track) => segmentFiles(job, track).map((file) => originPath(track, file)));
    assert.ok(kept.length >= 3 && kept.length < DASH_SECONDS * 2 + 2, `kept ${kept.length} pieces`);
    for (const path of kept) assert.equal(origin.hits(path), 1, `${path} fetched once before the stop`);

    const { output } = await run(downloader, job);
    assertPlayableMp4(output, job);
    for (const path of kept) assert.equal(origin.hits(path), 1, `${path} was not fetched again`);
  });

  it('takes the DASH video of a maximum height, the audio adaptation set of the language asked, and saves WebVTT and TTML text tracks as WebVTT', async () => {
    const job = aJob('/languages/manifest.mpd', { quality: 120, audioLanguages: ['fr'], subtitleLanguages: ['en', 'ja', 'ko', 'de'] });
    const { output, log } = await run(downloaderWith(), job);
    const result = assertPlayableMp4(output, job, 160);
    assert.equal(result.streams.find((stream) => stream.codec_type === 'video')?.height, 90, 'the 90-line representation, the tallest not above 120');
    assert.ok(audioZeroCrossingRate(tools.ffmpeg!, output.path) < 0.02, 'the French (330 Hz) adaptation set');
    assert.deepEqual(output.subtitles?.map((subtitle) => subtitle.language), ['en', 'ja', 'ko']);
    assert.deepEqual(cueTimes(readFileSync(output.subtitles![0].path, 'utf8')), ['00:00:00.000 --> 00:00:01.500', '00:00:02.000 --> 00:00:03.500', '00:00:04.000 --> 00:00:05.500']);
    // the TTML file (ja) and the stpp samples in MP4 (ko), as WebVTT with their own times and text
    for (const [index, language] of [[1, 'ja'], [2, 'ko']] as const) {
      const text: string = readFileSync(output.subtitles![index].path, 'utf8');
      assert.deepEqual(cueTimes(text), ['00:00:00.250 --> 00:00:01.500', '00:00:02.250 --> 00:00:03.500', '00:00:04.250 --> 00:00:05.500'], text);
      assert.ok(text.startsWith('WEBVTT\n') && text.includes(`\n${language} caption 3\n`), text);
    }
    assert.ok(log.some((line) => /no subtitles in de \(offered: en, ja, ko\)/.test(line)), log.join('\n'));
  });

  it('falls back to the default DASH audio and the nearest height, logging both, and saves the sound alone for quality "audio"', async () => {
    const fallback = aJob('/languages/manifest.mpd', { quality: 60, audioLanguages: ['ko'] });
    const { output, log } = await run(downloaderWith(), fallback);
    assert.equal(assertPlayableMp4(output, fallback, 160).streams.find((stream) => stream.codec_type === 'video')?.height, 90);
    assert.ok(audioZeroCrossingRate(tools.ffmpeg!, output.path) > 0.025, 'the first (English) adaptation set');
    assert.ok(log.some((line) => line.includes('no picture of at most 60 lines is offered (offered: 90p, 180p); took the nearest, 90p')), log.join('\n'));
    assert.ok(log.some((line) => /no audio in ko is offered \(offered: eng, fre\)/.test(line)), log.join('\n'));

    const audioOnly = aJob('/languages/manifest.mpd', { quality: 'audio', audioLanguages: ['fr'] });
    const sound = await run(downloaderWith(), audioOnly);
    assert.equal(sound.output.extension, 'm4a');
    const media = probe(tools.ffprobe!, sound.output.path);
    assert.deepEqual(streamTypes(media), ['audio']);
    assert.ok(Math.abs(media.duration - DASH_SECONDS) <= 0.5);
    assert.ok(audioZeroCrossingRate(tools.ffmpeg!, sound.output.path) < 0.02);
  });
});
