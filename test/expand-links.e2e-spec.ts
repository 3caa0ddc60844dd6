import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../src/config/app-config.js';
import { av2bv } from '../src/downloaders/bilibili/bilibili-url.js';
import { ToolsService } from '../src/engine/tools.service.js';
import { BilibiliFakeApi, FAKE_MEDIA_SECONDS, FAKE_SEASON, MULTI_PART_VIDEO, SINGLE_VIDEO, manyPartVideo } from './fixtures/bilibili-fake-api.js';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitForStatus } from './helpers/app-harness.js';
import { SseRecorder } from './helpers/sse-client.js';

const LONG_SERIES = manyPartVideo(av2bv(424242), 424242, 1005, 9_100_000);

/** A page embedding `count` videos, each a distinct URL of the same clip: yt-dlp's generic extractor lists them as a playlist. */
function playlistPage(title: string, count: number): string {
  const videos = Array.from({ length: count }, (_, index) => `<video controls src="/media/clip.mp4?n=${index + 1}"></video>`).join('\n');
  return `<!doctype html><html><head><title>${title}</title></head><body>\n${videos}\n</body></html>`;
}

/** Processes whose command line names the text (zombies aside): what a killed listing must not leave behind. */
function processesNaming(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && args.includes(text)) found.push(`${pid} ${args}`);
    } catch {
      // ended while we looked
    }
  }
  return found;
}

describe('one link, many videos: resolve and expand through the HTTP API', () => {
  const tools = new ToolsService(loadConfig({}));
  const origin = new OriginServer();
  let root: string;
  let fake: BilibiliFakeApi;
  let test: TestApp;
  let events: SseRecorder;
  /** Every endless-page response still streaming, ended at teardown. */
  const endless = new Set<ServerResponse>();

  before(async () => {
    assert.ok(tools.ffmpeg && tools.ytdlp, 'ffmpeg and yt-dlp are needed for these tests');
    root = await mkdtemp(join(tmpdir(), 'expand-e2e-'));
    await mkdir(join(root, 'media'));
    fake = new BilibiliFakeApi(tools.ffmpeg, join(root, 'media'));
    fake.addVideo(LONG_SERIES);
    await fake.start();

    const clip = join(root, 'media', 'clip.mp4');
    const made = spawnSync(tools.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-movflags', '+faststart', clip], { timeout: 60_000 });
    assert.equal(made.status, 0, String(made.stderr));
    origin.route('/media/clip.mp4', { file: clip, contentType: 'video/mp4' });
    origin.route('/three.html', { body: playlistPage('Three Clips', 3), contentType: 'text/html; charset=utf-8' });
    origin.route('/five-hundred.html', { body: playlistPage('Five Hundred', 500), contentType: 'text/html; charset=utf-8' });
    origin.route('/twelve-hundred.html', { body: playlistPage('Twelve Hundred', 1200), contentType: 'text/html; charset=utf-8' });
    origin.route('/one.html', { body: playlistPage('Just One', 1), contentType: 'text/html; charset=utf-8' });
    origin.route('/about.html', { body: '<!doctype html><html><head><title>About</title></head><body><p>No media here.</p></body></html>', contentType: 'text/html; charset=utf-8' });
    // a hostile page that never ends: a new <video> every 20 ms, for as long as someone reads
    origin.route('/endless.html', {
      handler: (_req, res) => {
        endless.add(res);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.write('<!doctype html><html><head><title>Endless</title></head><body>\n');
        let count = 0;
        const timer = setInterval(() => res.write(`<video src="/media/clip.mp4?n=${++count}"></video>\n`), 20);
        res.on('close', () => {
          clearInterval(timer);
          endless.delete(res);
        });
      },
    });
    await origin.start();

    // a generous budget: yt-dlp lists 1200 entries in a few seconds, longer on a busy machine
    test = await startTestApp({ BILIBILI_API_BASE: fake.baseUrl, RESOLVE_TIMEOUT_MS: '120000', RETRY_ATTEMPTS: '2' });
    events = new SseRecorder();
    await events.open(`${test.baseUrl}/api/events`);
  });

  after(async () => {
    events?.close();
    await test?.close();
    for (const res of endless) res.destroy();
    await origin.stop();
    await fake?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake.server.requests.length = 0;
    events.events.length = 0;
  });

  /** The download-create event announcing these ids (events of earlier tests may still be arriving), and that no other carried any of them. */
  async function createEventOf(ids: number[]) {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const matching = events.of('download-create').filter((event) => event.data.ids.some((id: number) => ids.includes(id)));
      if (matching.length > 0) {
        assert.equal(matching.length, 1, 'one download-create carries them all');
        return matching[0];
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no download-create for ${ids.slice(0, 5).join(', ')}…`);
  }

  const resolve = (body: unknown) => test.api('POST', '/api/downloads/resolve', body);
  const create = (tasks: unknown[], startDownload = false) => test.api('POST', '/api/downloads', { tasks, startDownload });

  it('lists the parts of a multi-part Bilibili video given without ?p=, and one part when ?p= is given', async () => {
    const { status, body } = await resolve({ type: 'bilibili', url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}/` });
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.data, {
      type: 'bilibili',
      url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}/`,
      kind: 'parts',
      title: MULTI_PART_VIDEO.title,
      entries: MULTI_PART_VIDEO.pages.map((page, index) => ({
        number: index + 1,
        title: page.part,
        url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=${index + 1}`,
        duration: FAKE_MEDIA_SECONDS,
      })),
      total: 2,
      limit: 1000,
      truncated: false,
    });
    assert.equal(fake.seen('/cdn/').length, 0, 'no media was fetched');
    assert.equal(fake.seen('/x/player/wbi/playurl').length, 0, 'no stream was asked for');

    const part = await resolve({ type: 'bilibili', url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=2` });
    assert.equal(part.body.data.kind, 'single');
    assert.deepEqual(part.body.data.entries, [{ number: 1, title: `${MULTI_PART_VIDEO.title} - Deep dive`, url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=2`, duration: FAKE_MEDIA_SECONDS }]);

    const single = await resolve({ type: 'bilibili', url: SINGLE_VIDEO.bvid });
    assert.deepEqual(single.body.data.entries, [{ number: 1, title: SINGLE_VIDEO.title, url: SINGLE_VIDEO.bvid, duration: FAKE_MEDIA_SECONDS }]);
  });

  it('lists the episodes of a bangumi season (ss… and md…), without its extras; an episode is one entry', async () => {
    const expected = FAKE_SEASON.episodes.map((episode, index) => ({
      number: index + 1,
      title: episode.showTitle ?? `EP${episode.title} ${episode.longTitle}`,
      url: `https://www.bilibili.com/bangumi/play/ep${episode.epId}`,
      duration: FAKE_MEDIA_SECONDS,
    }));
    for (const url of [`https://www.bilibili.com/bangumi/play/ss${FAKE_SEASON.seasonId}`, `https://www.bilibili.com/bangumi/media/md${FAKE_SEASON.mediaId}/`]) {
      const { status, body } = await resolve({ type: 'bilibili', url });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.data.kind, 'season', url);
      assert.equal(body.data.title, FAKE_SEASON.title);
      assert.deepEqual(body.data.entries, expected, url);
      assert.equal(body.data.total, 3);
    }
    assert.equal(fake.seen('/pgc/review/user').length, 1, 'the md… page was looked up once');
    const episode = await resolve({ type: 'bilibili', url: `https://www.bilibili.com/bangumi/play/ep${FAKE_SEASON.episodes[1].epId}` });
    assert.equal(episode.body.data.kind, 'single');
    assert.equal(episode.body.data.entries[0].title, `${FAKE_SEASON.title} - EP2 The Return`);
  });

  it('creates one task per part with expand, in order between the other items, announced by one download-create; a created part downloads', async () => {
    const { status, body } = await create([
      { type: 'direct', url: origin.url('/media/clip.mp4') },
      { type: 'bilibili', url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}`, folder: 'lectures', headers: 'Cookie: SESSDATA=abc', expand: true },
      { type: 'bilibili', url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}` },
    ]);
    assert.equal(status, 200, JSON.stringify(body));
    const tasks = body.data as any[];
    assert.deepEqual(
      tasks.map((task) => [task.type, task.url, task.name]),
      [
        ['direct', origin.url('/media/clip.mp4'), 'clip'],
        ['bilibili', `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=1`, 'Two Part Lecture - 01 Introduction'],
        ['bilibili', `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=2`, 'Two Part Lecture - 02 Deep dive'],
        // without expand: one task for the link as given, as before
        ['bilibili', `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}`, MULTI_PART_VIDEO.bvid],
      ],
    );
    assert.ok(tasks.slice(1, 3).every((task) => task.folder === 'lectures' && task.headers === 'Cookie: SESSDATA=abc' && task.status === 'waiting'));
    assert.ok(tasks[1].id < tasks[2].id && tasks[2].id < tasks[3].id, 'ids follow the order');
    const created = await createEventOf(tasks.map((task) => task.id));
    assert.deepEqual(created.data, { ids: tasks.map((task) => task.id), count: 4 });
    // the resolve carried the task's cookie to the API
    assert.equal(fake.seen('/x/web-interface/view')[0].headers.cookie, 'SESSDATA=abc');

    const second = tasks[2];
    await test.api('POST', `/api/downloads/${second.id}/start`);
    const done = await waitForStatus(test, second.id, ['success', 'failed'], 120_000);
    assert.equal(done.status, 'success', done.error);
    assert.match(done.file, /lectures\/Two Part Lecture - 02 Deep dive\.mp4$/);
    assert.ok(existsSync(done.file));
    const played = fake.seen('/x/player/wbi/playurl').map((request) => new URLSearchParams(request.path.split('?')[1]).get('cid'));
    assert.deepEqual([...new Set(played)], [String(MULTI_PART_VIDEO.pages[1].cid)], 'the task of part 2 played part 2');
  });

  it('creates one task per episode of a season page with expand, named after the given name', async () => {
    const { status, body } = await create([{ type: 'bilibili', url: `https://www.bilibili.com/bangumi/media/md${FAKE_SEASON.mediaId}`, name: 'My Show', expand: true }]);
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(
      body.data.map((task: any) => [task.name, task.url]),
      [
        ['My Show - 01 第1话 Beginning', `https://www.bilibili.com/bangumi/play/ep${FAKE_SEASON.episodes[0].epId}`],
        ['My Show - 02 EP2 The Return', `https://www.bilibili.com/bangumi/play/ep${FAKE_SEASON.episodes[1].epId}`],
        ['My Show - 03 第3话 Finale', `https://www.bilibili.com/bangumi/play/ep${FAKE_SEASON.episodes[2].epId}`],
      ],
    );
  });

  it('expands an existing task on edit (idle) and on start (queued): it becomes the first entry, new tasks follow', async () => {
    const [task] = (await create([{ type: 'bilibili', url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}`, folder: 'later' }])).body.data;
    const edited = await test.api('PUT', `/api/downloads/${task.id}`, { expand: true });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.deepEqual([edited.body.data.url, edited.body.data.name], [`https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=1`, 'Two Part Lecture - 01 Introduction']);
    const [second] = (await test.api('GET', '/api/downloads?pageSize=1')).body.data.list;
    assert.ok(second.id > task.id);
    assert.deepEqual((await createEventOf([second.id])).data, { ids: [second.id], count: 1 });
    assert.deepEqual([second.url, second.name, second.folder, second.queuedAt], [`https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=2`, 'Two Part Lecture - 02 Deep dive', 'later', null]);
    // once it is one part, expanding it again changes nothing
    const again = await test.api('PUT', `/api/downloads/${task.id}`, { expand: true });
    assert.equal(again.body.data.url, edited.body.data.url);

    const [season] = (await create([{ type: 'bilibili', url: `https://www.bilibili.com/bangumi/play/ss${FAKE_SEASON.seasonId}` }])).body.data;
    const started = await test.api('POST', `/api/downloads/${season.id}/start`, { expand: true });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal(started.body.data.url, `https://www.bilibili.com/bangumi/play/ep${FAKE_SEASON.episodes[0].epId}`);
    const later = (await test.api('GET', '/api/downloads?pageSize=2')).body.data.list as any[];
    assert.deepEqual(later.map((other) => other.url).reverse(), FAKE_SEASON.episodes.slice(1).map((episode) => `https://www.bilibili.com/bangumi/play/ep${episode.epId}`));
    assert.ok(later.every((other) => other.queuedAt !== null || other.status !== 'waiting'), 'the new tasks were queued with it');
    for (const id of [season.id, ...later.map((other) => other.id)]) await waitForStatus(test, id, ['success', 'failed'], 120_000);
  });

  it('cuts a listing at 1000 entries and says so; expand then creates those 1000', async () => {
    const { status, body } = await resolve({ type: 'bilibili', url: LONG_SERIES.bvid });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.data.entries.length, 1000);
    assert.equal(body.data.total, 1005);
    assert.equal(body.data.truncated, true);
    assert.equal(body.data.limit, 1000);
    assert.equal(body.data.entries.at(-1).title, 'Part 1000');

    const created = await create([{ type: 'bilibili', url: LONG_SERIES.bvid, expand: true }]);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.data.length, 1000);
    assert.equal(created.body.data[0].name, 'Series of 1005 - 0001 Part 1');
    assert.equal(created.body.data[999].name, 'Series of 1005 - 1000 Part 1000');
    const event = await createEventOf(created.body.data.map((task: any) => task.id));
    assert.equal(event.data.count, 1000);
    assert.deepEqual(event.data.ids, created.body.data.map((task: any) => task.id));
  });

  it('lists the videos of a page through yt-dlp, and expands them into youtube tasks that download', async () => {
    const url = origin.url('/three.html');
    const { status, body } = await resolve({ type: 'youtube', url });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.data.kind, 'playlist');
    assert.equal(body.data.title, 'Three Clips');
    assert.deepEqual(body.data.entries.map((entry: any) => [entry.number, entry.url]), [1, 2, 3].map((n) => [n, origin.url(`/media/clip.mp4?n=${n}`)]));
    assert.equal(body.data.truncated, false);

    const created = await create([{ type: 'youtube', url, expand: true }]);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const tasks = created.body.data as any[];
    assert.deepEqual(tasks.map((task) => task.url), [1, 2, 3].map((n) => origin.url(`/media/clip.mp4?n=${n}`)));
    assert.equal(tasks[1].name.startsWith('Three Clips - 02'), true, tasks[1].name);
    await test.api('POST', `/api/downloads/${tasks[1].id}/start`);
    const done = await waitForStatus(test, tasks[1].id, ['success', 'failed'], 120_000);
    assert.equal(done.status, 'success', done.error);
    assert.ok(existsSync(done.file));

    // a page with one video is one entry: the page itself
    const one = await resolve({ type: 'youtube', url: origin.url('/one.html') });
    assert.equal(one.body.data.kind, 'single');
    assert.equal(one.body.data.entries.length, 1);
  });

  it('expands a 500-entry playlist into 500 tasks in one answer and one download-create', async () => {
    const created = await create([{ type: 'youtube', url: origin.url('/five-hundred.html'), expand: true }]);
    assert.equal(created.status, 200, JSON.stringify(created.body).slice(0, 500));
    const tasks = created.body.data as any[];
    assert.equal(tasks.length, 500);
    assert.deepEqual(tasks.map((task) => task.url), Array.from({ length: 500 }, (_, index) => origin.url(`/media/clip.mp4?n=${index + 1}`)));
    assert.ok(tasks[0].name.startsWith('Five Hundred - 001') && tasks[499].name.startsWith('Five Hundred - 500'), `${tasks[0].name} … ${tasks[499].name}`);
    const event = await createEventOf(tasks.map((task) => task.id));
    assert.deepEqual(event.data, { ids: tasks.map((task) => task.id), count: 500 });
  });

  it('cuts a yt-dlp listing of 1200 entries at 1000, with the total and the flag', async () => {
    const { status, body } = await resolve({ type: 'youtube', url: origin.url('/twelve-hundred.html') });
    assert.equal(status, 200, JSON.stringify(body).slice(0, 500));
    assert.equal(body.data.entries.length, 1000);
    assert.equal(body.data.total, 1200);
    assert.equal(body.data.truncated, true);
    assert.equal(body.data.entries[999].url, origin.url('/media/clip.mp4?n=1000'));
  });

  it('answers one entry for m3u8, direct and a probed mediago link, without downloading the media', async () => {
    for (const type of ['m3u8', 'direct']) {
      const { status, body } = await resolve({ type, url: 'https://example.com/shows/episode-7.m3u8?token=1' });
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body.data.entries, [{ number: 1, title: 'episode-7', url: 'https://example.com/shows/episode-7.m3u8?token=1', duration: null }]);
    }
    const before = origin.sentBytes('/media/clip.mp4');
    const { status, body } = await resolve({ type: 'mediago', url: origin.url('/media/clip.mp4') });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.data.kind, 'single');
    assert.equal(body.data.entries[0].title, 'clip');
    assert.ok(origin.sentBytes('/media/clip.mp4') - before <= 64 * 1024, 'only the first bytes were read');
  });

  it('answers 400 with a sentence for links that cannot be read, and creates nothing then', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ type: 'mediago', url: origin.url('/about.html') }, 'resolve_failed', /is a web page/],
      [{ type: 'youtube', url: origin.url('/about.html') }, 'resolve_failed', /Unsupported URL/],
      [{ type: 'youtube', url: origin.url('/missing.html') }, 'resolve_failed', /404/],
      [{ type: 'mediago', url: origin.url('/missing.mp4') }, 'resolve_failed', /answered HTTP 404/],
      [{ type: 'bilibili', url: 'https://www.bilibili.com/video/BV1xx411c7mD' }, 'resolve_failed', /answered code -404/],
      [{ type: 'bilibili', url: `https://www.bilibili.com/video/${MULTI_PART_VIDEO.bvid}?p=3` }, 'resolve_failed', /has 2 parts; there is no part p=3/],
      [{ type: 'bilibili', url: 'https://space.bilibili.com/42' }, 'resolve_failed', /is not a Bilibili video or episode page/],
    ];
    for (const [request, errorCode, message] of cases) {
      const { status, body } = await resolve(request);
      assert.equal(status, 400, `${JSON.stringify(request)}: ${JSON.stringify(body)}`);
      assert.equal(body.errorCode, errorCode);
      assert.match(body.message, message);
      assert.doesNotMatch(body.message, /\/work\/|\bat \w+ \(|node_modules/, 'no stack or server path');
    }
    const { total: before } = (await test.api('GET', '/api/downloads?pageSize=1')).body.data;
    const refused = await create([{ type: 'direct', url: origin.url('/media/clip.mp4') }, { type: 'mediago', url: origin.url('/about.html'), expand: true }]);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errorCode, 'resolve_failed');
    assert.match(refused.body.message, /^tasks\[1\]: /);
    assert.equal((await test.api('GET', '/api/downloads?pageSize=1')).body.data.total, before, 'nothing was created');

    const invalid = await resolve({ type: 'torrent', url: 'ftp://example.com/x' });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.errorCode, 'validation_failed');
    assert.deepEqual(invalid.body.fields?.map((field) => field.path).sort(), ['type', 'url']);
    const badExpand = await create([{ type: 'youtube', url: origin.url('/three.html'), expand: 'yes' }]);
    assert.equal(badExpand.status, 400);
    assert.equal(badExpand.body.fields?.[0].path, 'tasks[0].expand');
  });
});

describe('resolve under a short budget and the address guard', () => {
  const tools = new ToolsService(loadConfig({}));
  const origin = new OriginServer();
  let test: TestApp;
  let guarded: TestApp;
  const open = new Set<ServerResponse>();

  before(async () => {
    origin.route('/endless.html', {
      handler: (_req, res) => {
        open.add(res);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.write('<!doctype html><html><head><title>Endless</title></head><body>\n');
        let count = 0;
        const timer = setInterval(() => res.write(`<video src="/clip.mp4?n=${++count}"></video>\n`), 20);
        res.on('close', () => {
          clearInterval(timer);
          open.delete(res);
        });
      },
    });
    origin.route('/page.html', { body: '<html><head><title>x</title></head><body><video src="/clip.mp4"></video></body></html>', contentType: 'text/html' });
    await origin.start();
    test = await startTestApp({ RESOLVE_TIMEOUT_MS: '3000' });
    guarded = await startTestApp({ ALLOW_PRIVATE_ADDRESSES: 'false', BILIBILI_API_BASE: origin.baseUrl });
  });

  after(async () => {
    await test?.close();
    await guarded?.close();
    for (const res of open) res.destroy();
    await origin.stop();
  });

  it('stops yt-dlp on a page that never ends, answers 400 naming the budget, and leaves no process behind', async () => {
    assert.ok(tools.ytdlp, 'yt-dlp is installed');
    const url = origin.url('/endless.html');
    const { status, body } = await test.api('POST', '/api/downloads/resolve', { type: 'youtube', url });
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.errorCode, 'resolve_failed');
    assert.match(body.message, /could not be resolved within 3 s \(RESOLVE_TIMEOUT_MS\)/);
    assert.deepEqual(processesNaming(url), [], 'yt-dlp and its children are gone');

    const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'youtube', url, expand: true }] });
    assert.equal(created.status, 400);
    assert.match(created.body.message, /^tasks\[0\]: .*within 3 s/);
    assert.deepEqual(processesNaming(url), []);
  });

  it('refuses loopback links for every type that reads the link, with address_not_allowed', async () => {
    for (const [type, url] of [
      ['youtube', origin.url('/page.html')],
      ['mediago', origin.url('/page.html')],
      ['bilibili', origin.url('/b23/short')],
      // the API base is on loopback too: resolving a video asks it
      ['bilibili', 'BV17x411w7KC'],
    ]) {
      const { status, body } = await guarded.api('POST', '/api/downloads/resolve', { type, url });
      assert.equal(status, 400, `${type} ${url}: ${JSON.stringify(body)}`);
      assert.equal(body.errorCode, 'address_not_allowed', `${type} ${url}`);
      assert.match(body.message, /127\.0\.0\.1.* is a loopback address/);
    }
    const before = origin.requests.length;
    const created = await guarded.api('POST', '/api/downloads', { tasks: [{ type: 'youtube', url: origin.url('/page.html'), expand: true }] });
    assert.equal(created.status, 400);
    assert.equal(created.body.errorCode, 'address_not_allowed');
    assert.equal(origin.requests.length, before, 'the origin never saw a request');
  });
});
