import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type AppConfig, loadConfig } from '../src/config/app-config.js';
import type { DownloadJob, DownloadOutput, ProgressReport } from '../src/engine/download-job.js';
import { YoutubeDownloader } from '../src/downloaders/youtube/youtube.downloader.js';
import { AddressGuard } from '../src/engine/address-guard.js';
import { DownloadType } from '../src/common/download-type.enum.js';
import { ToolsService } from '../src/engine/tools.service.js';
import { OriginServer } from './fixtures/origin-server.js';
import { CLIP_SECONDS, type YoutubeMedia, buildYoutubeMedia, liveHlsRoute, serveDirectory } from './fixtures/youtube-media.js';
import { startRun } from './helpers/downloader-run.js';
import { probe, streamTypes } from './helpers/media-checks.js';

/** Paces the throttled routes so that a download takes several seconds and prints many progress lines. */
const SLOW_BYTES_PER_SECOND = 24_000;

interface Run {
  output: DownloadOutput;
  reports: ProgressReport[];
  logs: string[];
}

/** Polls until check() returns a value, failing with what was awaited once the time is up. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => T | null | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The promise's value, or "still running" if it has not settled within ms. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Processes that belong to a job: running in its working directory or naming its URL. */
function processesOf(workDir: string, url: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && (cwd === workDir || args.includes(url))) found.push(`${pid} ${args}`);
    } catch {
      // the process ended while we looked, or is not ours to inspect
    }
  }
  return found;
}

describe('youtube downloader (real yt-dlp against a local origin)', () => {
  let root: string;
  let media: YoutubeMedia;
  let config: AppConfig;
  let tools: ToolsService;
  let downloader: YoutubeDownloader;
  const origin = new OriginServer();
  let jobCount = 0;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'youtube-e2e-'));
    config = loadConfig(
      { DATA_DIR: join(root, 'data'), DOWNLOAD_DIR: join(root, 'downloads'), SEGMENT_CONCURRENCY: '4', RETRY_ATTEMPTS: '2', STALL_TIMEOUT_MS: '20000', ALLOW_PRIVATE_ADDRESSES: 'true' },
      root,
    );
    tools = new ToolsService(config);
    assert.ok(tools.ytdlp, 'yt-dlp is installed');
    assert.ok(tools.ffmpeg && tools.ffprobe, 'ffmpeg and ffprobe are installed');
    media = buildYoutubeMedia(tools.ffmpeg, join(root, 'media'));
    downloader = new YoutubeDownloader(tools, config);

    origin.route('/media/clip.mp4', { file: media.clip, contentType: 'video/mp4' });
    origin.route('/media/slow.mp4', { file: media.clip, contentType: 'video/mp4', bytesPerSecond: SLOW_BYTES_PER_SECOND });
    origin.route('/media/resume.mp4', { file: media.clip, contentType: 'video/mp4', bytesPerSecond: SLOW_BYTES_PER_SECOND });
    origin.route('/media/protected.mp4', { file: media.clip, contentType: 'video/mp4', requireHeader: ['X-Token', /^letmein$/] });
    origin.route('/watch.html', {
      body: '<!doctype html><html><head><title>My Test Clip</title></head><body><video controls src="/media/clip.mp4"></video></body></html>',
      contentType: 'text/html; charset=utf-8',
    });
    origin.route('/two.html', {
      body: '<!doctype html><html><head><title>Two Clips</title></head><body><video src="/media/clip.mp4"></video><video src="/hls/index.m3u8"></video></body></html>',
      contentType: 'text/html; charset=utf-8',
    });
    origin.route('/about.html', { body: '<!doctype html><html><head><title>About us</title></head><body><p>No media here.</p></body></html>', contentType: 'text/html; charset=utf-8' });
    serveDirectory(origin, '/hls', media.hls);
    serveDirectory(origin, '/split', media.split);
    serveDirectory(origin, '/choice', media.choice);
    serveDirectory(origin, '/live', media.live);
    origin.route('/live/live.m3u8', liveHlsRoute('/live'));
    await origin.start();
  });

  after(async () => {
    await origin.stop();
    await rm(root, { recursive: true, force: true });
  });

  async function aJob(overrides: Partial<DownloadJob> = {}): Promise<DownloadJob> {
    jobCount += 1;
    const outputDir = join(root, 'downloads');
    return {
      id: jobCount,
      type: DownloadType.Youtube,
      url: origin.url('/media/clip.mp4'),
      name: `video ${jobCount}`,
      nameIsDerived: false,
      headers: [],
      isLive: false,
      outputDir,
      workDir: await mkdtemp(join(root, `.work-${jobCount}-`)),
      deleteSegments: true,
      speedLimit: null,
      quality: 'best',
      audioLanguages: [],
      subtitleLanguages: [],
      ...overrides,
    };
  }

  function start(job: DownloadJob, signal: AbortSignal = new AbortController().signal, using: YoutubeDownloader = downloader) {
    const { promise, progress, log } = startRun(using, job, { signal });
    return { promise, reports: progress, logs: log };
  }

  async function download(job: DownloadJob): Promise<Run> {
    const { promise, reports, logs } = start(job);
    return { output: await promise, reports, logs };
  }

  function assertPlayable(output: DownloadOutput, job: DownloadJob): void {
    assert.ok(output.path.startsWith(`${job.workDir}/`), `${output.path} is inside the working directory`);
    assert.equal(output.extension, 'mp4');
    const probed = probe(tools.ffprobe!, output.path);
    assert.deepEqual(streamTypes(probed), ['audio', 'video']);
    assert.ok(Math.abs(probed.duration - CLIP_SECONDS) < 0.5, `duration ${probed.duration}`);
  }

  it('downloads a plain mp4 URL', async () => {
    const job = await aJob();
    const { output, reports, logs } = await download(job);
    assertPlayable(output, job);
    assert.equal(output.title, undefined, 'a given name is kept');
    assert.deepEqual(reports.at(-1), { downloadedBytes: statSync(media.clip).size, totalBytes: statSync(media.clip).size, percent: 100 });
    assert.ok(logs[0].startsWith('yt-dlp --ignore-config'), 'the command line is logged');
    assert.ok(logs.some((line) => line.includes('[generic]')), "yt-dlp's output is in the log");
  });

  it('finds the video a web page embeds and reports the page title when the name was derived', async () => {
    const job = await aJob({ url: origin.url('/watch.html'), name: 'watch', nameIsDerived: true });
    const { output } = await download(job);
    assertPlayable(output, job);
    assert.match(output.title ?? '', /^My Test Clip/);
  });

  it('takes the first of several videos a page embeds, as one task is one file', async () => {
    const job = await aJob({ url: origin.url('/two.html') });
    const { output } = await download(job);
    assertPlayable(output, job);
    assert.deepEqual(readdirSync(job.workDir).filter((name) => name.endsWith('.mp4')), [output.path.split('/').pop()]);
  });

  it('downloads an HLS stream into an mp4, reporting progress by fragments', async () => {
    const job = await aJob({ url: origin.url('/hls/index.m3u8') });
    const { output, reports, logs } = await download(job);
    assertPlayable(output, job);
    assert.ok(reports.some((report) => report.percent !== null && report.percent !== undefined && report.percent > 0 && report.percent < 100), 'intermediate progress');
    assert.ok(logs.some((line) => line.startsWith('[FixupM3u8]') || line.startsWith('[hlsnative]')), logs.join('\n'));
  });

  it('merges separate video and audio renditions into one mp4', async () => {
    const job = await aJob({ url: origin.url('/split/master.m3u8') });
    const { output, logs } = await download(job);
    assertPlayable(output, job);
    assert.ok(logs.some((line) => line.startsWith('[Merger]')), 'yt-dlp merged the streams');
    assert.deepEqual(
      readdirSync(job.workDir).filter((name) => /\.f[^.]+\.mp4$/.test(name)),
      [],
      'the separate streams are removed after the merge',
    );
  });

  it('passes the height and subtitle languages to yt-dlp: the 120-line variant, and the English subtitles as a file of their own', async () => {
    const job = await aJob({ url: origin.url('/choice/master.m3u8'), quality: 200, subtitleLanguages: ['en', 'de'] });
    const { output, logs } = await download(job);
    const media = probe(tools.ffprobe!, output.path);
    assert.equal(media.streams.find((stream) => stream.codec_type === 'video')?.height, 120);
    assert.deepEqual(output.subtitles?.map((subtitle) => subtitle.language), ['en']);
    assert.match(readFileSync(output.subtitles![0].path, 'utf8'), /Hello/);
    assert.ok(logs.includes('quality/language: no subtitles in de (saved: en)'), logs.join('\n'));

    const taller = await download(await aJob({ url: origin.url('/choice/master.m3u8'), quality: 100 }));
    assert.equal(probe(tools.ffprobe!, taller.output.path).streams.find((stream) => stream.codec_type === 'video')?.height, 120);
    assert.ok(taller.logs.includes('quality/language: no format of at most 100 lines is offered; yt-dlp took the nearest, 120p'), taller.logs.join('\n'));
  });

  it('without ffmpeg takes a single file, and says why separate streams cannot be merged', async () => {
    const noFfmpeg = loadConfig({ FFMPEG_PATH: join(root, 'no-such-dir', 'ffmpeg'), ALLOW_PRIVATE_ADDRESSES: 'true' }, root);
    const withoutFfmpeg = new YoutubeDownloader(new ToolsService(noFfmpeg), noFfmpeg);
    const context = { signal: new AbortController().signal, progress: () => undefined, log: () => undefined };
    const plain = await aJob();
    assertPlayable(await withoutFfmpeg.run(plain, context), plain);
    await assert.rejects(withoutFfmpeg.run(await aJob({ url: origin.url('/split/master.m3u8') }), context), (error: Error) => {
      assert.equal(error.name, 'PermanentError');
      assert.match(error.message, /^ERROR: .*Requested format is not available.*install ffmpeg/);
      return true;
    });
  });

  it("sends the task's headers with every request", async () => {
    const job = await aJob({ url: origin.url('/media/protected.mp4'), headers: [['X-Token', 'letmein'], ['Referer', 'https://player.example/']] });
    const { output } = await download(job);
    assertPlayable(output, job);
    const seen = origin.requests.filter((request) => request.path === '/media/protected.mp4');
    assert.ok(seen.length > 0);
    for (const request of seen) {
      assert.equal(request.headers['x-token'], 'letmein');
      assert.equal(request.headers.referer, 'https://player.example/');
    }
  });

  it('reports growing progress while a throttled download runs', async () => {
    const job = await aJob({ url: origin.url('/media/slow.mp4') });
    const { output, reports } = await download(job);
    assertPlayable(output, job);
    const size = statSync(media.clip).size;
    const during = reports.filter((report) => report.downloadedBytes > 0 && report.downloadedBytes < size);
    assert.ok(during.length >= 3, `${during.length} progress reports before the end`);
    for (let index = 1; index < during.length; index++) {
      assert.ok(during[index].downloadedBytes >= during[index - 1].downloadedBytes, 'downloadedBytes never goes back');
    }
    assert.ok(during.every((report) => report.totalBytes === size), 'the total is known from the start');
  });

  it("fails a 404 with yt-dlp's own error line", async () => {
    const job = await aJob({ url: origin.url('/media/missing.mp4') });
    const { promise, logs } = start(job);
    await assert.rejects(promise, (error: Error) => {
      assert.equal(error.name, 'PermanentError');
      assert.match(error.message, /^ERROR: .*HTTP Error 404/);
      assert.doesNotMatch(error.message, /please report this issue|exit code/);
      return true;
    });
    assert.ok(logs.some((line) => line.startsWith('ERROR:')), 'the error is in the log too');
  });

  it('fails a page without media as an unsupported URL', async () => {
    const job = await aJob({ url: origin.url('/about.html') });
    await assert.rejects(start(job).promise, (error: Error) => {
      assert.equal(error.name, 'PermanentError');
      assert.match(error.message, /^ERROR: Unsupported URL: http:\/\/127\.0\.0\.1:\d+\/about\.html/);
      return true;
    });
  });

  it('stops mid-download without leaving a process behind, and the next run resumes, even after a rename', async () => {
    const url = origin.url('/media/resume.mp4');
    const job = await aJob({ url });
    const size = statSync(media.clip).size;
    const controller = new AbortController();
    const first = start(job, controller.signal);
    const settled = first.promise.then(
      () => 'resolved',
      (error: Error) => error,
    );
    await waitFor('a third of the file', 60_000, () => first.reports.some((report) => report.downloadedBytes > size / 3));
    assert.ok(processesOf(job.workDir, url).length > 0, 'yt-dlp is running in the working directory');
    controller.abort();
    const outcome = await within(settled, 15_000);
    assert.ok(outcome instanceof Error && outcome.name === 'AbortError', `the run rejected with an AbortError, got ${String(outcome)}`);
    assert.deepEqual(processesOf(job.workDir, url), [], 'no yt-dlp or ffmpeg is left');
    const part = readdirSync(job.workDir).find((name) => name.endsWith('.part'));
    assert.ok(part, `a .part file stays for the resume: ${readdirSync(job.workDir).join(', ')}`);
    const kept = statSync(join(job.workDir, part)).size;
    assert.ok(kept > 0 && kept < size);

    const requestsBefore = origin.requests.length;
    // a stopped task may be renamed before it is started again
    const { output } = await download({ ...job, name: 'renamed while stopped' });
    assertPlayable(output, job);
    const ranges = origin.requests
      .slice(requestsBefore)
      .filter((request) => request.path === '/media/resume.mp4' && request.headers.range)
      .map((request) => Number(/^bytes=(\d+)-/.exec(String(request.headers.range))?.[1] ?? 0));
    assert.ok(ranges.some((from) => from > 0), `the second run asked for the rest only (ranges: ${ranges.join(', ')})`);
    assert.deepEqual(processesOf(job.workDir, url), []);
  });

  it('finds a complete result from an earlier run without downloading it again', async () => {
    const job = await aJob();
    await download(job);
    const hitsBefore = origin.hits('/media/clip.mp4');
    const { output, logs } = await download(job);
    assertPlayable(output, job);
    assert.ok(logs.some((line) => line.includes('has already been downloaded')), logs.join('\n'));
    // the generic extractor looks at the URL once; the media itself is not fetched again
    assert.ok(origin.hits('/media/clip.mp4') - hitsBefore <= 1);
  });

  /** Records the live stream for a few seconds, stops, and checks the recording is kept and nothing is left running. */
  async function recordsLive(using: YoutubeDownloader): Promise<void> {
    const url = origin.url('/live/live.m3u8');
    const job = await aJob({ url, isLive: true, name: 'live show' });
    const controller = new AbortController();
    const run = start(job, controller.signal, using);
    const settled = run.promise.then(
      (output) => output,
      (error: Error) => error,
    );
    // about three seconds of the 160x120 stream
    await waitFor('a few seconds of recording', 60_000, () => run.reports.some((report) => report.downloadedBytes > 60_000));
    controller.abort();
    const outcome = await within(settled, 60_000);
    assert.ok(outcome && typeof outcome === 'object' && 'path' in outcome, `the run resolved with the recording, got ${String(outcome)}`);
    const output = outcome as DownloadOutput;
    assert.ok(output.path.startsWith(`${job.workDir}/`));
    assert.ok(existsSync(output.path));
    const probed = probe(tools.ffprobe!, output.path);
    assert.deepEqual(streamTypes(probed), ['audio', 'video']);
    assert.ok(probed.duration >= 1, `recorded ${probed.duration} s`);
    assert.equal(output.extension, probed.format.includes('mp4') ? 'mp4' : 'ts');
    assert.deepEqual(processesOf(job.workDir, url), [], 'no yt-dlp or ffmpeg is left');
  }

  it('records a live stream until stopped and keeps the recording', () => recordsLive(downloader));

  it('rejects at once when stopped before it starts', async () => {
    const job = await aJob();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(start(job, controller.signal).promise, { name: 'AbortError' });
    assert.deepEqual(processesOf(job.workDir, job.url), []);
  });

  it('says how to install yt-dlp when it is missing', async () => {
    const missing = loadConfig({ YTDLP_PATH: join(root, 'no-such-dir', 'yt-dlp') }, root);
    const withoutYtdlp = new YoutubeDownloader(new ToolsService(missing), missing);
    const job = await aJob();
    await assert.rejects(
      withoutYtdlp.run(job, { signal: new AbortController().signal, progress: () => undefined, log: () => undefined }),
      (error: Error) => {
        assert.equal(error.name, 'DependencyMissingError');
        assert.equal((error as Error & { dependency?: string }).dependency, 'yt-dlp');
        assert.match(error.message, /apt-get install yt-dlp/);
        assert.match(error.message, /pip install yt-dlp/);
        assert.match(error.message, /YTDLP_PATH/);
        return true;
      },
    );
  });

  describe('with private addresses refused (ALLOW_PRIVATE_ADDRESSES=false): every connection yt-dlp makes goes through the guard', () => {
    let guarded: YoutubeDownloader;
    let elsewhere: Server;
    let elsewhereHits = 0;

    before(async () => {
      const guardedConfig = loadConfig({ DATA_DIR: join(root, 'data'), DOWNLOAD_DIR: join(root, 'downloads'), RETRY_ATTEMPTS: '1', STALL_TIMEOUT_MS: '20000' }, root);
      assert.equal(guardedConfig.allowPrivateAddresses, false);
      guarded = new YoutubeDownloader(tools, guardedConfig);
      // the origin (127.0.0.1) stands for a public host; 127.0.0.2 for one the guard refuses
      guarded.addressGuard = new AddressGuard((address) => (address === '127.0.0.2' ? 'a private address' : null));
      elsewhere = createServer((_request, response) => {
        elsewhereHits += 1;
        response.writeHead(200, { 'content-type': 'video/mp4' }).end(readFileSync(media.clip));
      }).listen(0, '127.0.0.2');
      await once(elsewhere, 'listening');
      const away = `http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}/media/clip.mp4`;
      origin.route('/media/moved.mp4', { handler: (_request, response) => void response.writeHead(302, { location: away }).end() });
      origin.route('/leads-away.html', {
        body: `<!doctype html><html><head><title>Elsewhere</title></head><body><video src="${away}"></video></body></html>`,
        contentType: 'text/html; charset=utf-8',
      });
    });

    after(() => {
      elsewhere.close();
    });

    it('downloads through the guard as it does without it', async () => {
      const job = await aJob();
      const { promise, logs } = start(job, undefined, guarded);
      assertPlayable(await promise, job);
      assert.match(logs[0], /--proxy 'http:\/\/\*\*\*@127\.0\.0\.1:\d+'/, 'yt-dlp is pointed at the guard, its password masked');
    });

    it('fetches the fragments of an HLS stream through the guard, many at a time', async () => {
      const job = await aJob({ url: origin.url('/hls/index.m3u8') });
      assertPlayable(await start(job, undefined, guarded).promise, job);
    });

    it('records a live stream through the guard: the ffmpeg yt-dlp starts is pointed at it too', () => recordsLive(guarded));

    it('refuses a redirect to a refused address, naming it, and never reaches it', async () => {
      const job = await aJob({ url: origin.url('/media/moved.mp4') });
      await assert.rejects(start(job, undefined, guarded).promise, (error: Error) => {
        assert.equal(error.name, 'AddressNotAllowedError');
        assert.match(error.message, /the address 127\.0\.0\.2 is a private address, which tasks may not reach/);
        return true;
      });
      assert.equal(elsewhereHits, 0);
    });

    it('refuses media a page places on a refused address', async () => {
      const job = await aJob({ url: origin.url('/leads-away.html') });
      await assert.rejects(start(job, undefined, guarded).promise, (error: Error) => {
        assert.equal(error.name, 'AddressNotAllowedError');
        assert.match(error.message, /127\.0\.0\.2/);
        return true;
      });
      assert.equal(elsewhereHits, 0);
    });
  });
});
