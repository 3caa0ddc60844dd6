import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/app-config.js';
import { ToolsService } from '../src/engine/tools.service.js';
import { buildHlsFixtures, serveFixtureDir } from './fixtures/hls-media.js';
import { OriginServer } from './fixtures/origin-server.js';
import { type TestApp, startTestApp, waitForStatus } from './helpers/app-harness.js';
import { audioZeroCrossingRate, cueTimes, probe } from './helpers/media-checks.js';

const root = mkdtempSync(join(tmpdir(), 'media-choice-e2e-'));
const tools = new ToolsService(loadConfig({ DATA_DIR: root, DOWNLOAD_DIR: root }, root));

describe('the media choice and a task\'s several files, through the API', { timeout: 180_000 }, () => {
  const origin = new OriginServer();
  let test: TestApp;

  before(async () => {
    assert.ok(tools.ffmpeg && tools.ffprobe, 'ffmpeg and ffprobe are needed for these tests');
    const media = buildHlsFixtures(tools.ffmpeg, join(root, 'media'));
    serveFixtureDir(origin, media.root, 'master');
    await origin.start();
    test = await startTestApp({ DEFAULT_AUDIO_LANGUAGE: 'fre' }, join(root, 'app'));
  });

  after(async () => {
    await test.close();
    await origin.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const master = () => origin.url('/master/master.m3u8');

  it('refuses a bad quality or language list on create, edit, start and settings, naming the field', async () => {
    const refusals: Array<[string, string, unknown, string]> = [
      ['POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: master(), quality: 'huge' }] }, 'tasks[0].quality'],
      ['POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: master(), quality: 0 }] }, 'tasks[0].quality'],
      ['POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: master(), audioLanguage: ['en', 'not a tag!'] }] }, 'tasks[0].audioLanguage'],
      ['POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: master(), subtitleLanguages: 5 }] }, 'tasks[0].subtitleLanguages'],
      ['PUT', '/api/settings', { defaultQuality: '1080i' }, 'defaultQuality'],
      ['PUT', '/api/settings', { defaultSubtitleLanguages: [42] }, 'defaultSubtitleLanguages'],
    ];
    const [task] = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: master(), name: 'idle' }] })).body.data as Array<{ id: number }>;
    refusals.push(['PUT', `/api/downloads/${task.id}`, { quality: 'medium' }, 'quality'], ['POST', `/api/downloads/${task.id}/start`, { audioLanguage: 'en;fr' }, 'audioLanguage']);
    for (const [method, path, body, field] of refusals) {
      const answer = await test.api(method, path, body);
      assert.equal(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${answer.text}`);
      assert.equal(answer.body.errorCode, 'validation_failed');
      assert.ok(answer.body.fields?.some((problem) => problem.path === field), answer.text);
      assert.ok(answer.body.message.includes(field.replace(/^tasks\[0\]\./, '')), answer.body.message);
    }
    await test.api('DELETE', `/api/downloads/${task.id}`);
  });

  it('stores the choice as given (canonical tags, "720p" as "720"), null for the default, and edits it', async () => {
    const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: master(), name: 'chosen', quality: '720p', audioLanguage: 'fre, en', subtitleLanguages: ['en', 'zh_hans'] }, { type: 'm3u8', url: master(), name: 'plain' }] });
    assert.equal(created.status, 200, created.text);
    const [chosen, plain] = created.body.data as Array<Record<string, unknown>>;
    assert.deepEqual([chosen.quality, chosen.audioLanguage, chosen.subtitleLanguages, chosen.outputs], ['720', ['fr', 'en'], ['en', 'zh-Hans'], []]);
    assert.deepEqual([plain.quality, plain.audioLanguage, plain.subtitleLanguages], [null, null, null]);
    const edited = await test.api('PUT', `/api/downloads/${chosen.id}`, { quality: null, subtitleLanguages: [] });
    assert.deepEqual([edited.body.data.quality, edited.body.data.audioLanguage, edited.body.data.subtitleLanguages], [null, ['fr', 'en'], []]);
    for (const task of [chosen, plain]) await test.api('DELETE', `/api/downloads/${task.id}`);
  });

  it('takes defaults from settings over the environment, saves subtitles beside the file, lists every file in outputs, and deleteFile removes them all', async () => {
    let settings = (await test.api('GET', '/api/settings')).body.data;
    assert.deepEqual(settings.defaultQuality, { value: 'best', source: 'environment' });
    assert.deepEqual(settings.defaultAudioLanguage, { value: ['fr'], source: 'environment' });
    settings = (await test.api('PUT', '/api/settings', { defaultQuality: '200p', defaultSubtitleLanguages: 'fr,en,de' })).body.data;
    assert.deepEqual(settings.defaultQuality, { value: '200', source: 'saved' });
    assert.deepEqual(settings.defaultSubtitleLanguages, { value: ['fr', 'en', 'de'], source: 'saved' });

    const [task] = (await test.api('POST', '/api/downloads', { tasks: [{ type: 'm3u8', url: master(), name: 'Show' }], startDownload: true })).body.data as Array<{ id: number }>;
    const done = await waitForStatus(test, task.id, ['success', 'failed']);
    assert.equal(done.status, 'success', done.error);
    const folder = join(test.root, 'downloads');
    assert.equal(done.file, join(folder, 'Show.mp4'));
    assert.deepEqual(done.outputs, [join(folder, 'Show.mp4'), join(folder, 'Show.fr.vtt'), join(folder, 'Show.en.vtt')]);
    assert.equal(probe(tools.ffprobe!, done.file).streams.find((stream) => stream.codec_type === 'video')?.height, 120, 'the default maximum height, 200, took the 120-line variant');
    assert.ok(audioZeroCrossingRate(tools.ffmpeg!, done.file) < 0.02, 'DEFAULT_AUDIO_LANGUAGE=fre took the French sound');
    assert.equal(cueTimes(readFileSync(join(folder, 'Show.fr.vtt'), 'utf8'))[0], '00:00:00.000 --> 00:00:01.500');
    const log = (await test.api('GET', `/api/downloads/${task.id}/logs`)).body.data.log as string;
    assert.match(log, /no subtitles in de \(offered: en, fr\)/);
    assert.match(log, /saved subtitles \(fr\) as .*Show\.fr\.vtt/);

    // a null setting returns to the environment's value
    settings = (await test.api('PUT', '/api/settings', { defaultQuality: null, defaultSubtitleLanguages: null })).body.data;
    assert.deepEqual(settings.defaultQuality, { value: 'best', source: 'environment' });
    assert.deepEqual(settings.defaultSubtitleLanguages, { value: [], source: 'environment' });

    const removed = await test.api('DELETE', `/api/downloads/${task.id}?deleteFile=true`);
    assert.equal(removed.status, 200, removed.text);
    for (const file of done.outputs as string[]) assert.equal(existsSync(file), false, `${file} is removed`);
  });
});
