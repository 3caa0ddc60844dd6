// The task store on a real PostgreSQL server (the one `npm test` found or started): the same migrations, and what
// several nodes sharing it rely on — each queued task claimed once, leases, fenced writes, version-checked commands.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { createTestDatabase } from '../../test/helpers/postgres-database.js';
import { DownloadType } from '../common/download-type.enum.js';
import { dataSourceOptions, openDataSource } from '../database/data-source-options.js';
import { DownloadStatus } from './download-status.enum.js';
import { DownloadEntity } from './download.entity.js';
import { DownloadRepository, type NewDownload, newDownload } from './download.repository.js';

const aTask = (overrides: Partial<NewDownload> = {}): NewDownload => ({
  ...newDownload({ name: 'Clip', nameIsDerived: false, type: DownloadType.Direct, url: 'https://example.com/clip.mp4', folder: '', headers: '', isLive: false, speedLimit: null }, null),
  ...overrides,
});

describe('DownloadRepository (real PostgreSQL database)', () => {
  let database: { url: string; drop(): Promise<void> };
  /** Two data sources on one database: two nodes. */
  let first: DataSource;
  let second: DataSource;
  let nodeA: DownloadRepository;
  let nodeB: DownloadRepository;

  before(async () => {
    database = await createTestDatabase('repository');
    // both open at once: the migrations run once, under the advisory lock
    [first, second] = await Promise.all([openDataSource(dataSourceOptions('/unused', database.url)), openDataSource(dataSourceOptions('/unused', database.url))]);
    nodeA = new DownloadRepository(first.getRepository(DownloadEntity));
    nodeB = new DownloadRepository(second.getRepository(DownloadEntity));
  });

  after(async () => {
    for (const source of [first, second]) if (source?.isInitialized) await source.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    await first.query('DELETE FROM "download_tasks"');
  });

  it('is migrated once, with the columns the entity reads and byte counts as bigint', async () => {
    const migrations = (await first.query('SELECT name FROM migrations ORDER BY id')) as Array<{ name: string }>;
    assert.deepEqual(
      migrations.map((row) => row.name),
      first.migrations.map((migration) => migration.name),
    );
    const columns = (await first.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'download_tasks'`)) as Array<{ column_name: string; data_type: string }>;
    const types = Object.fromEntries(columns.map((column) => [column.column_name, column.data_type]));
    for (const column of first.getMetadata(DownloadEntity).columns) assert.ok(types[column.databaseName], `column ${column.databaseName} exists`);
    assert.equal(Object.keys(types).length, first.getMetadata(DownloadEntity).columns.length, 'no column the entity does not know');
    assert.deepEqual([types.downloadedBytes, types.totalBytes, types.speedLimit], ['bigint', 'bigint', 'bigint']);
    // a third open finds nothing to do
    const again = await openDataSource(dataSourceOptions('/unused', database.url));
    await again.destroy();
    assert.equal(((await first.query('SELECT COUNT(*) AS n FROM migrations')) as Array<{ n: number }>)[0].n, migrations.length);
  });

  it('matches the entity: no pending schema change (byte counts are bigint in both)', async () => {
    const pending = await first.driver.createSchemaBuilder().log();
    assert.deepEqual(pending.upQueries.map((query) => query.query), []);
  });

  it('inserts in order and reads back numbers as numbers, sizes past 4 GiB included', async () => {
    const saved = await nodeA.insertMany(Array.from({ length: 1200 }, (_, index) => aTask({ name: `t${index}`, totalBytes: 5 * 1024 ** 3 + index })));
    assert.deepEqual(
      saved.map((task) => task.name),
      Array.from({ length: 1200 }, (_, index) => `t${index}`),
    );
    assert.equal(saved[7].totalBytes, 5 * 1024 ** 3 + 7);
    assert.equal(typeof saved[0].id, 'number');
    const page = await nodeB.page({ current: 2, pageSize: 100, excludeStatus: DownloadStatus.Success });
    assert.equal(page.total, 1200);
    assert.deepEqual(
      page.list.map((task) => task.name),
      Array.from({ length: 100 }, (_, index) => `t${1099 - index}`),
    );
    assert.deepEqual(await nodeB.countByStatus(), { [DownloadStatus.Waiting]: 1200 });
  });

  it('two nodes claiming at once take each queued task exactly once, oldest first', async () => {
    const queued = await nodeA.insertMany(Array.from({ length: 30 }, (_, index) => aTask({ name: `q${index}`, queuedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString() })));
    const claims = await Promise.all(Array.from({ length: 40 }, (_, index) => (index % 2 ? nodeA : nodeB).claimNext(index % 2 ? 'node-a' : 'node-b', 30_000)));
    const claimed = claims.filter((task): task is DownloadEntity => task !== null);
    assert.equal(claimed.length, 30, 'every task claimed, and ten claims found nothing');
    assert.equal(new Set(claimed.map((task) => task.id)).size, 30, 'no task claimed twice');
    assert.deepEqual(new Set(claimed.map((task) => task.ownerNode)), new Set(['node-a', 'node-b']));
    const byOwner = await first.getRepository(DownloadEntity).find({ where: { status: DownloadStatus.Downloading } });
    assert.equal(byOwner.length, queued.length);
    for (const task of byOwner) assert.equal(task.interruptedRuns, 1);
  });

  it('fences a run by its lease: a node whose lease was taken over writes nothing', async () => {
    await nodeA.insertMany([aTask({ name: 'leased', queuedAt: '2026-01-01T00:00:00.000Z' })]);
    const claimed = (await nodeA.claimNext('node-a', 1))!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const expired = await nodeB.findExpiredLeases();
    assert.deepEqual(
      expired.map((task) => task.id),
      [claimed.id],
    );
    assert.equal(await nodeB.requeueLeftover({ id: claimed.id, token: claimed.leaseToken! }), true);
    const retaken = (await nodeB.claimNext('node-b', 30_000))!;
    assert.equal(retaken.id, claimed.id);
    assert.equal(retaken.interruptedRuns, 2, 'the lost run counts');
    const stale = { id: claimed.id, token: claimed.leaseToken! };
    assert.deepEqual(await nodeA.renewLeases('node-a', [stale.token], 30_000), []);
    assert.equal(await nodeA.saveProgress(stale, { downloadedBytes: 1, totalBytes: 1, percent: 100 }), false);
    assert.equal(await nodeA.markSucceeded(stale, { file: '/a', outputs: ['/a'], fileNode: 'node-a', name: 'a', nameIsDerived: false, downloadedBytes: 1, totalBytes: 1 }), false);
    assert.equal(await nodeB.markSucceeded({ id: retaken.id, token: retaken.leaseToken! }, { file: '/b', outputs: ['/b', '/b.en.vtt'], fileNode: 'node-b', name: 'b', nameIsDerived: false, downloadedBytes: 2, totalBytes: 2 }), true);
    const row = (await nodeA.findById(claimed.id))!;
    assert.deepEqual([row.status, row.file, row.fileNode, row.leaseToken], [DownloadStatus.Success, '/b', 'node-b', null]);
    assert.deepEqual(row.outputs, ['/b', '/b.en.vtt'], 'outputs round-trips as a JSON text column on PostgreSQL');
  });

  it('a command writes only the version it decided on, even from another node', async () => {
    const [task] = await nodeA.insertMany([aTask({ name: 'edited' })]);
    assert.equal(await nodeB.editDescription(task, { name: 'by b' }), true);
    assert.equal(await nodeA.editDescription(task, { name: 'by a, too late' }), false);
    assert.equal(await nodeA.markByClient([task], DownloadStatus.Failed), false);
    assert.equal((await nodeA.findById(task.id))!.name, 'by b');
  });
});
