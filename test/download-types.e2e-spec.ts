import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BilibiliFakeApi, SINGLE_VIDEO } from './fixtures/bilibili-fake-api.js';
import { FIXTURE_SECONDS, buildHlsFixtures, liveHandler, serveFixtureDir } from './fixtures/hls-media.js';
import { OriginServer } from './fixtures/origin-server.js';
import { makeSampleVideo } from './fixtures/sample-media.js';
import { type TestApp, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';
import { probe, streamTypes } from './helpers/media-checks.js';
import { SseRecorder } from './helpers/sse-client.js';

/** Every task type through the REST API and the scheduler, as a client drives them. */
describe('every download type through the API', () => {
  let test: TestApp;
  let origin: OriginServer;
  let bilibili: BilibiliFakeApi;
  let events: SseRecorder;
  let media: string;

  before(async () => {
    media = await mkdtemp(join(tmpdir(), 'mediago-types-'));
    buildHlsFixtures('ffmpeg', join(media, 'hls'));
    await makeSampleVideo(join(media, 'clip.mp4'), 3);
    origin = new OriginServer();
    serveFixtureDir(origin, join(media, 'hls'), 'clear');
    origin.route('/clip.mp4', { file: join(media, 'clip.mp4'), contentType: 'video/mp4' });
    origin.route('/live/index.m3u8', { handler: liveHandler(join(media, 'hls'), { segmentsAt: '/clear', stepMs: 400, window: 3, endless: true }) });
    await origin.start();
    await mkdir(join(media, 'bilibili'), { recursive: true });
    bilibili = new BilibiliFakeApi('ffmpeg', join(media, 'bilibili'));
    await bilibili.start();
    test = await startTestApp({ BILIBILI_API_BASE: bilibili.baseUrl, MAX_CONCURRENT_DOWNLOADS: '4' });
    events = new SseRecorder();
    await events.open(`${test.baseUrl}/api/events`);
  });

  after(async () => {
    events?.close();
    await test?.close();
    await origin?.stop();
    await bilibili?.stop();
    await rm(media, { recursive: true, force: true });
  });

  async function create(task: Record<string, unknown>): Promise<number> {
    const answer = await test.api('POST', '/api/downloads', { tasks: [task], startDownload: true });
    assert.equal(answer.status, 200, answer.text);
    return answer.body.data[0].id;
  }

  it('reports every type and the tools it found on /healthy', async () => {
    const { body } = await test.api('GET', '/healthy');
    assert.deepEqual([...body.data.types].sort(), ['bilibili', 'direct', 'm3u8', 'mediago', 'youtube']);
    assert.equal(body.data.tools.ffmpeg.found, true);
    assert.equal(body.data.tools.ytdlp.found, true);
    assert.match(body.data.tools.ytdlp.version, /^\d{4}\.\d\d\.\d\d/);
    assert.doesNotMatch(JSON.stringify(body.data), /\/usr\//, 'no server path is disclosed');
  });

  it('m3u8: downloads an HLS stream into <name>.mp4 and removes its segments', async () => {
    const id = await create({ type: 'm3u8', url: origin.url('/clear/index.m3u8'), name: 'Show', folder: 'hls' });
    const done = await waitForStatus(test, id, ['success', 'failed'], 90_000);
    assert.equal(done.status, 'success', done.error);
    assert.equal(done.file, join(test.config.downloadDir, 'hls', 'Show.mp4'));
    const probed = probe('ffprobe', done.file);
    assert.ok(Math.abs(probed.duration - FIXTURE_SECONDS) <= 0.5, `duration ${probed.duration}`);
    assert.deepEqual(streamTypes(probed), ['audio', 'video']);
    assert.deepEqual(await readdir(join(test.config.downloadDir, 'hls')), ['Show.mp4']);
    assert.ok(events.of('download-progress', id).some((event) => event.data.percent !== null));
  });

  it('m3u8: records a live stream until a client stops it, keeping what was recorded', async () => {
    const id = await create({ type: 'm3u8', url: origin.url('/live/index.m3u8'), name: 'Live', isLive: true });
    await waitFor(async () => (await test.api('GET', `/api/downloads/${id}`)).body.data.downloadedBytes > 0, 30_000, 'recorded bytes');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await test.api('POST', `/api/downloads/${id}/stop`);
    const stopped = (await test.api('GET', `/api/downloads/${id}`)).body.data;
    assert.equal(stopped.status, 'stopped');
    assert.ok(stopped.file, 'the recording is kept as the task file');
    assert.equal(basename(stopped.file), 'Live.mp4');
    const probed = probe('ffprobe', stopped.file);
    assert.ok(probed.duration > 0.5, `recorded ${probed.duration} s`);
    await events.waitFor('download-stop', id);
  });

  it('m3u8: a shutdown during a live recording saves what was recorded, and the next start records on into a new file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mediago-live-restart-'));
    try {
      const first = await startTestApp({}, root);
      const id = (await first.api('POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: origin.url('/live/index.m3u8'), name: 'Show', isLive: true }], startDownload: true })).body.data[0].id;
      await waitFor(async () => (await first.api('GET', `/api/downloads/${id}`)).body.data.downloadedBytes > 0, 30_000, 'recorded bytes');
      await first.close();
      const firstPart = join(root, 'downloads', 'Show.mp4');
      assert.ok(existsSync(firstPart), 'the part recorded before the shutdown is saved');

      const second = await startTestApp({}, root);
      try {
        await waitForStatus(second, id, ['downloading']);
        await waitFor(async () => (await second.api('GET', `/api/downloads/${id}`)).body.data.downloadedBytes > 0, 30_000, 'recording again');
        await second.api('POST', `/api/downloads/${id}/stop`);
        const stopped = (await second.api('GET', `/api/downloads/${id}`)).body.data;
        assert.equal(stopped.status, 'stopped');
        assert.equal(basename(stopped.file), 'Show (1).mp4');
        assert.ok(existsSync(firstPart), 'the first part was not overwritten');
        const log = (await second.api('GET', `/api/downloads/${id}/logs`)).body.data.log;
        assert.match(log, /shut down during a live recording/);
      } finally {
        await second.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('bilibili: downloads a BV id, names the file from the video title', async () => {
    const id = await create({ type: 'bilibili', url: SINGLE_VIDEO.bvid });
    const done = await waitForStatus(test, id, ['success', 'failed'], 90_000);
    assert.equal(done.status, 'success', done.error);
    assert.equal(done.name, SINGLE_VIDEO.title);
    assert.equal(basename(done.file), `${SINGLE_VIDEO.title}.mp4`);
    const probed = probe('ffprobe', done.file);
    assert.deepEqual(streamTypes(probed), ['audio', 'video']);
  });

  it('mediago: probes an HLS URL and a plain file and downloads each with the right engine', async () => {
    const hls = await create({ type: 'mediago', url: origin.url('/clear/index.m3u8'), name: 'Probed' });
    const plain = await create({ type: 'mediago', url: origin.url('/clip.mp4') });
    const hlsDone = await waitForStatus(test, hls, ['success', 'failed'], 90_000);
    const plainDone = await waitForStatus(test, plain, ['success', 'failed'], 90_000);
    assert.equal(hlsDone.status, 'success', hlsDone.error);
    assert.equal(basename(hlsDone.file), 'Probed.mp4');
    assert.equal(plainDone.status, 'success', plainDone.error);
    assert.equal(basename(plainDone.file), 'clip.mp4');
  });

  it('youtube: downloads through yt-dlp and fails a 404 with its own error line', async () => {
    const id = await create({ type: 'youtube', url: origin.url('/clip.mp4'), name: 'Clip' });
    const done = await waitForStatus(test, id, ['success', 'failed'], 90_000);
    assert.equal(done.status, 'success', done.error);
    assert.equal(basename(done.file), 'Clip.mp4');
    assert.ok(existsSync(done.file));
    const missing = await create({ type: 'youtube', url: origin.url('/nothing.mp4') });
    const failed = await waitForStatus(test, missing, ['success', 'failed'], 90_000);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /ERROR: .*404/);
    const log = (await test.api('GET', `/api/downloads/${missing}/logs`)).body.data.log;
    assert.match(log, /yt-dlp|ERROR/);
  });
});
