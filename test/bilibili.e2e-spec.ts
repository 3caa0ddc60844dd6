import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type AppConfig, loadConfig } from '../src/config/app-config.js';
import { BilibiliDownloader } from '../src/downloaders/bilibili/bilibili.downloader.js';
import type { DownloadJob, DownloadOutput, ProgressReport } from '../src/engine/download-job.js';
import { DownloadType } from '../src/common/download-type.enum.js';
import { isAbortError } from '../src/engine/abort.js';
import { HttpClient } from '../src/engine/http-client.js';
import { ToolsService } from '../src/engine/tools.service.js';
import { BilibiliFakeApi, FAKE_MEDIA_SECONDS, FAKE_SEASON, HI_RES_VIDEO, MULTI_PART_VIDEO, PROGRESSIVE_VIDEO, SINGLE_VIDEO } from './fixtures/bilibili-fake-api.js';
import { run } from './helpers/downloader-run.js';
import { assertMedia, probe, streamTypes } from './helpers/media-checks.js';

interface Run {
  output: DownloadOutput;
  reports: ProgressReport[];
  logs: string[];
}

/** Rejects with a clear message when a step hangs, so a broken build fails instead of stalling. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('bilibili downloader against a local fake of the Bilibili API and CDN', () => {
  const tools = new ToolsService(loadConfig({}));
  let root: string;
  let fake: BilibiliFakeApi;
  let http: HttpClient;
  let config: AppConfig;
  let downloader: BilibiliDownloader;
  let jobCount = 0;

  before(async () => {
    assert.ok(tools.ffmpeg && tools.ffprobe, 'ffmpeg and ffprobe are needed for these tests');
    root = await mkdtemp(join(tmpdir(), 'bilibili-e2e-'));
    await mkdir(join(root, 'media'));
    fake = new BilibiliFakeApi(tools.ffmpeg, join(root, 'media'));
    await fake.start();
    http = new HttpClient({ stallTimeoutMs: 10_000, retry: { attempts: 3, baseDelayMs: 20 } });
    config = { ...loadConfig({}), bilibiliApiBase: fake.baseUrl, retryAttempts: 3, retryBaseDelayMs: 20, directConnections: 4 };
    downloader = new BilibiliDownloader(http, tools, config);
  });

  after(async () => {
    await http?.close();
    await fake?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake.cdn.requireReferer = true;
    fake.cdn.brokenMirrors.clear();
    fake.cdn.bytesPerSecond = null;
    fake.server.requests.length = 0;
  });

  async function aJob(overrides: Partial<DownloadJob> = {}): Promise<DownloadJob> {
    jobCount += 1;
    const outputDir = join(root, `out-${jobCount}`);
    const workDir = join(outputDir, `.task-${jobCount}`);
    await mkdir(workDir, { recursive: true });
    return {
      id: jobCount,
      type: DownloadType.Bilibili,
      url: `https://www.bilibili.com/video/${SINGLE_VIDEO.bvid}`,
      name: `task-${jobCount}`,
      nameIsDerived: true,
      headers: [],
      isLive: false,
      outputDir,
      workDir,
      deleteSegments: true,
      speedLimit: null,
      quality: 'best',
      audioLanguages: [],
      subtitleLanguages: [],
      ...overrides,
    };
  }

  async function download(job: DownloadJob, signal: AbortSignal = new AbortController().signal, onProgress?: (report: ProgressReport) => void): Promise<Run> {
    const { output, progress, log } = await within(run(downloader, job, { signal, onProgress }), 60_000, `downloading ${job.url}`);
    return { output, reports: progress, logs: log };
  }

  function assertPlayable(path: string, expected: { width: number; height: number; audioCodec?: string }): void {
    assertMedia(probe(tools.ffprobe!, path), { seconds: FAKE_MEDIA_SECONDS, width: expected.width, height: expected.height, audioCodec: expected.audioCodec ?? 'aac' });
  }

  function cdnFilesFetched(): string[] {
    return [...new Set(fake.seen('/cdn/').map((request) => request.path.split('?')[0].split('/').pop()!))].sort();
  }

  function playUrlCalls(prefix = '/x/player/wbi/playurl'): URLSearchParams[] {
    return fake.seen(prefix).map((request) => new URLSearchParams(request.path.split('?')[1] ?? ''));
  }

  it('downloads a BV page URL: best quality in the preferred codec, best audio, muxed into a playable mp4 titled like the video', async () => {
    const job = await aJob({ url: `https://www.bilibili.com/video/${SINGLE_VIDEO.bvid}/?spm_id_from=333.1007.tianma.1-1-1.click` });
    const { output, reports } = await download(job);

    assert.equal(output.extension, 'mp4');
    assert.ok(output.path.startsWith(job.workDir));
    assert.equal(output.title, SINGLE_VIDEO.title);
    assertPlayable(output.path, { width: 640, height: 360 });
    // quality 64 wins over 16, avc over the hevc/av1 entries of the same quality, 30280 over 30216
    assert.deepEqual(cdnFilesFetched(), [`${SINGLE_VIDEO.pages[0].cid}-1-30064.m4s`, `${SINGLE_VIDEO.pages[0].cid}-1-30280.m4s`]);

    const call = playUrlCalls()[0];
    assert.equal(call.get('bvid'), SINGLE_VIDEO.bvid);
    assert.equal(call.get('cid'), String(SINGLE_VIDEO.pages[0].cid));
    assert.equal(call.get('fnval'), '4048');
    assert.equal(call.get('fourk'), '1');
    assert.match(call.get('w_rid') ?? '', /^[0-9a-f]{32}$/);

    const total = fake.sizeOf('video640') + fake.sizeOf('audio');
    const last = reports.at(-1)!;
    assert.equal(last.totalBytes, total);
    assert.equal(last.downloadedBytes, total);
    assert.deepEqual(await readdir(job.workDir), ['bilibili.mp4'], 'the stream files are removed after the mux');
  });

  it('takes the tallest quality not above a maximum height, else the nearest with a line in the log, and the sound alone for "audio"', async () => {
    const cid = SINGLE_VIDEO.pages[0].cid;
    const low = await download(await aJob({ quality: 200 }));
    assertPlayable(low.output.path, { width: 320, height: 180 });
    assert.deepEqual(cdnFilesFetched(), [`${cid}-1-30016.m4s`, `${cid}-1-30280.m4s`], 'quality 16 in avc, not 64');
    assert.deepEqual(low.logs.filter((line) => line.startsWith('quality/language:')), []);

    fake.server.requests.length = 0;
    const nearest = await download(await aJob({ quality: 144, subtitleLanguages: ['zh'] }));
    assertPlayable(nearest.output.path, { width: 320, height: 180 });
    assert.ok(nearest.logs.includes('quality/language: no picture of at most 144 lines is offered (offered: 180p, 360p); took the nearest, 180p'), nearest.logs.join('\n'));
    assert.ok(nearest.logs.some((line) => line.includes('the languages asked for do not apply')));

    fake.server.requests.length = 0;
    const sound = await download(await aJob({ quality: 'audio' }));
    assert.equal(sound.output.extension, 'm4a');
    assert.deepEqual(streamTypes(probe(tools.ffprobe!, sound.output.path)), ['audio']);
    assert.deepEqual(cdnFilesFetched(), [`${cid}-1-30280.m4s`], 'no video stream is fetched');
  });

  it('sends the bilibili Referer and a browser User-Agent to the API and the CDN, plus the task headers (which win)', async () => {
    const job = await aJob({ url: SINGLE_VIDEO.bvid, headers: [['Cookie', 'SESSDATA=abc123; buvid3=xyz']] });
    await download(job);

    const apiAndCdn = [...fake.seen('/x/'), ...fake.seen('/cdn/')];
    assert.ok(fake.seen('/cdn/').length >= 2 && fake.seen('/x/').length >= 2);
    for (const request of apiAndCdn) {
      assert.equal(request.headers.referer, 'https://www.bilibili.com', `${request.path} carried the Referer`);
      assert.match(String(request.headers['user-agent']), /^Mozilla\/5\.0 .*Chrome\//, `${request.path} carried a browser User-Agent`);
      assert.equal(request.headers.cookie, 'SESSDATA=abc123; buvid3=xyz', `${request.path} carried the task's cookie`);
    }
  });

  it('the fake CDN refuses a request without the Referer, and a task that overrides the Referer fails with that 403', async () => {
    await download(await aJob());
    const mediaUrl = `${fake.baseUrl}${fake.seen('/cdn/')[0].path}`;
    const bare = await fetch(mediaUrl);
    await bare.arrayBuffer();
    assert.equal(bare.status, 403);

    const job = await aJob({ headers: [['Referer', 'https://example.com/']] });
    await assert.rejects(download(job), (error: Error) => {
      assert.match(error.message, /Bilibili (video stream 64|audio stream 30280) failed on all 3 of its URLs: .*answered HTTP 403/);
      return true;
    });
  });

  it('accepts an av page URL, and bare BV and av ids', async () => {
    for (const url of [`https://www.bilibili.com/video/av${SINGLE_VIDEO.aid}/`, SINGLE_VIDEO.bvid, `av${SINGLE_VIDEO.aid}`]) {
      fake.server.requests.length = 0;
      const { output } = await download(await aJob({ url }));
      assert.equal(output.title, SINGLE_VIDEO.title, url);
      assertPlayable(output.path, { width: 640, height: 360 });
      const view = new URLSearchParams(fake.seen('/x/web-interface/view')[0].path.split('?')[1]);
      if (url.includes('av')) assert.equal(view.get('aid'), String(SINGLE_VIDEO.aid), url);
      else assert.equal(view.get('bvid'), SINGLE_VIDEO.bvid, url);
    }
  });

  it('downloads part 2 of a multi-part video from ?p=2, with the part title in the name', async () => {
    const { output } = await download(await aJob({ url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=2` }));
    assert.equal(output.title, `${MULTI_PART_VIDEO.title} - ${MULTI_PART_VIDEO.pages[1].part}`);
    assert.equal(playUrlCalls()[0].get('cid'), String(MULTI_PART_VIDEO.pages[1].cid));
    assert.ok(cdnFilesFetched().every((file) => file.startsWith(`${MULTI_PART_VIDEO.pages[1].cid}-`)));
    assertPlayable(output.path, { width: 640, height: 360 });
  });

  it('follows a b23.tv-style short link to the page it redirects to', async () => {
    const { output, logs } = await download(await aJob({ url: `${fake.baseUrl}/b23/xYz123` }));
    assert.equal(output.title, `${MULTI_PART_VIDEO.title} - ${MULTI_PART_VIDEO.pages[1].part}`);
    assert.equal(playUrlCalls()[0].get('cid'), String(MULTI_PART_VIDEO.pages[1].cid));
    assert.ok(logs.some((line) => line.includes('/b23/xYz123 leads to') && line.includes(`/video/${MULTI_PART_VIDEO.bvid}`)));
    assertPlayable(output.path, { width: 640, height: 360 });
    assert.equal(fake.seen('/video/').length, 0, 'the video page (412 for non-browsers) is never requested: its URL from the Location header is enough');
  });

  it('follows a short link through several redirects to the one whose Location names the video', async () => {
    fake.server.route('/b23/hop', { handler: (_req, res) => void res.writeHead(301, { location: '/b23/xYz123' }).end() });
    const { output } = await download(await aJob({ url: `${fake.baseUrl}/b23/hop` }));
    assert.equal(output.title, `${MULTI_PART_VIDEO.title} - ${MULTI_PART_VIDEO.pages[1].part}`);
    assert.equal(fake.seen('/video/').length, 0);
  });

  it('fails clearly when a link leads somewhere that is not a Bilibili video', async () => {
    await assert.rejects(download(await aJob({ url: `${fake.baseUrl}/elsewhere` })), /\/elsewhere led to .*\/elsewhere, which is not a Bilibili video or episode page/);
    await assert.rejects(download(await aJob({ url: `${fake.baseUrl}/b23/broken` })), /answered HTTP 404/);
  });

  it('downloads a bangumi episode page (ep…) through the pgc endpoints', async () => {
    const episode = FAKE_SEASON.episodes[1];
    const { output } = await download(await aJob({ url: `https://www.bilibili.com/bangumi/play/ep${episode.epId}?from_spmid=666.25.episode.0` }));
    assert.equal(output.title, `${FAKE_SEASON.title} - EP2 The Return`);
    const call = playUrlCalls('/pgc/player/web/v2/playurl')[0];
    assert.equal(call.get('ep_id'), String(episode.epId));
    assert.equal(call.get('cid'), String(episode.cid));
    assertPlayable(output.path, { width: 640, height: 360 });
  });

  it('downloads the first episode of a season page (ss…), and an episode behind a short link', async () => {
    const { output } = await download(await aJob({ url: `https://www.bilibili.com/bangumi/play/ss${FAKE_SEASON.seasonId}` }));
    assert.equal(output.title, `${FAKE_SEASON.title} - 第1话 Beginning`);
    assert.equal(playUrlCalls('/pgc/player/web/v2/playurl')[0].get('ep_id'), String(FAKE_SEASON.episodes[0].epId));
    assertPlayable(output.path, { width: 640, height: 360 });

    fake.server.requests.length = 0;
    const shortLinked = await download(await aJob({ url: `${fake.baseUrl}/b23/anime1` }));
    assert.equal(shortLinked.output.title, `${FAKE_SEASON.title} - EP2 The Return`);
  });

  it('falls back to the durl parts when there is no DASH, and concatenates them', async () => {
    const { output, reports } = await download(await aJob({ url: `https://www.bilibili.com/video/${PROGRESSIVE_VIDEO.bvid}` }));
    assert.equal(output.title, PROGRESSIVE_VIDEO.title);
    assertPlayable(output.path, { width: 320, height: 180 });
    const total = fake.sizeOf('durl1') + fake.sizeOf('durl2');
    assert.equal(reports[0].totalBytes, total, 'durl sizes give the total from the start');
    assert.equal(reports.at(-1)!.downloadedBytes, total);
  });

  it('takes the Hi-Res (FLAC) audio when offered and muxes it into the mp4', async () => {
    const { output } = await download(await aJob({ url: HI_RES_VIDEO.bvid }));
    assertPlayable(output.path, { width: 640, height: 360, audioCodec: 'flac' });
    assert.deepEqual(cdnFilesFetched(), [`${HI_RES_VIDEO.pages[0].cid}-1-30064.m4s`, `${HI_RES_VIDEO.pages[0].cid}-1-30251.m4s`]);
  });

  it('keeps the given name: no title is offered when the task was named', async () => {
    const { output } = await download(await aJob({ nameIsDerived: false, name: 'my own name' }));
    assert.equal(output.title, undefined);
  });

  it('fails with the API code and message when the video does not exist', async () => {
    await assert.rejects(download(await aJob({ url: 'https://www.bilibili.com/video/BV1xx411c7mD' })), (error: Error) => {
      assert.equal(error.name, 'BilibiliApiError');
      assert.match(error.message, /^Bilibili API x\/web-interface\/view answered code -404: 啥都木有/);
      return true;
    });
    await assert.rejects(download(await aJob({ url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=3` })), /has 2 parts; there is no part p=3/);
  });

  it('uses a backup URL when the main CDN URL answers 404', async () => {
    fake.cdn.brokenMirrors.set('cos', 404);
    const { output, logs } = await download(await aJob());
    assertPlayable(output.path, { width: 640, height: 360 });
    const cdn = fake.seen('/cdn/');
    assert.ok(cdn.some((request) => request.path.startsWith('/cdn/cos/')), 'the main URL was tried');
    assert.ok(cdn.some((request) => request.path.startsWith('/cdn/ali/')), 'the first backup URL was used');
    assert.ok(logs.some((line) => /main URL failed: .*HTTP 404; trying backup URL/.test(line)));
  });

  it('uses the backup URLs in turn when the main mirror keeps answering 500 and the first backup 403', async () => {
    fake.cdn.brokenMirrors.set('cos', 500).set('ali', 403);
    const { output, logs } = await download(await aJob());
    assertPlayable(output.path, { width: 640, height: 360 });
    const cdn = fake.seen('/cdn/');
    assert.ok(cdn.filter((request) => request.path.startsWith('/cdn/cos/')).length >= 2, 'the main mirror was retried (500 is transient)');
    assert.ok(cdn.some((request) => request.path.startsWith('/cdn/ali/')), 'the first backup was tried');
    assert.ok(cdn.some((request) => request.path.startsWith('/cdn/hw/')), 'the second backup served it');
    assert.ok(logs.some((line) => /main URL failed: .*HTTP 500.*; trying backup URL/.test(line)), logs.join('\n'));
    assert.ok(logs.some((line) => /backup URL 1 failed: .*HTTP 403; trying backup URL/.test(line)));
    assert.ok(logs.some((line) => /downloaded from backup URL 2/.test(line)));
  });

  it('signs again with fresh WBI keys when the cached ones were rotated', async () => {
    await download(await aJob());
    fake.rotateWbiKeys();
    fake.server.requests.length = 0;
    const { output, logs } = await download(await aJob());
    assertPlayable(output.path, { width: 640, height: 360 });
    assert.equal(fake.seen('/x/player/wbi/playurl').length, 2, 'one refused call, one accepted');
    assert.equal(fake.seen('/x/web-interface/nav').length, 1);
    assert.ok(logs.some((line) => line.includes('WBI signature was refused')));
  });

  it('stops promptly on abort, keeps the partial data, and resumes with fewer bytes on the next run', async () => {
    const job = await aJob();
    const total = fake.sizeOf('video640') + fake.sizeOf('audio');
    fake.cdn.bytesPerSecond = Math.max(16 * 1024, Math.floor(total / 8));
    fake.bytesServed = 0;
    const controller = new AbortController();
    const first = download(job, controller.signal, (report) => {
      if (report.downloadedBytes >= total / 4) controller.abort();
    });
    await assert.rejects(first, (error: unknown) => isAbortError(error));
    const firstBytes = fake.bytesServed;
    assert.ok(firstBytes > 0 && firstBytes < total, `the first run stopped part way (${firstBytes} of ${total} bytes)`);
    assert.ok((await readdir(job.workDir)).some((file) => file.endsWith('.state.json')), 'the resume state is on disk');

    fake.cdn.bytesPerSecond = null;
    fake.bytesServed = 0;
    fake.server.requests.length = 0;
    const { output, reports } = await download(job);
    assertPlayable(output.path, { width: 640, height: 360 });
    assert.ok(fake.bytesServed < total, `the second run fetched ${fake.bytesServed} bytes, less than the ${total} of the streams`);
    const resumedRange = fake.seen('/cdn/').map((request) => String(request.headers.range ?? ''));
    assert.ok(resumedRange.some((range) => /^bytes=[1-9]\d*-/.test(range)), `a request resumed past byte 0: ${resumedRange.join(', ')}`);
    assert.equal(reports.at(-1)!.downloadedBytes, total);
  });
});
