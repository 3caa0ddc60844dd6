import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ffmpeg } from './fixtures/hls-media.js';
import { OriginServer } from './fixtures/origin-server.js';
import { launchBrowser } from './helpers/browser.js';
import { type TestApp, startTestApp, waitFor, waitForStatus } from './helpers/app-harness.js';
import { createTestDatabase } from './helpers/postgres-database.js';
import { clusterNode } from './helpers/service-process.js';

const KiB = 1024;
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const API_KEY = 'dashboard-test-key-7731';

/** Checks that run in the page: self-contained, since they are sent as source (and compiled without the DOM's types). */
const inBrowser = {
  barMoving: (selector: string) => {
    const bar = (globalThis as any).document.querySelector(selector);
    return bar !== null && bar.hasAttribute('value') && bar.value > 0 && bar.value < 100;
  },
  barStarted: (selector: string) => ((globalThis as any).document.querySelector(selector)?.value ?? 0) > 0,
  onPage: (page: number) => (globalThis as any).document.querySelector('.page-of')?.textContent?.startsWith(`Page ${page} of`),
  firstRowIsNot: (id: string | null) => (globalThis as any).document.querySelector('li.task')?.getAttribute('data-id') !== id,
  videoPlaying: (selector: string) => {
    const video = (globalThis as any).document.querySelector(selector);
    return video !== null && video.videoWidth > 0 && video.currentTime > 0;
  },
};

/** The dashboard's row for a task, found by its id. */
const row = (page: Page, id: number) => page.locator(`li.task[data-id="${id}"]`);

async function taskIdNamed(test: TestApp, name: string): Promise<number> {
  const { body } = await test.api('GET', '/api/downloads?pageSize=100');
  const task = body.data.list.find((candidate: { name: string }) => candidate.name === name);
  assert.ok(task, `a task named ${name}`);
  return task.id;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('the dashboard in a real browser', () => {
  let origin: OriginServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    origin = new OriginServer()
      .route('/files/first.bin', { body: randomBytes(1536 * KiB), bytesPerSecond: 512 * KiB })
      .route('/files/second.bin', { body: randomBytes(1536 * KiB), bytesPerSecond: 512 * KiB })
      .route('/files/slow.bin', { body: randomBytes(3072 * KiB), bytesPerSecond: 384 * KiB })
      .route('/files/missing.bin', { status: 404 })
      // a page embedding three videos: yt-dlp lists them as a playlist of three entries
      .route('/three.html', {
        body: `<!doctype html><html><head><title>Three Clips</title></head><body>${[1, 2, 3].map((n) => `<video src="/files/first.bin?n=${n}"></video>`).join('')}</body></html>`,
        contentType: 'text/html; charset=utf-8',
      });
    await origin.start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser.close();
    await origin.stop();
  });

  describe('without a key', () => {
    let test: TestApp;
    let page: Page;

    before(async () => {
      test = await startTestApp({ DIRECT_CONNECTIONS: '2', MAX_CONCURRENT_DOWNLOADS: '3' });
      page = await browser.context.newPage();
      await page.goto(test.baseUrl);
      await page.locator('.connection.live').waitFor({ timeout: 10_000 });
    });

    after(async () => {
      await page.close();
      await test.close();
    });

    it('shows the tools found and the live settings', async () => {
      await page.getByText('Settings', { exact: true }).click();
      assert.equal(await page.locator('dd[data-setting="Downloads at once"]').textContent(), '3');
      assert.equal(await page.locator('dd[data-setting="Speed limit"]').textContent(), 'none');
      assert.match((await page.locator('.health').textContent()) ?? '', /ffmpeg/);
      await test.api('PUT', '/api/settings', { maxConcurrentDownloads: 4 });
      // any change event refreshes what is shown: a create is one
      await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/missing.bin'), name: 'settings probe' }] });
      await page.waitForFunction(() => (globalThis as any).document.querySelector('dd[data-setting="Downloads at once"]')?.textContent === '4');
      const probe = await taskIdNamed(test, 'settings probe');
      await test.api('DELETE', `/api/downloads/${probe}`);
      await test.api('PUT', '/api/settings', { maxConcurrentDownloads: null });
    });

    it('adds two pasted links, shows both progress bars moving, then success and the saved paths', async () => {
      await page.getByLabel('Links, one per line').fill(`${origin.url('/files/first.bin')}\n${origin.url('/files/second.bin')}`);
      // the type is detected from each link, and can be changed
      assert.equal(await page.getByLabel(`Type of ${origin.url('/files/first.bin')}`).inputValue(), 'direct');
      await page.getByRole('button', { name: 'Add 2 downloads' }).click();
      await page.locator('li.task').nth(1).waitFor();
      const first = await taskIdNamed(test, 'first');
      const second = await taskIdNamed(test, 'second');
      // both bars move: each shows a value between 0 and 100 at some moment, from the live events
      for (const id of [first, second]) {
        await page.waitForFunction(inBrowser.barMoving, `li.task[data-id="${id}"] progress`, { timeout: 15_000 });
      }
      await screenshot(page, 'dashboard-downloading');
      for (const id of [first, second]) {
        await row(page, id).locator('[data-status="success"]').waitFor({ timeout: 30_000 });
        const path = await row(page, id).locator('code.path').textContent();
        assert.match(path ?? '', id === first ? /first\.bin$/ : /second\.bin$/);
        assert.ok(existsSync(path!), 'the path shown is the file on disk');
      }
      assert.equal(await page.locator('.tabs button', { hasText: 'Done' }).locator('.count').textContent(), '2');
      await screenshot(page, 'dashboard-done');
    });

    it('adds a link with its own quality, audio and subtitle languages, and expands a playlist link through the resolver', async () => {
      await page.getByLabel('Links, one per line').fill(origin.url('/files/missing.bin'));
      await page.getByLabel('Name', { exact: true }).fill('chosen');
      await page.getByText('Quality, languages and playlists').click();
      await page.getByLabel('Quality').selectOption('720');
      await page.getByLabel('Audio language').fill('ja, en');
      await page.getByLabel('Subtitles').fill('zh,en');
      await page.getByLabel('Start now').uncheck();
      await page.getByRole('button', { name: 'Add download' }).click();
      await page.locator('li.task', { hasText: 'chosen' }).waitFor();
      const { body } = await test.api('GET', `/api/downloads/${await taskIdNamed(test, 'chosen')}`);
      assert.deepEqual([body.data.quality, body.data.audioLanguage, body.data.subtitleLanguages], ['720', ['ja', 'en'], ['zh', 'en']]);
      await test.api('DELETE', `/api/downloads/${body.data.id}`);

      // with "one download per entry" the link is resolved first: a link that cannot be read creates nothing and says why
      await page.getByLabel('Links, one per line').fill(origin.url('/files/missing.bin'));
      await page.getByLabel(`Type of ${origin.url('/files/missing.bin')}`).selectOption('mediago');
      await page.getByLabel('Playlist or channel: one download per entry').check();
      await page.getByRole('button', { name: 'Add download' }).click();
      const problem = page.locator('[role="alert"]', { hasText: '404' });
      await problem.waitFor({ timeout: 15_000 });
      const { body: after } = await test.api('GET', '/api/downloads?pageSize=100');
      assert.ok(!after.data.list.some((task: { url: string }) => task.url === origin.url('/files/missing.bin')), 'nothing was created');
      await page.getByLabel('Playlist or channel: one download per entry').uncheck();
      await page.getByLabel('Quality').selectOption('');
      await page.getByLabel('Audio language').fill('');
      await page.getByLabel('Subtitles').fill('');
      await page.getByLabel('Start now').check();
      await page.getByLabel('Links, one per line').fill('');
    });

    it("lists a playlist link's entries and adds the ones ticked, one download each", async () => {
      const link = origin.url('/three.html');
      await page.getByLabel('Links, one per line').fill(link);
      await page.getByLabel(`Type of ${link}`).selectOption('youtube');
      await page.getByRole('button', { name: /List entries/ }).click();
      const entries = page.getByRole('group', { name: 'Entries' });
      await entries.waitFor({ timeout: 30_000 });
      assert.match((await entries.locator('legend').textContent()) ?? '', /Three Clips: 3 entries/);
      assert.equal(await entries.locator('li input[type="checkbox"]:checked').count(), 3, 'every entry is ticked at first');
      await entries.locator('li').nth(1).getByRole('checkbox').uncheck();
      await screenshot(page, 'dashboard-entries');
      await page.getByLabel('Start now').uncheck();
      await page.getByRole('button', { name: 'Add 2 downloads' }).click();
      await entries.waitFor({ state: 'detached' });
      const { body } = await test.api('GET', '/api/downloads?pageSize=100');
      const added = body.data.list.filter((task: { url: string }) => task.url.includes('/files/first.bin?n='));
      assert.deepEqual(added.map((task: { url: string; type: string }) => [new URL(task.url).search, task.type]).sort(), [['?n=1', 'youtube'], ['?n=3', 'youtube']]);
      for (const task of added) await test.api('DELETE', `/api/downloads/${task.id}`);
      await page.getByLabel('Start now').check();
    });

    it('stops a running task and starts it again to the end', async () => {
      await page.getByLabel('Links, one per line').fill(origin.url('/files/slow.bin'));
      await page.getByLabel('Name', { exact: true }).fill('slow one');
      await page.getByRole('button', { name: 'Add download' }).click();
      await page.locator('li.task[aria-label="slow one"]').waitFor();
      const id = await taskIdNamed(test, 'slow one');
      await page.waitForFunction(inBrowser.barStarted, `li.task[data-id="${id}"] progress`, { timeout: 15_000 });
      await row(page, id).getByRole('button', { name: 'Stop' }).click();
      await row(page, id).locator('[data-status="stopped"]').waitFor({ timeout: 15_000 });
      await row(page, id).getByRole('button', { name: 'Start' }).click();
      await row(page, id).locator('[data-status="success"]').waitFor({ timeout: 30_000 });
    });

    it('shows why a link failed, and deletes a task with its file', async () => {
      await page.getByLabel('Links, one per line').fill(origin.url('/files/missing.bin'));
      await page.getByLabel('Name', { exact: true }).fill('gone');
      await page.getByRole('button', { name: 'Add download' }).click();
      await page.locator('li.task[aria-label="gone"] [data-status="failed"]').waitFor({ timeout: 20_000 });
      assert.match((await page.locator('li.task[aria-label="gone"] .task-error').textContent()) ?? '', /404/);
      await screenshot(page, 'dashboard-failed');

      const first = await taskIdNamed(test, 'first');
      const file = (await test.api('GET', `/api/downloads/${first}`)).body.data.file;
      assert.ok(existsSync(file));
      await row(page, first).getByRole('button', { name: 'Delete' }).click();
      const dialog = page.getByRole('dialog', { name: /Delete/ });
      await dialog.getByLabel(/Also delete the downloaded file/).check();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await row(page, first).waitFor({ state: 'detached', timeout: 10_000 });
      assert.equal(existsSync(file), false, 'the file is gone');
      assert.equal((await test.api('GET', `/api/downloads/${first}`)).status, 404);
    });

    it('shows an API error next to the field it concerns, edits a task, and deletes several at once', async () => {
      await page.getByLabel('Links, one per line').fill(origin.url('/files/missing.bin'));
      await page.getByLabel('Folder').fill('../outside');
      await page.getByRole('button', { name: 'Add download' }).click();
      const folderError = page.locator('label.field', { hasText: 'Folder' }).getByRole('alert');
      await folderError.waitFor();
      assert.match((await folderError.textContent()) ?? '', /folder/i);
      await page.getByLabel('Folder').fill('');

      const gone = await taskIdNamed(test, 'gone');
      await row(page, gone).getByRole('button', { name: 'Edit' }).click();
      const edit = page.getByRole('dialog', { name: /Edit/ });
      await edit.getByLabel('Name').fill('renamed');
      await edit.getByRole('button', { name: 'Save' }).click();
      await page.locator(`li.task[data-id="${gone}"][aria-label="renamed"]`).waitFor();
      assert.equal((await test.api('GET', `/api/downloads/${gone}`)).body.data.name, 'renamed');

      const slow = await taskIdNamed(test, 'slow one');
      await row(page, gone).getByLabel('Select renamed').check();
      await row(page, slow).getByLabel('Select slow one').check();
      await page.getByRole('group', { name: 'Selected tasks' }).getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog', { name: /Delete 2 tasks/ }).getByRole('button', { name: 'Delete' }).click();
      await row(page, gone).waitFor({ state: 'detached' });
      await row(page, slow).waitFor({ state: 'detached' });
      assert.equal((await test.api('GET', `/api/downloads/${slow}`)).status, 404);
    });

    it('fits a 360 px wide phone screen without sideways scrolling, and works from the keyboard', async () => {
      const phone = await browser.context.newPage();
      try {
        await phone.setViewportSize({ width: 360, height: 740 });
        await phone.goto(test.baseUrl);
        await phone.locator('li.task').first().waitFor();
        const widths = await phone.evaluate(() => ({ page: (globalThis as any).document.documentElement.scrollWidth, view: (globalThis as any).innerWidth }));
        assert.ok(widths.page <= widths.view, `the page is ${widths.page} px wide on a ${widths.view} px screen`);
        await screenshot(phone, 'dashboard-phone');
        // keyboard only: focus the links box, type, tab to "Add download" and press Enter
        await phone.getByLabel('Links, one per line').focus();
        await phone.keyboard.type(origin.url('/files/missing.bin'));
        let focused = '';
        for (let step = 0; step < 12 && focused !== 'Add download'; step++) {
          await phone.keyboard.press('Tab');
          focused = await phone.evaluate(() => (globalThis as any).document.activeElement?.textContent?.trim() ?? '');
        }
        assert.equal(focused, 'Add download', 'the add button is reachable with Tab');
        await phone.keyboard.press('Enter');
        await phone.locator('li.task[aria-label="missing"]').first().waitFor();
      } finally {
        await phone.close();
      }
    });

    it('pages through 10,000 tasks, the first page drawn at once', async () => {
      for (let batch = 0; batch < 10; batch++) {
        const tasks = Array.from({ length: 1000 }, (_, index) => ({ type: 'direct', url: `${origin.url('/files/none')}-${batch}-${index}.bin` }));
        const answer = await test.api('POST', '/api/downloads', { tasks, startDownload: false });
        assert.equal(answer.status, 200, answer.text);
      }
      const fresh = await browser.context.newPage();
      try {
        const began = Date.now();
        await fresh.goto(test.baseUrl);
        await fresh.locator('li.task').nth(19).waitFor({ timeout: 10_000 });
        const drawnMs = Date.now() - began;
        assert.ok(drawnMs < 3000, `the first page of 10,000 tasks took ${drawnMs} ms to draw`);
        const pager = fresh.locator('.page-of');
        assert.match((await pager.textContent()) ?? '', /Page 1 of 501 · 1000\d tasks/);
        const firstOnPage1 = await fresh.locator('li.task').first().getAttribute('data-id');
        await fresh.getByRole('button', { name: 'Next' }).click();
        await fresh.waitForFunction(inBrowser.onPage, 2);
        await fresh.waitForFunction(inBrowser.firstRowIsNot, firstOnPage1);
        await screenshot(fresh, 'dashboard-10k');
      } finally {
        await fresh.close();
      }
    });
  });

  describe('with an API key', () => {
    it('plays a running HLS download in the page (hls.js on the growing playlist), then its file once finished', async () => {
      const media = await mkdtemp(join(tmpdir(), 'mediago-dashboard-hls-'));
      ffmpeg('ffmpeg', ['-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25:duration=10', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=10', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', '-hls_segment_filename', 'seg%d.ts', 'index.m3u8'], media);
      for (const file of await readdir(media)) {
        // a second and a half per segment, one at a time: the download runs for a while
        origin.route(`/hls/${file}`, { file: join(media, file), contentType: file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t', ...(file.endsWith('.ts') ? { latencyMs: 1500 } : {}) });
      }
      const test = await startTestApp({ API_KEY, SEGMENT_CONCURRENCY: '1' });
      const auth = { authorization: `Bearer ${API_KEY}` };
      const page = await browser.context.newPage();
      try {
        await page.addInitScript((key: string) => (globalThis as any).localStorage.setItem('mediago.apiKey', key), API_KEY);
        await page.goto(test.baseUrl);
        const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: origin.url('/hls/index.m3u8'), name: 'growing' }], startDownload: true }, auth);
        assert.equal(created.status, 200, created.text);
        const id = created.body.data[0].id as number;
        await row(page, id).locator('[data-status="downloading"]').waitFor({ timeout: 15_000 });
        await row(page, id).getByRole('button', { name: 'Play growing' }).click();
        const player = page.getByRole('complementary', { name: 'Player of growing' });
        await player.waitFor();
        await page.waitForFunction(inBrowser.videoPlaying, '.player-panel video', { timeout: 30_000 });
        const during = await test.api('GET', `/api/downloads/${id}`, undefined, auth);
        assert.equal(during.body.data.status, 'downloading', 'the video played while the task was still downloading');
        await screenshot(page, 'dashboard-playing-while-downloading');
        await row(page, id).locator('[data-status="success"]').waitFor({ timeout: 60_000 });
        // once finished, the player switches to the merged file (a <video> src carrying the key as ?token=)
        await page.waitForFunction((selector: string) => /\/stream\?token=/.test((globalThis as any).document.querySelector(selector)?.getAttribute('src') ?? ''), '.player-panel video', { timeout: 15_000 });
        await page.waitForFunction(inBrowser.videoPlaying, '.player-panel video', { timeout: 30_000 });
      } finally {
        await page.close();
        await test.close();
        await rm(media, { recursive: true, force: true });
      }
    });

    it('asks for the key, refuses a wrong one, and with the right one shows the tasks and live events', async () => {
      const test = await startTestApp({ API_KEY });
      const page = await browser.context.newPage();
      try {
        const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/first.bin'), name: 'keyed' }] }, { authorization: `Bearer ${API_KEY}` });
        assert.equal(created.status, 200, created.text);
        await page.goto(test.baseUrl);
        const prompt = page.getByRole('dialog', { name: 'API key' });
        await prompt.waitFor();
        await screenshot(page, 'dashboard-key-prompt');
        await prompt.getByLabel('API key').fill('wrong-key-123');
        await prompt.getByRole('button', { name: 'Continue' }).click();
        await prompt.getByText('That key was refused.').waitFor();
        await prompt.getByLabel('API key').fill(API_KEY);
        await prompt.getByRole('button', { name: 'Continue' }).click();
        await prompt.waitFor({ state: 'detached' });
        await page.locator('li.task[aria-label="keyed"]').waitFor();
        // the event stream authenticates with ?token=: a start made elsewhere shows up live
        await page.locator('.connection.live').waitFor({ timeout: 10_000 });
        await test.api('POST', `/api/downloads/${created.body.data[0].id}/start`, undefined, { authorization: `Bearer ${API_KEY}` });
        await page.locator('li.task[aria-label="keyed"] [data-status="success"]').waitFor({ timeout: 30_000 });
        await waitForStatus({ api: (method, path) => test.api(method, path, undefined, { authorization: `Bearer ${API_KEY}` }) }, created.body.data[0].id, ['success']);
      } finally {
        await page.close();
        await test.close();
      }
    });
  });

  describe('two nodes on one PostgreSQL database', () => {
    it('says which node it is on, and which node runs each task', async () => {
      const database = await createTestDatabase('dashboard-nodes');
      const root = await mkdtemp(join(tmpdir(), 'dashboard-nodes-'));
      const nodes = ['node-a', 'node-b'].map((nodeId) => clusterNode(root, database.url, nodeId));
      const page = await browser.context.newPage();
      try {
        for (const node of nodes) await node.start();
        await page.goto(nodes[0].baseUrl);
        await page.locator('.node-line', { hasText: 'Node node-a · tasks in PostgreSQL, shared by every node on that database' }).waitFor({ timeout: 10_000 });
        // created on node-b: whichever node claims it, its row on node-a's page names that node
        const created = await nodes[1].api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/files/slow.bin'), name: 'shared' }], startDownload: true });
        assert.equal(created.status, 200, created.text);
        const id = created.body.data[0].id as number;
        const running = await waitFor(async () => {
          const { body } = await nodes[0].api('GET', `/api/downloads/${id}`);
          return body.data.status === 'downloading' && body.data.node ? (body.data.node as string) : null;
        }, 15_000, 'the task to be claimed');
        await row(page, id).locator('.badge.node', { hasText: `on ${running}` }).waitFor({ timeout: 15_000 });
        await row(page, id).locator('[data-status="success"]').waitFor({ timeout: 30_000 });
        await screenshot(page, 'dashboard-nodes');
      } finally {
        await page.close();
        for (const node of nodes) if (node.alive) await node.kill('SIGTERM');
        await database.drop();
        await rm(root, { recursive: true, force: true });
      }
    });
  });
});
