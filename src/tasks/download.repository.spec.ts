import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import ormDataSource from '../../ormconfig.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { DownloadEntity } from './download.entity.js';
import { CreateDownloadTasks1764201600000 } from '../database/migrations/1764201600000-create-download-tasks.js';
import { AddInterruptedRuns1764979200000 } from '../database/migrations/1764979200000-add-interrupted-runs.js';
import { CreateSettings1765065600000 } from '../database/migrations/1765065600000-create-settings.js';
import { AddSpeedLimit1765152000000 } from '../database/migrations/1765152000000-add-speed-limit.js';
import { AddMediaChoice1765238400000 } from '../database/migrations/1765238400000-add-media-choice.js';
import { SettingEntity } from '../settings/setting.entity.js';
import { DownloadType } from '../common/download-type.enum.js';
import { DownloadStatus } from './download-status.enum.js';
import { DownloadRepository, type NewDownload, type PageQuery, newDownload } from './download.repository.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A new task as the service would insert it; only what a test cares about is given. */
const aTask = (overrides: Partial<NewDownload> = {}): NewDownload => ({
  ...newDownload({ name: 'Clip', nameIsDerived: false, type: DownloadType.Direct, url: 'https://example.com/clip.mp4', folder: '', headers: '', isLive: false, speedLimit: null }, null),
  ...overrides,
});
const aPage = (overrides: Partial<PageQuery> = {}): PageQuery => ({ current: 1, pageSize: 100, ...overrides });
const namesOf = (tasks: DownloadEntity[]) => tasks.map((task) => task.name);

describe('DownloadRepository (real SQLite file)', () => {
  let dir: string;
  let dataSource: DataSource;
  let repository: DownloadRepository;

  const connect = async () => {
    dataSource = new DataSource(dataSourceOptions(dir));
    await dataSource.initialize();
    repository = new DownloadRepository(dataSource.getRepository(DownloadEntity));
  };
  /** Inserts tasks named by their position, in that order. */
  const insert = (...tasks: Array<Partial<NewDownload>>) => repository.insertMany(tasks.map((task) => aTask(task)));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'download-repository-'));
    await connect();
  });

  after(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await dataSource.getRepository(DownloadEntity).clear();
  });

  describe('schema', () => {
    it('is created by the migrations, in the data directory', async () => {
      const tables = (await dataSource.query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)) as Array<{ name: string }>;
      assert.ok(tables.some((table) => table.name === 'download_tasks'));
      const indexes = (await dataSource.query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'download_tasks' ORDER BY name`)) as Array<{ name: string }>;
      assert.deepEqual(
        indexes.map((index) => index.name).filter((name) => name.startsWith('idx_')),
        ['idx_download_tasks_created_date', 'idx_download_tasks_queued_at', 'idx_download_tasks_status'],
      );
      const migrations = (await dataSource.query('SELECT name FROM migrations')) as Array<{ name: string }>;
      assert.deepEqual(migrations.map((migration) => migration.name), ['CreateDownloadTasks1764201600000', 'AddInterruptedRuns1764979200000', 'CreateSettings1765065600000', 'AddSpeedLimit1765152000000', 'AddMediaChoice1765238400000']);
      assert.equal((dataSource.options as { database: string }).database, join(dir, 'mediago.sqlite'));
    });

    it('matches the entity: no pending schema change', async () => {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      assert.deepEqual(pending.upQueries.map((query) => query.query), []);
    });

    it('survives a second initialize on the same file, keeping the data and running nothing twice', async () => {
      const [kept] = await insert({ name: 'kept across restarts' });
      await dataSource.destroy();
      await connect();
      const migrations = (await dataSource.query('SELECT name FROM migrations')) as unknown[];
      assert.equal(migrations.length, 5);
      assert.equal((await repository.findById(kept.id))?.name, 'kept across restarts');
    });
  });

  describe('insertMany', () => {
    it('keeps the order given, with increasing ids', async () => {
      const saved = await insert({ name: 'first' }, { name: 'second' }, { name: 'third' });
      assert.deepEqual(namesOf(saved), ['first', 'second', 'third']);
      assert.ok(saved[0].id < saved[1].id && saved[1].id < saved[2].id);
      assert.deepEqual(namesOf(await repository.findByIds(saved.map((task) => task.id))).sort(), ['first', 'second', 'third']);
    });

    it('stamps ISO dates, created = updated, strictly increasing even within one millisecond', async () => {
      const saved = await repository.insertMany(Array.from({ length: 20 }, (_, index) => aTask({ name: `task ${index}` })));
      for (const task of saved) {
        assert.match(task.createdDate, ISO_DATE);
        assert.equal(task.updatedDate, task.createdDate);
      }
      for (let index = 1; index < saved.length; index++) assert.ok(saved[index].createdDate > saved[index - 1].createdDate);
      const stored = await repository.findById(saved[0].id);
      assert.equal(stored?.createdDate, saved[0].createdDate);
    });

    it('stores every column as given, booleans and nulls included', async () => {
      const given = aTask({
        name: 'Live show',
        nameIsDerived: true,
        type: DownloadType.M3u8,
        url: 'https://example.com/live.m3u8',
        folder: 'shows/2024',
        headers: 'Referer: https://example.com/',
        isLive: true,
        status: DownloadStatus.Downloading,
        file: '/media/shows/2024/Live show.ts',
        localPath: '/media',
        deleteSegments: false,
        downloadedBytes: 123_456_789_012,
        totalBytes: 223_456_789_012,
        percent: 55.2,
        error: null,
        queuedAt: '2026-01-01T00:00:00.000Z',
      });
      const [saved] = await repository.insertMany([given]);
      const stored = await repository.findById(saved.id);
      assert.deepEqual({ ...stored, id: undefined, createdDate: undefined, updatedDate: undefined }, { ...given, id: undefined, createdDate: undefined, updatedDate: undefined });
    });

    it('writes nothing when one row of the batch fails', async () => {
      await assert.rejects(repository.insertMany([aTask({ name: 'good' }), aTask({ name: null as unknown as string })]));
      assert.equal((await repository.page(aPage())).total, 0);
    });
  });

  describe('page', () => {
    it('lists newest first, with skip/take and the total of all matches', async () => {
      await repository.insertMany(Array.from({ length: 7 }, (_, index) => aTask({ name: `t${index + 1}` })));
      const first = await repository.page(aPage({ current: 1, pageSize: 3 }));
      const second = await repository.page(aPage({ current: 2, pageSize: 3 }));
      const third = await repository.page(aPage({ current: 3, pageSize: 3 }));
      const beyond = await repository.page(aPage({ current: 4, pageSize: 3 }));
      assert.deepEqual(namesOf(first.list), ['t7', 't6', 't5']);
      assert.deepEqual(namesOf(second.list), ['t4', 't3', 't2']);
      assert.deepEqual(namesOf(third.list), ['t1']);
      assert.deepEqual(beyond.list, []);
      for (const page of [first, second, third, beyond]) assert.equal(page.total, 7);
    });

    it('filters by statuses included', async () => {
      await insert(
        { name: 'w', status: DownloadStatus.Waiting },
        { name: 'd', status: DownloadStatus.Downloading },
        { name: 's', status: DownloadStatus.Success },
        { name: 'f', status: DownloadStatus.Failed },
        { name: 'x', status: DownloadStatus.Stopped },
      );
      const page = await repository.page(aPage({ statuses: [DownloadStatus.Waiting, DownloadStatus.Failed] }));
      assert.deepEqual(namesOf(page.list), ['f', 'w']);
      assert.equal(page.total, 2);
      assert.deepEqual(namesOf((await repository.page(aPage({ statuses: [DownloadStatus.Success] }))).list), ['s']);
    });

    it('filters by a status excluded', async () => {
      await insert({ name: 'w', status: DownloadStatus.Waiting }, { name: 's', status: DownloadStatus.Success }, { name: 'f', status: DownloadStatus.Failed });
      const page = await repository.page(aPage({ excludeStatus: DownloadStatus.Success }));
      assert.deepEqual(namesOf(page.list), ['f', 'w']);
      assert.equal(page.total, 2);
    });

    it('searches a substring of the name or the URL, ASCII case ignored, wildcards literal', async () => {
      await insert(
        { name: 'Holiday Film', url: 'https://a.test/1.mp4' },
        { name: 'other', url: 'https://cdn.test/HOLIDAY/2.m3u8' },
        { name: '50% off_sale', url: 'https://a.test/3.mp4' },
        { name: '50 off sale', url: 'https://a.test/4.mp4' },
        { name: 'unrelated', url: 'https://a.test/5.mp4', status: DownloadStatus.Success },
      );
      assert.deepEqual(namesOf((await repository.page(aPage({ search: 'holiday' }))).list), ['other', 'Holiday Film']);
      assert.deepEqual(namesOf((await repository.page(aPage({ search: '% off_' }))).list), ['50% off_sale']);
      assert.deepEqual(namesOf((await repository.page(aPage({ search: 'a.test/5', statuses: [DownloadStatus.Waiting] }))).list), []);
      const page = await repository.page(aPage({ search: 'a.test', pageSize: 2 }));
      assert.equal(page.total, 4);
      assert.equal(page.list.length, 2);
    });

    describe('under a directory', () => {
      // "%" and "_" are LIKE wildcards, "\" the escape: a directory name holding them must match only itself
      const DIRECTORY = '/media/50%_off\\sale';
      beforeEach(async () => {
        await insert(
          { name: 'default directory', localPath: null },
          { name: 'the directory itself', localPath: DIRECTORY },
          { name: 'below it', localPath: `${DIRECTORY}/series/s01` },
          { name: '% would match', localPath: '/media/50XY_off\\sale/x' },
          { name: '_ would match', localPath: '/media/50%Xoff\\sale/x' },
          { name: '\\ unescaped', localPath: '/media/50%_offsale/x' },
          { name: 'a sibling sharing the prefix', localPath: `${DIRECTORY}-old` },
          { name: 'a sibling below the prefix', localPath: `${DIRECTORY}-old/x` },
          { name: 'the parent', localPath: '/media' },
        );
      });

      it('lists the directory and what is below it, escaping LIKE wildcards', async () => {
        const page = await repository.page(aPage({ under: { directory: DIRECTORY, defaultDirectory: '/elsewhere' } }));
        assert.deepEqual(namesOf(page.list), ['below it', 'the directory itself']);
        assert.equal(page.total, 2);
      });

      it('adds the tasks without a directory when the default directory is under it', async () => {
        const page = await repository.page(aPage({ under: { directory: DIRECTORY, defaultDirectory: `${DIRECTORY}/downloads` } }));
        assert.deepEqual(namesOf(page.list), ['below it', 'the directory itself', 'default directory']);
      });

      it('accepts a directory given with a trailing slash', async () => {
        const page = await repository.page(aPage({ under: { directory: `${DIRECTORY}/series/`, defaultDirectory: '/elsewhere' } }));
        assert.deepEqual(namesOf(page.list), ['below it']);
      });

      it('combines with a status filter and paging', async () => {
        await insert({ name: 'failed below', localPath: `${DIRECTORY}/y`, status: DownloadStatus.Failed });
        const page = await repository.page(aPage({ pageSize: 1, statuses: [DownloadStatus.Waiting], under: { directory: DIRECTORY, defaultDirectory: `${DIRECTORY}/downloads` } }));
        assert.deepEqual(namesOf(page.list), ['below it']);
        assert.equal(page.total, 3);
      });

      it('counts the folder as part of where a task saves', async () => {
        await insert({ name: 'in a folder of the default', localPath: null, folder: 'series' }, { name: 'elsewhere in a folder', localPath: '/media', folder: 'series' });
        const page = await repository.page(aPage({ under: { directory: `${DIRECTORY}/downloads/series`, defaultDirectory: `${DIRECTORY}/downloads` } }));
        assert.deepEqual(namesOf(page.list), ['in a folder of the default']);
      });

      it('tells directories apart by case, as the file system does', async () => {
        await insert({ name: 'other case', localPath: '/media/Videos/x' }, { name: 'same case', localPath: '/media/videos/x' });
        const page = await repository.page(aPage({ under: { directory: '/media/videos', defaultDirectory: '/elsewhere' } }));
        assert.deepEqual(namesOf(page.list), ['same case']);
      });
    });
  });

  describe('folders', () => {
    it('gives the distinct non-empty folders, sorted', async () => {
      await insert({ folder: 'b' }, { folder: '' }, { folder: 'a/c' }, { folder: 'b' }, { folder: 'a' }, { folder: 'B' });
      assert.deepEqual(await repository.folders(), ['B', 'a', 'a/c', 'b']);
    });

    it('gives [] when no task has a folder', async () => {
      await insert({ folder: '' });
      assert.deepEqual(await repository.folders(), []);
    });
  });

  it('urlsNewestFirst gives every url, newest first, repeats kept', async () => {
    await insert({ url: 'https://example.com/1' }, { url: 'https://example.com/2' }, { url: 'https://example.com/1' });
    assert.deepEqual(await repository.urlsNewestFirst(), ['https://example.com/1', 'https://example.com/2', 'https://example.com/1']);
  });

  it('findQueued gives the queued tasks by queuedAt, then id', async () => {
    await insert(
      { name: 'queued last', queuedAt: '2026-01-01T00:00:03.000Z', status: DownloadStatus.Waiting },
      { name: 'not queued', queuedAt: null, status: DownloadStatus.Waiting },
      { name: 'tie, inserted first', queuedAt: '2026-01-01T00:00:02.000Z', status: DownloadStatus.Downloading },
      { name: 'queued first', queuedAt: '2026-01-01T00:00:01.000Z', status: DownloadStatus.Downloading },
      { name: 'tie, inserted second', queuedAt: '2026-01-01T00:00:02.000Z', status: DownloadStatus.Waiting },
    );
    assert.deepEqual(namesOf(await repository.findQueued()), ['queued first', 'tie, inserted first', 'tie, inserted second', 'queued last']);
  });

  it('findActive gives waiting and downloading tasks, newest first', async () => {
    await insert({ name: 'w', status: DownloadStatus.Waiting }, { name: 's', status: DownloadStatus.Success }, { name: 'd', status: DownloadStatus.Downloading }, { name: 'x', status: DownloadStatus.Stopped });
    assert.deepEqual(namesOf(await repository.findActive()), ['d', 'w']);
  });

  describe('changes', () => {
    it('each intent writes its state and moves updatedDate on, keeping createdDate', async () => {
      const [task] = await insert({ name: 'before' });
      await repository.markQueued(task.id, { localPath: '/srv/media', deleteSegments: false, speedLimit: 1000, restart: false });
      let stored = (await repository.findById(task.id))!;
      assert.equal(stored.status, DownloadStatus.Waiting);
      assert.match(stored.queuedAt ?? '', ISO_DATE);
      assert.deepEqual([stored.localPath, stored.deleteSegments, stored.speedLimit], ['/srv/media', false, 1000]);
      assert.equal(stored.createdDate, task.createdDate);
      assert.ok(stored.updatedDate > task.updatedDate, `${stored.updatedDate} after ${task.updatedDate}`);

      await repository.markStarted(task.id, 1);
      stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.status, stored.interruptedRuns, stored.file], [DownloadStatus.Downloading, 1, null]);

      await repository.markFailed(task.id, 'the origin answered 404', { downloadedBytes: 10, totalBytes: 100, percent: 10 });
      stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.status, stored.error, stored.queuedAt, stored.interruptedRuns, stored.downloadedBytes], [DownloadStatus.Failed, 'the origin answered 404', null, 0, 10]);

      await repository.markQueued(task.id, { localPath: null, deleteSegments: true, restart: false });
      await repository.markStarted(task.id, 1);
      await repository.markSucceeded(task.id, { file: '/srv/a.mp4', outputs: ['/srv/a.mp4', '/srv/a.en.vtt'], name: 'a', nameIsDerived: false, downloadedBytes: 100, totalBytes: 100 });
      stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.status, stored.file, stored.percent, stored.error, stored.queuedAt, stored.interruptedRuns, stored.speedLimit], [DownloadStatus.Success, '/srv/a.mp4', 100, null, null, 0, 1000]);
      assert.deepEqual(stored.outputs, ['/srv/a.mp4', '/srv/a.en.vtt']);

      await repository.markQueued(task.id, { localPath: null, deleteSegments: true, speedLimit: null, choice: { quality: '720', subtitleLanguages: 'zh,en' }, restart: true });
      stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.file, stored.downloadedBytes, stored.totalBytes, stored.percent, stored.speedLimit, stored.outputs], [null, 0, null, null, null, []]);
      assert.deepEqual([stored.quality, stored.audioLanguage, stored.subtitleLanguages], ['720', null, 'zh,en']);
    });

    it('keeps the media choice as given, null for "the default", and every saved file of a stopped or interrupted recording', async () => {
      const [task] = await insert({ name: 'choice', quality: 'audio', audioLanguage: 'ja', subtitleLanguages: '' });
      let stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.quality, stored.audioLanguage, stored.subtitleLanguages, stored.outputs], ['audio', 'ja', '', []]);
      await repository.editDescription(task.id, { quality: null, audioLanguage: 'zh,en' });
      await repository.markStopped(task.id, null, { file: '/srv/part.ts', outputs: ['/srv/part.ts'] });
      stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.quality, stored.audioLanguage, stored.subtitleLanguages, stored.file, stored.outputs], [null, 'zh,en', '', '/srv/part.ts', ['/srv/part.ts']]);
      await repository.requeueAfterShutdown(task.id, null, ['/srv/part.ts', '/srv/part (1).ts']);
      stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.file, stored.outputs], [null, ['/srv/part.ts', '/srv/part (1).ts']]);
    });

    it('a shutdown requeues a run, keeping its figures and its place in the queue', async () => {
      const [task] = await insert({ name: 'running', status: DownloadStatus.Downloading, queuedAt: '2026-01-01T00:00:01.000Z', interruptedRuns: 1 });
      await repository.requeueAfterShutdown(task.id, { downloadedBytes: 7, totalBytes: 70, percent: 10 });
      const stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.status, stored.queuedAt, stored.interruptedRuns, stored.downloadedBytes], [DownloadStatus.Waiting, '2026-01-01T00:00:01.000Z', 0, 7]);
    });

    it('markByClient and clearRunCounters change only the given tasks, and accept none', async () => {
      const [a, b, c] = await insert({ name: 'a', queuedAt: '2026-01-01T00:00:01.000Z', interruptedRuns: 1 }, { name: 'b', interruptedRuns: 1 }, { name: 'c' });
      await repository.markByClient([a.id, c.id], DownloadStatus.Failed);
      await repository.markByClient([], DownloadStatus.Success);
      await repository.clearRunCounters([a.id]);
      await repository.clearRunCounters([]);
      const byName = new Map((await repository.findByIds([a.id, b.id, c.id])).map((task) => [task.name, task]));
      assert.deepEqual([byName.get('a')?.status, byName.get('a')?.queuedAt, byName.get('a')?.error, byName.get('a')?.interruptedRuns], [DownloadStatus.Failed, null, 'marked failed by a client', 0]);
      assert.equal(byName.get('b')?.status, DownloadStatus.Waiting);
      assert.equal(byName.get('b')?.interruptedRuns, 1);
      assert.equal(byName.get('c')?.status, DownloadStatus.Failed);
      assert.equal(byName.get('b')?.updatedDate, b.updatedDate);
      assert.ok(byName.get('a')!.updatedDate > a.updatedDate);
    });

    it('editDescription writes only what is given, and nothing when nothing is', async () => {
      const [task] = await insert({ name: 'before', folder: 'x' });
      await repository.editDescription(task.id, {});
      assert.equal((await repository.findById(task.id))!.updatedDate, task.updatedDate);
      await repository.editDescription(task.id, { name: 'after', folder: 'y' });
      await repository.setLive(task.id, true);
      const stored = (await repository.findById(task.id))!;
      assert.deepEqual([stored.name, stored.folder, stored.isLive, stored.url], ['after', 'y', true, task.url]);
    });

    it('saveProgress stores progress but leaves updatedDate as it was', async () => {
      const [task] = await insert({ name: 'running', status: DownloadStatus.Downloading });
      await repository.saveProgress(task.id, { downloadedBytes: 5_000_000, totalBytes: 10_000_000, percent: 50 });
      const stored = (await repository.findById(task.id))!;
      assert.equal(stored.downloadedBytes, 5_000_000);
      assert.equal(stored.totalBytes, 10_000_000);
      assert.equal(stored.percent, 50);
      assert.equal(stored.updatedDate, task.updatedDate);
    });

    it('delete removes only that task', async () => {
      const [gone, kept] = await insert({ name: 'gone' }, { name: 'kept' });
      await repository.delete(gone.id);
      assert.equal(await repository.findById(gone.id), null);
      assert.equal((await repository.findById(kept.id))?.name, 'kept');
      await repository.delete(gone.id); // deleting again is harmless
    });

    it('findById and findByIds give nothing for unknown ids', async () => {
      assert.equal(await repository.findById(999_999), null);
      assert.deepEqual(await repository.findByIds([999_999]), []);
    });
  });
});

describe('ormconfig (the data source of the TypeORM CLI)', () => {
  it('is a DataSource with the same entities and migrations, that does not run migrations by itself', () => {
    assert.ok(ormDataSource instanceof DataSource);
    assert.equal(ormDataSource.isInitialized, false);
    assert.equal(ormDataSource.options.migrationsRun, false);
    assert.equal(ormDataSource.options.type, 'sqlite');
    assert.deepEqual(ormDataSource.options.entities, [DownloadEntity, SettingEntity]);
    assert.deepEqual(ormDataSource.options.migrations, [CreateDownloadTasks1764201600000, AddInterruptedRuns1764979200000, CreateSettings1765065600000, AddSpeedLimit1765152000000, AddMediaChoice1765238400000]);
    assert.equal(ormDataSource.options.synchronize, false);
    assert.match(String((ormDataSource.options as { database: string }).database), /mediago\.sqlite$/);
  });
});
