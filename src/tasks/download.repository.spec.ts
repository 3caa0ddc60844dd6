import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DataSource, type DataSourceOptions, In } from 'typeorm';
import ormDataSource from '../../ormconfig.js';
import { dataSourceOptions, openDataSource } from '../database/data-source-options.js';
import { DownloadEntity } from './download.entity.js';
import { CreateDownloadTasks1764201600000 } from '../database/migrations/1764201600000-create-download-tasks.js';
import { AddInterruptedRuns1764979200000 } from '../database/migrations/1764979200000-add-interrupted-runs.js';
import { CreateSettings1765065600000 } from '../database/migrations/1765065600000-create-settings.js';
import { AddSpeedLimit1765152000000 } from '../database/migrations/1765152000000-add-speed-limit.js';
import { AddTaskListIndexes1765238400000 } from '../database/migrations/1765238400000-add-task-list-indexes.js';
import { AddTaskLeases1765400000000 } from '../database/migrations/1765400000000-add-task-leases.js';
import { AddMediaChoice1765500000000 } from '../database/migrations/1765500000000-add-media-choice.js';
import { CountTasksByIdRange1765600000000 } from '../database/migrations/1765600000000-count-tasks-by-id-range.js';
import { IndexTheQueue1765700000000 } from '../database/migrations/1765700000000-index-the-queue.js';
import { ByteCountsAsBigint1765800000000 } from '../database/migrations/1765800000000-byte-counts-as-bigint.js';
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
/** A running live recording with every column away from its default: booleans flipped, sizes past 2^32, a lease, a media choice. */
const EVERY_COLUMN_SET: Partial<NewDownload> = {
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
  interruptedRuns: 1,
  speedLimit: 1_000_000,
  ownerNode: 'node-a',
  leaseToken: '00000000-0000-4000-8000-000000000000',
  leaseExpiresAt: '2026-01-01T00:01:00.000Z',
  quality: '1080',
  audioLanguage: 'ja,en',
  subtitleLanguages: '',
  version: 3,
};
/** Every migration up to the one that declares byte counts bigint. */
const MIGRATIONS_BEFORE_BIGINT = (dataSourceOptions('/unused').migrations as Array<new () => unknown>).filter((migration) => migration !== ByteCountsAsBigint1765800000000);

describe('DownloadRepository (real SQLite file)', () => {
  let dir: string;
  let dataSource: DataSource;
  let repository: DownloadRepository;

  const connect = async () => {
    dataSource = await openDataSource(dataSourceOptions(dir));
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
        [
          'idx_download_tasks_created_date',
          'idx_download_tasks_id_status',
          'idx_download_tasks_lease_expires_at',
          'idx_download_tasks_owner_node',
          'idx_download_tasks_queue',
          'idx_download_tasks_queued_at',
          'idx_download_tasks_status',
          'idx_download_tasks_success',
          'idx_download_tasks_unfinished',
        ],
      );
      const migrations = (await dataSource.query('SELECT name FROM migrations')) as Array<{ name: string }>;
      assert.deepEqual(migrations.map((migration) => migration.name), [
        'CreateDownloadTasks1764201600000',
        'AddInterruptedRuns1764979200000',
        'CreateSettings1765065600000',
        'AddSpeedLimit1765152000000',
        'AddTaskListIndexes1765238400000',
        'AddTaskLeases1765400000000',
        'AddMediaChoice1765500000000',
        'CountTasksByIdRange1765600000000',
        'IndexTheQueue1765700000000',
        'ByteCountsAsBigint1765800000000',
      ]);
      assert.equal((dataSource.options as { database: string }).database, join(dir, 'mediago.sqlite'));
    });

    it('is opened in WAL mode with synchronous = NORMAL', async () => {
      assert.deepEqual(await dataSource.query('PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
      assert.deepEqual(await dataSource.query('PRAGMA synchronous'), [{ synchronous: 1 }]);
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
      assert.equal(migrations.length, 10);
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
      const given = aTask(EVERY_COLUMN_SET);
      const [saved] = await repository.insertMany([given]);
      const stored = await repository.findById(saved.id);
      assert.deepEqual({ ...stored, id: undefined, createdDate: undefined, updatedDate: undefined }, { ...given, id: undefined, createdDate: undefined, updatedDate: undefined });
    });

    it('gives back only the rows it wrote, beside a task stamped ahead of the clock by an earlier process', async () => {
      // stamps advance by at least 1 ms a row, so a process that wrote a large batch leaves stamps in the future
      const [ahead] = await insert({ name: 'written before a restart' });
      await dataSource.query('UPDATE download_tasks SET createdDate = ? WHERE id = ?', [new Date(Date.now() + 100).toISOString(), ahead.id]);
      const saved = await repository.insertMany(Array.from({ length: 300 }, (_, index) => aTask({ name: `new ${index}` })));
      assert.equal(saved.length, 300);
      assert.deepEqual(namesOf(saved), Array.from({ length: 300 }, (_, index) => `new ${index}`));
    });

    it('returns each row as stored, across several INSERT chunks', async () => {
      const saved = await repository.insertMany(Array.from({ length: 1234 }, (_, index) => aTask({ name: `n${index}`, isLive: index % 2 === 0, percent: index / 10 })));
      assert.deepEqual(namesOf(saved), Array.from({ length: 1234 }, (_, index) => `n${index}`));
      for (let index = 1; index < saved.length; index++) assert.ok(saved[index].id > saved[index - 1].id);
      const stored = await repository.findByIds([saved[0].id, saved[777].id, saved[1233].id]);
      for (const task of stored) assert.deepEqual(task, saved.find((candidate) => candidate.id === task.id));
    });

    it('writes nothing when one row of the batch fails', async () => {
      await assert.rejects(repository.insertMany([aTask({ name: 'good' }), aTask({ name: null as unknown as string })]));
      assert.equal((await repository.page(aPage())).total, 0);
    });

    it('keeps the writes other callers make while a failing batch is inserted (one connection, no shared transaction)', async () => {
      const [other] = await insert({ name: 'other' });
      const batch = [...Array.from({ length: 2999 }, (_, index) => aTask({ name: `good ${index}` })), aTask({ name: null as unknown as string })];
      // the edit is asked for while the batch is being written (a few milliseconds in)
      const editedLater = new Promise<boolean>((resolve, reject) => setTimeout(() => repository.editDescription(other, { name: 'renamed meanwhile' }).then(resolve, reject), 3));
      const [inserted, edited] = await Promise.allSettled([repository.insertMany(batch), editedLater]);
      assert.equal(inserted.status, 'rejected');
      assert.deepEqual(edited, { status: 'fulfilled', value: true });
      assert.equal((await repository.findById(other.id))?.name, 'renamed meanwhile');
      assert.equal((await repository.page(aPage())).total, 1);
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

    it('gives each task as the ORM reads it, every column set: booleans, numbers, nulls, lists, media choice, lease', async () => {
      await insert(
        EVERY_COLUMN_SET,
        { name: 'Done', status: DownloadStatus.Success, file: '/media/a.mp4', outputs: ['/media/a.mp4', '/media/a.en.vtt'], fileNode: 'node-b', replacesFile: '/media/old.mp4', error: 'a "quoted" error\nover two lines' },
        { name: 'Plain' },
      );
      for (const query of [aPage(), aPage({ statuses: [DownloadStatus.Success] }), aPage({ excludeStatus: DownloadStatus.Success }), aPage({ search: 'o' })]) {
        const page = await repository.page(query);
        assert.ok(page.list.length > 0);
        for (const task of page.list) assert.deepEqual(task, await dataSource.getRepository(DownloadEntity).findOneBy({ id: task.id }), JSON.stringify(query));
      }
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

  describe('page over many tasks, with gaps and status changes', () => {
    const STATUS_CYCLE = [DownloadStatus.Success, DownloadStatus.Failed, DownloadStatus.Success, DownloadStatus.Waiting, DownloadStatus.Stopped, DownloadStatus.Downloading];
    /** What a page must be: every task read back, filtered and sliced here. */
    const expected = async (query: PageQuery) => {
      const all = (await dataSource.getRepository(DownloadEntity).find({ order: { id: 'DESC' } })).filter(
        (task) => (!query.statuses || query.statuses.includes(task.status)) && (!query.excludeStatus || task.status !== query.excludeStatus),
      );
      const offset = (query.current - 1) * query.pageSize;
      return { total: all.length, ids: all.slice(offset, offset + query.pageSize).map((task) => task.id) };
    };

    beforeEach(async () => {
      const saved = await repository.insertMany(Array.from({ length: 61 }, (_, index) => aTask({ name: `t${index}`, status: STATUS_CYCLE[index % STATUS_CYCLE.length] })));
      // holes in the ids, and tasks that changed status after they were written
      for (const task of saved.filter((_, index) => index % 9 === 4)) await repository.delete(task);
      const rows = dataSource.getRepository(DownloadEntity);
      await rows.update({ id: In(saved.filter((_, index) => index % 7 === 2).map((task) => task.id)) }, { status: DownloadStatus.Failed });
      await rows.update({ id: saved[60].id }, { status: DownloadStatus.Success });
    });

    it('gives every page, front, middle and back, as a plain newest-first slice would, with the same total', async () => {
      const filters: Array<Partial<PageQuery>> = [
        {},
        { statuses: [DownloadStatus.Success] },
        { statuses: [DownloadStatus.Failed, DownloadStatus.Waiting] },
        { excludeStatus: DownloadStatus.Success },
        { statuses: [DownloadStatus.Downloading], excludeStatus: DownloadStatus.Success },
        { statuses: [] },
      ];
      for (const filter of filters) {
        for (const pageSize of [1, 4, 7, 100]) {
          const { total } = await expected(aPage({ ...filter, pageSize }));
          for (let current = 1; current <= Math.ceil(total / pageSize) + 1; current++) {
            const query = aPage({ ...filter, pageSize, current });
            const page = await repository.page(query);
            const want = await expected(query);
            assert.deepEqual({ total: page.total, ids: page.list.map((task) => task.id) }, want, JSON.stringify(query));
          }
        }
      }
    });

    it('gives whole tasks, every column, on a page read from the back', async () => {
      const { total } = await expected(aPage());
      const page = await repository.page(aPage({ pageSize: 3, current: Math.ceil(total / 3) }));
      for (const task of page.list) assert.deepEqual(task, await repository.findById(task.id));
    });

    it('keeps the counts per status right through inserts, updates, deletes and a clear', async () => {
      const counted = async () => {
        const rows = (await dataSource.query('SELECT status, COUNT(*) AS count FROM download_tasks GROUP BY status')) as Array<{ status: DownloadStatus; count: number }>;
        return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
      };
      assert.deepEqual(await repository.countByStatus(), await counted());
      const [task] = await insert({ status: DownloadStatus.Stopped });
      const rows = dataSource.getRepository(DownloadEntity);
      await rows.update({ id: task.id }, { name: 'renamed' }); // no status in the change
      await rows.update({ id: task.id }, { status: DownloadStatus.Stopped }); // the same status again
      assert.deepEqual(await repository.countByStatus(), await counted());
      await rows.update({ id: In([task.id]) }, { status: DownloadStatus.Downloading });
      await rows.delete({ id: task.id });
      assert.deepEqual(await repository.countByStatus(), await counted());
      await dataSource.getRepository(DownloadEntity).clear();
      assert.deepEqual(await repository.countByStatus(), {});
      assert.equal((await repository.page(aPage())).total, 0);
    });

    it('gives every page right across the id ranges its counts are kept in, with a range emptied and others thinned', async () => {
      const saved = await repository.insertMany(Array.from({ length: 3000 }, (_, index) => aTask({ name: `r${index}`, status: STATUS_CYCLE[index % 5] })));
      const rows = dataSource.getRepository(DownloadEntity);
      // the counts are kept per 1024 ids: ids 1024-2047 emptied but for two tasks, one task in 13 gone everywhere
      const gone = saved.filter((task) => (task.id >= 1024 && task.id < 2048 && task.id !== 1500 && task.id !== 2047) || task.id % 13 === 0);
      await rows.delete({ id: In(gone.map((task) => task.id)) });
      await rows.update({ id: In(saved.filter((task) => task.id % 11 === 3).map((task) => task.id)) }, { status: DownloadStatus.Failed });
      const all = await rows.find({ order: { id: 'DESC' } });
      assert.ok(all[0].id > 3 * 1024, 'the tasks span more than three ranges');
      const filters: Array<Partial<PageQuery>> = [{}, { statuses: [DownloadStatus.Success] }, { statuses: [DownloadStatus.Failed, DownloadStatus.Waiting] }, { excludeStatus: DownloadStatus.Success }];
      for (const filter of filters) {
        const matching = all.filter((task) => (!filter.statuses || filter.statuses.includes(task.status)) && (!filter.excludeStatus || task.status !== filter.excludeStatus));
        for (const pageSize of [100, 37]) {
          for (let current = 1; current <= Math.ceil(matching.length / pageSize) + 1; current++) {
            const query = aPage({ ...filter, pageSize, current });
            const page = await repository.page(query);
            const want = matching.slice((current - 1) * pageSize, current * pageSize).map((task) => task.id);
            assert.deepEqual({ total: page.total, ids: page.list.map((task) => task.id) }, { total: matching.length, ids: want }, JSON.stringify(query));
          }
        }
      }
    });

    it('narrowed by a search, counts the matching rows themselves', async () => {
      const page = await repository.page(aPage({ search: 't1', pageSize: 2, current: 2, excludeStatus: DownloadStatus.Success }));
      const all = (await dataSource.getRepository(DownloadEntity).find({ order: { id: 'DESC' } })).filter((task) => task.name.includes('t1') && task.status !== DownloadStatus.Success);
      assert.equal(page.total, all.length);
      assert.deepEqual(page.list.map((task) => task.id), all.slice(2, 4).map((task) => task.id));
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


  it('findWaitingIds gives the ids of the waiting tasks still queued, by queuedAt, then id', async () => {
    await insert(
      { name: 'queued last', queuedAt: '2026-01-01T00:00:03.000Z', status: DownloadStatus.Waiting },
      { name: 'not queued', queuedAt: null, status: DownloadStatus.Waiting },
      { name: 'running', queuedAt: '2026-01-01T00:00:02.000Z', status: DownloadStatus.Downloading },
      { name: 'queued first', queuedAt: '2026-01-01T00:00:01.000Z', status: DownloadStatus.Waiting },
      { name: 'tie, inserted second', queuedAt: '2026-01-01T00:00:03.000Z', status: DownloadStatus.Waiting },
    );
    const names = new Map((await repository.findActive()).map((task) => [task.id, task.name]));
    assert.deepEqual((await repository.findWaitingIds()).map((id) => names.get(id)), ['queued first', 'queued last', 'tie, inserted second']);
  });

  it('peekNextQueued gives the task the next claim takes, read from the queue index (SQLite fails an INDEXED BY it cannot serve)', async () => {
    assert.equal(await repository.peekNextQueued(), null);
    await insert(
      { name: 'not queued', queuedAt: null, status: DownloadStatus.Waiting },
      { name: 'queued last', queuedAt: '2026-01-01T00:00:03.000Z', status: DownloadStatus.Waiting },
      { name: 'running', queuedAt: '2026-01-01T00:00:01.000Z', status: DownloadStatus.Downloading },
      { name: 'queued first', queuedAt: '2026-01-01T00:00:02.000Z', status: DownloadStatus.Waiting },
    );
    assert.equal((await repository.peekNextQueued())?.name, 'queued first');
    const claimed = await repository.claimNext('node-a', 30_000);
    assert.equal(claimed?.name, 'queued first');
    assert.equal((await repository.peekNextQueued())?.name, 'queued last');
  });

  it('findActive gives waiting and downloading tasks, newest first', async () => {
    await insert({ name: 'w', status: DownloadStatus.Waiting }, { name: 's', status: DownloadStatus.Success }, { name: 'd', status: DownloadStatus.Downloading }, { name: 'x', status: DownloadStatus.Stopped });
    assert.deepEqual(namesOf(await repository.findActive()), ['d', 'w']);
  });

  describe('changes', () => {
    const reread = async (id: number) => (await repository.findById(id))!;

    it('a command writes only the version it decided on, and moves version and updatedDate on, keeping createdDate', async () => {
      const [task] = await insert({ name: 'before' });
      assert.equal(await repository.markQueued(task, { localPath: '/srv/media', deleteSegments: false, speedLimit: 1000, replacesFile: null }), true);
      const stored = await reread(task.id);
      assert.equal(stored.status, DownloadStatus.Waiting);
      assert.match(stored.queuedAt ?? '', ISO_DATE);
      assert.deepEqual([stored.localPath, stored.deleteSegments, stored.speedLimit, stored.version], ['/srv/media', false, 1000, task.version + 1]);
      assert.equal(stored.createdDate, task.createdDate);
      assert.ok(stored.updatedDate > task.updatedDate, `${stored.updatedDate} after ${task.updatedDate}`);
      // the version read before that write is stale now: nothing is written
      assert.equal(await repository.markStoppedWhileQueued(task), false);
      assert.equal((await reread(task.id)).status, DownloadStatus.Waiting);
      assert.equal(await repository.markStoppedWhileQueued(stored), true);
      assert.deepEqual([(await reread(task.id)).status, (await reread(task.id)).queuedAt], [DownloadStatus.Stopped, null]);
    });

    it('claims the oldest queued task under a new lease, once; writes about the run need its lease', async () => {
      const [first, second, idle] = await insert(
        { name: 'first', queuedAt: '2026-01-01T00:00:01.000Z' },
        { name: 'second', queuedAt: '2026-01-01T00:00:02.000Z' },
        { name: 'idle', queuedAt: null },
      );
      const claimed = (await repository.claimNext('node-a', 30_000))!;
      assert.equal(claimed.id, first.id);
      assert.deepEqual([claimed.status, claimed.ownerNode, claimed.interruptedRuns], [DownloadStatus.Downloading, 'node-a', 1]);
      assert.match(claimed.leaseToken ?? '', /^[0-9a-f-]{36}$/);
      assert.ok(claimed.leaseExpiresAt! > new Date().toISOString(), `the lease runs into the future: ${claimed.leaseExpiresAt}`);
      assert.equal((await repository.claimNext('node-b', 30_000))!.id, second.id);
      assert.equal(await repository.claimNext('node-b', 30_000), null, 'nothing else is queued');
      assert.equal((await reread(idle.id)).status, DownloadStatus.Waiting);

      const lease = { id: claimed.id, token: claimed.leaseToken! };
      const stolen = { id: claimed.id, token: '00000000-0000-0000-0000-000000000000' };
      assert.equal(await repository.saveProgress(stolen, { downloadedBytes: 1, totalBytes: 2, percent: 50 }), false);
      assert.equal(await repository.saveProgress(lease, { downloadedBytes: 10, totalBytes: 100, percent: 10 }), true);
      assert.equal(await repository.markSucceeded(stolen, { file: '/x', outputs: ['/x'], fileNode: 'node-c', name: 'x', nameIsDerived: false, downloadedBytes: 1, totalBytes: 1 }), false);
      assert.equal(await repository.markSucceeded(lease, { file: '/srv/a.mp4', outputs: ['/srv/a.mp4', '/srv/a.en.vtt'], fileNode: 'node-a', name: 'a', nameIsDerived: false, downloadedBytes: 100, totalBytes: 100 }), true);
      const done = await reread(first.id);
      assert.deepEqual(done.outputs, ['/srv/a.mp4', '/srv/a.en.vtt']);
      assert.deepEqual(
        [done.status, done.file, done.fileNode, done.percent, done.queuedAt, done.interruptedRuns, done.ownerNode, done.leaseToken, done.leaseExpiresAt],
        [DownloadStatus.Success, '/srv/a.mp4', 'node-a', 100, null, 0, null, null, null],
      );
      // the lease is spent: a late write of the same run changes nothing
      assert.equal(await repository.markRunFailed(lease, 'too late'), false);
      assert.equal((await reread(first.id)).status, DownloadStatus.Success);
    });

    it('renews only the leases a node holds, and finds the ones that ran out', async () => {
      await insert({ name: 'a', queuedAt: '2026-01-01T00:00:01.000Z' }, { name: 'b', queuedAt: '2026-01-01T00:00:02.000Z' });
      const short = (await repository.claimNext('node-a', 1))!;
      const long = (await repository.claimNext('node-b', 60_000))!;
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual((await repository.findExpiredLeases()).map((task) => task.id), [short.id]);
      assert.deepEqual(await repository.renewLeases('node-a', [short.leaseToken!, long.leaseToken!], 60_000), [short.leaseToken]);
      assert.deepEqual(await repository.findExpiredLeases(), []);
      assert.deepEqual((await repository.findLeftoverRuns('node-b')).map((task) => task.id), [long.id]);
      assert.equal(await repository.requeueLeftover({ id: long.id, token: long.leaseToken! }), true);
      const requeued = await reread(long.id);
      assert.deepEqual([requeued.status, requeued.ownerNode, requeued.leaseToken, requeued.interruptedRuns, requeued.queuedAt], [DownloadStatus.Waiting, null, null, 1, '2026-01-01T00:00:02.000Z']);
    });

    it('a run stopped, failed or cut by a shutdown keeps its figures and gives its lease back', async () => {
      await insert({ name: 'a', queuedAt: '2026-01-01T00:00:01.000Z' }, { name: 'b', queuedAt: '2026-01-01T00:00:02.000Z' }, { name: 'c', queuedAt: '2026-01-01T00:00:03.000Z' });
      const [a, b, c] = [(await repository.claimNext('n', 30_000))!, (await repository.claimNext('n', 30_000))!, (await repository.claimNext('n', 30_000))!];
      await repository.clearRunCounters([c.leaseToken!]);
      await repository.markRunStopped({ id: a.id, token: a.leaseToken! }, { downloadedBytes: 7, totalBytes: 70, percent: 10 }, { path: '/srv/part.ts', node: 'n', outputs: ['/srv/part.ts'] });
      await repository.markRunFailed({ id: b.id, token: b.leaseToken! }, 'the origin answered 404', { downloadedBytes: 3, totalBytes: null, percent: null });
      await repository.requeueAfterShutdown({ id: c.id, token: c.leaseToken! }, { downloadedBytes: 5, totalBytes: 50, percent: 10 }, ['/srv/live.ts']);
      const [stopped, failed, requeued] = [await reread(a.id), await reread(b.id), await reread(c.id)];
      assert.deepEqual([stopped.status, stopped.file, stopped.downloadedBytes, stopped.queuedAt, stopped.leaseToken], [DownloadStatus.Stopped, '/srv/part.ts', 7, null, null]);
      assert.deepEqual([failed.status, failed.error, failed.downloadedBytes, failed.interruptedRuns, failed.leaseToken], [DownloadStatus.Failed, 'the origin answered 404', 3, 0, null]);
      assert.deepEqual([requeued.status, requeued.queuedAt, requeued.interruptedRuns, requeued.downloadedBytes, requeued.leaseToken], [DownloadStatus.Waiting, '2026-01-01T00:00:03.000Z', 0, 5, null]);
      assert.deepEqual([stopped.outputs, failed.outputs, requeued.outputs], [['/srv/part.ts'], [], ['/srv/live.ts']], 'every saved part is a file of the task');
    });

    it('keeps the media choice as given, null for "the default", and edits and start choices write it', async () => {
      const [task] = await insert({ name: 'choice', quality: 'audio', audioLanguage: 'ja', subtitleLanguages: '' });
      let stored = await reread(task.id);
      assert.deepEqual([stored.quality, stored.audioLanguage, stored.subtitleLanguages, stored.outputs], ['audio', 'ja', '', []]);
      await repository.editDescription(stored, { quality: null, audioLanguage: 'zh,en' });
      stored = await reread(task.id);
      assert.deepEqual([stored.quality, stored.audioLanguage, stored.subtitleLanguages], [null, 'zh,en', '']);
      await repository.markQueued(stored, { localPath: null, deleteSegments: true, choice: { quality: '720', subtitleLanguages: null }, replacesFile: null });
      stored = await reread(task.id);
      assert.deepEqual([stored.quality, stored.audioLanguage, stored.subtitleLanguages], ['720', 'zh,en', null]);
    });

    it('a re-download keeps the file it replaces and starts its figures over', async () => {
      const [task] = await insert({ name: 'done', status: DownloadStatus.Success, file: '/srv/done.mp4', downloadedBytes: 9, totalBytes: 9, percent: 100 });
      await repository.markQueued(task, { localPath: null, deleteSegments: true, speedLimit: null, replacesFile: '/srv/done.mp4' });
      const stored = await reread(task.id);
      assert.deepEqual([stored.file, stored.replacesFile, stored.downloadedBytes, stored.totalBytes, stored.percent], [null, '/srv/done.mp4', 0, null, null]);
    });

    it('markByClient changes all the given tasks or, when one changed meanwhile, none', async () => {
      const [a, b, c] = await insert({ name: 'a', queuedAt: '2026-01-01T00:00:01.000Z' }, { name: 'b' }, { name: 'c' });
      assert.equal(await repository.markByClient([a, c], DownloadStatus.Failed), true);
      assert.equal(await repository.markByClient([], DownloadStatus.Success), true);
      const byName = new Map((await repository.findByIds([a.id, b.id, c.id])).map((task) => [task.name, task]));
      assert.deepEqual([byName.get('a')?.status, byName.get('a')?.queuedAt, byName.get('a')?.error], [DownloadStatus.Failed, null, 'marked failed by a client']);
      assert.equal(byName.get('b')?.status, DownloadStatus.Waiting);
      assert.equal(byName.get('b')?.updatedDate, b.updatedDate);
      // a's version moved on: b is not written either
      assert.equal(await repository.markByClient([b, a], DownloadStatus.Success), false);
      assert.equal((await reread(b.id)).status, DownloadStatus.Waiting);
    });

    it('editDescription writes only what is given, and nothing when nothing is', async () => {
      const [task] = await insert({ name: 'before', folder: 'x' });
      await repository.editDescription(task, {});
      assert.equal((await reread(task.id)).updatedDate, task.updatedDate);
      await repository.editDescription(task, { name: 'after', folder: 'y' });
      await repository.setLive(task.id, true);
      const stored = await reread(task.id);
      assert.deepEqual([stored.name, stored.folder, stored.isLive, stored.url], ['after', 'y', true, task.url]);
    });

    it('saveProgress stores progress but leaves updatedDate and version as they were', async () => {
      await insert({ name: 'running', queuedAt: '2026-01-01T00:00:01.000Z' });
      const task = (await repository.claimNext('n', 30_000))!;
      await repository.saveProgress({ id: task.id, token: task.leaseToken! }, { downloadedBytes: 5_000_000, totalBytes: 10_000_000, percent: 50 });
      const stored = await reread(task.id);
      assert.deepEqual([stored.downloadedBytes, stored.totalBytes, stored.percent], [5_000_000, 10_000_000, 50]);
      assert.deepEqual([stored.updatedDate, stored.version], [task.updatedDate, task.version]);
    });

    it('delete removes only that task, as it was read', async () => {
      const [gone, kept] = await insert({ name: 'gone' }, { name: 'kept' });
      await repository.setLive(kept.id, true);
      assert.equal(await repository.delete(kept), false, 'kept changed since it was read');
      assert.equal(await repository.delete(gone), true);
      assert.equal(await repository.findById(gone.id), null);
      assert.equal((await repository.findById(kept.id))?.name, 'kept');
      assert.equal(await repository.delete(gone), true, 'deleting again is harmless');
    });

    it('findById and findByIds give nothing for unknown ids', async () => {
      assert.equal(await repository.findById(999_999), null);
      assert.deepEqual(await repository.findByIds([999_999]), []);
    });
  });
});

for (const migration of [AddTaskListIndexes1765238400000, CountTasksByIdRange1765600000000]) {
  describe(`${migration.name} on a database written before it`, () => {
    it('counts the tasks already stored, and keeps counting after', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'download-repository-upgrade-'));
      const options = dataSourceOptions(dir);
      // the entity's columns need the other migrations: only this one is left out
      const before = new DataSource({ ...options, migrations: (options.migrations as unknown[]).filter((other) => other !== migration) as DataSourceOptions['migrations'] });
      try {
        await before.initialize();
        await new DownloadRepository(before.getRepository(DownloadEntity)).insertMany([
          aTask({ status: DownloadStatus.Success }),
          aTask({ status: DownloadStatus.Success }),
          aTask({ status: DownloadStatus.Failed }),
        ]);
        await before.destroy();
        const after = new DataSource(options);
        await after.initialize();
        try {
          const repository = new DownloadRepository(after.getRepository(DownloadEntity));
          assert.deepEqual(await repository.countByStatus(), { [DownloadStatus.Success]: 2, [DownloadStatus.Failed]: 1 });
          await repository.insertMany([aTask({ status: DownloadStatus.Waiting })]);
          assert.deepEqual(await repository.countByStatus(), { [DownloadStatus.Success]: 2, [DownloadStatus.Failed]: 1, [DownloadStatus.Waiting]: 1 });
          const page = await repository.page(aPage({ excludeStatus: DownloadStatus.Success }));
          assert.equal(page.total, 2);
          assert.deepEqual(page.list.map((task) => task.status), [DownloadStatus.Waiting, DownloadStatus.Failed]);
        } finally {
          await after.destroy();
        }
      } finally {
        if (before.isInitialized) await before.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe(`${ByteCountsAsBigint1765800000000.name} on a database written before it`, () => {
  it('keeps every value, index, trigger and the id sequence, and declares the byte counts bigint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'download-repository-bigint-'));
    const options = dataSourceOptions(dir);
    const before = new DataSource({ ...options, migrations: MIGRATIONS_BEFORE_BIGINT });
    try {
      await before.initialize();
      // the entity now says bigint: rows go in by SQL, as the service before this migration wrote them
      await before.query(
        `INSERT INTO download_tasks (name, type, url, status, downloadedBytes, totalBytes, speedLimit, createdDate, updatedDate)
         VALUES ('big', 'direct', 'https://example.com/a', 'success', 5000000000, 5000000001, 3000000000, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
                ('small', 'direct', 'https://example.com/b', 'failed', 7, NULL, NULL, '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:01.000Z'),
                ('gone', 'direct', 'https://example.com/c', 'waiting', 0, NULL, NULL, '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:02.000Z')`,
      );
      // the newest task deleted: its id must not come back
      await before.query(`DELETE FROM download_tasks WHERE name = 'gone'`);
      const schema = async (source: DataSource) =>
        (await source.query(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'download_tasks' AND type IN ('index', 'trigger') ORDER BY name`)) as unknown[];
      const objects = await schema(before);
      await before.destroy();

      const after = new DataSource(options);
      await after.initialize();
      try {
        const types = (await after.query(`SELECT name, type FROM pragma_table_info('download_tasks') WHERE name IN ('downloadedBytes', 'totalBytes', 'speedLimit') ORDER BY name`)) as unknown[];
        assert.deepEqual(types, [
          { name: 'downloadedBytes', type: 'bigint' },
          { name: 'speedLimit', type: 'bigint' },
          { name: 'totalBytes', type: 'bigint' },
        ]);
        assert.deepEqual(await schema(after), objects);
        assert.deepEqual((await after.driver.createSchemaBuilder().log()).upQueries, []);
        const repository = new DownloadRepository(after.getRepository(DownloadEntity));
        const page = await repository.page(aPage());
        assert.deepEqual(
          page.list.map(({ name, downloadedBytes, totalBytes, speedLimit }) => ({ name, downloadedBytes, totalBytes, speedLimit })),
          [
            { name: 'small', downloadedBytes: 7, totalBytes: null, speedLimit: null },
            { name: 'big', downloadedBytes: 5_000_000_000, totalBytes: 5_000_000_001, speedLimit: 3_000_000_000 },
          ],
        );
        assert.deepEqual(await repository.countByStatus(), { [DownloadStatus.Success]: 1, [DownloadStatus.Failed]: 1 });
        const [next] = await repository.insertMany([aTask({ name: 'next' })]);
        assert.equal(next.id, 4, 'ids go on after the deleted one');
        assert.deepEqual(await repository.countByStatus(), { [DownloadStatus.Success]: 1, [DownloadStatus.Failed]: 1, [DownloadStatus.Waiting]: 1 });
        // and back: integer again, values kept
        await after.undoLastMigration();
        assert.deepEqual(
          (await after.query(`SELECT name, type FROM pragma_table_info('download_tasks') WHERE name IN ('downloadedBytes', 'totalBytes', 'speedLimit')`)).map((column: { type: string }) => column.type.toLowerCase()),
          ['integer', 'integer', 'integer'],
        );
        assert.deepEqual(await after.query(`SELECT downloadedBytes, totalBytes, speedLimit FROM download_tasks WHERE name = 'big'`), [{ downloadedBytes: 5_000_000_000, totalBytes: 5_000_000_001, speedLimit: 3_000_000_000 }]);
      } finally {
        await after.destroy();
      }
    } finally {
      if (before.isInitialized) await before.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ormconfig (the data source of the TypeORM CLI)', () => {
  it('is a DataSource with the same entities and migrations, that does not run migrations by itself', () => {
    assert.ok(ormDataSource instanceof DataSource);
    assert.equal(ormDataSource.isInitialized, false);
    assert.equal(ormDataSource.options.migrationsRun, false);
    assert.equal(ormDataSource.options.type, 'sqlite');
    assert.deepEqual(ormDataSource.options.entities, [DownloadEntity, SettingEntity]);
    assert.deepEqual(ormDataSource.options.migrations, [
      CreateDownloadTasks1764201600000,
      AddInterruptedRuns1764979200000,
      CreateSettings1765065600000,
      AddSpeedLimit1765152000000,
      AddTaskListIndexes1765238400000,
      AddTaskLeases1765400000000,
      AddMediaChoice1765500000000,
      CountTasksByIdRange1765600000000,
      IndexTheQueue1765700000000,
      ByteCountsAsBigint1765800000000,
    ]);
    assert.equal(ormDataSource.options.synchronize, false);
    assert.match(String((ormDataSource.options as { database: string }).database), /mediago\.sqlite$/);
  });
});
