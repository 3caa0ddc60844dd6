import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { DownloadEntity } from '../tasks/download.entity.js';
import { StatementCachingDatabase } from '../tasks/prepared-statements.js';
import { CreateDownloadTasks1764201600000 } from './migrations/1764201600000-create-download-tasks.js';
import { CreateSettings1765065600000 } from './migrations/1765065600000-create-settings.js';
import { AddSpeedLimit1765152000000 } from './migrations/1765152000000-add-speed-limit.js';
import { AddTaskListIndexes1765238400000 } from './migrations/1765238400000-add-task-list-indexes.js';
import { AddTaskLeases1765400000000 } from './migrations/1765400000000-add-task-leases.js';
import { AddMediaChoice1765500000000 } from './migrations/1765500000000-add-media-choice.js';
import { CountTasksByIdRange1765600000000 } from './migrations/1765600000000-count-tasks-by-id-range.js';
import { IndexTheQueue1765700000000 } from './migrations/1765700000000-index-the-queue.js';
import { ByteCountsAsBigint1765800000000 } from './migrations/1765800000000-byte-counts-as-bigint.js';
import { SettingEntity } from '../settings/setting.entity.js';
import { AddInterruptedRuns1764979200000 } from './migrations/1764979200000-add-interrupted-runs.js';

export const DATABASE_FILE = 'mediago.sqlite';

/**
 * The sqlite3 module as TypeORM is given it: its connections keep the task store's hot statements prepared
 * (StatementCachingDatabase), and `verbose()`, which TypeORM calls on its driver, changes nothing: the real one
 * wraps every database call of the process in a long-stack-trace helper (an Error and a util.inspect of the
 * arguments per call, about a tenth of a task page's CPU). Errors keep their message and SQL without it.
 */
const SQLITE_DRIVER: typeof sqlite3 = Object.assign(Object.create(sqlite3) as typeof sqlite3, {
  Database: StatementCachingDatabase,
  verbose: () => SQLITE_DRIVER,
});

/** The migrations, oldest first: the same list on both stores, each branching where their SQL must differ. */
export const MIGRATIONS = [CreateDownloadTasks1764201600000, AddInterruptedRuns1764979200000, CreateSettings1765065600000, AddSpeedLimit1765152000000, AddTaskListIndexes1765238400000, AddTaskLeases1765400000000, AddMediaChoice1765500000000, CountTasksByIdRange1765600000000, IndexTheQueue1765700000000, ByteCountsAsBigint1765800000000];

export const ENTITIES = [DownloadEntity, SettingEntity];

/**
 * The embedded SQLite file in DATA_DIR, or the PostgreSQL database of DATABASE_URL that several nodes share.
 * Schema changes go through the migrations, run at startup.
 */
export function dataSourceOptions(dataDir: string, databaseUrl: string | null = null): DataSourceOptions {
  if (databaseUrl) {
    return {
      type: 'postgres',
      url: databaseUrl,
      entities: ENTITIES,
      migrations: MIGRATIONS,
      // run by openDataSource under an advisory lock, so that nodes starting together migrate once
      migrationsRun: false,
      migrationsTransactionMode: 'all',
      synchronize: false,
      logging: ['error'],
      extra: { max: 10, connectionTimeoutMillis: 5_000 },
    };
  }
  return {
    type: 'sqlite',
    driver: SQLITE_DRIVER,
    database: join(dataDir, DATABASE_FILE),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    logging: ['error'],
    // WAL keeps readers (the API) from waiting on the progress writer; busy_timeout covers a second process.
    enableWAL: true,
    busyTimeout: 5_000,
  };
}

/**
 * Settings SQLite keeps per connection, not in the file. synchronous = NORMAL: in WAL mode a commit no longer
 * waits for an fsync (1-9 ms here, during which every other query waits on the one connection); a power cut
 * may lose the last commits, never the database's consistency. A crash of the process alone loses nothing.
 */
export const CONNECTION_PRAGMAS = ['PRAGMA synchronous = NORMAL'];

/** Any number shared by every node: the advisory lock held while one of them migrates the shared database. */
const MIGRATION_LOCK = 7_346_281_905;

/**
 * The service's data source, initialized with its schema up to date: SQLite migrates as it opens, then gets its
 * per-connection settings; PostgreSQL migrates under an advisory lock, so that nodes starting together migrate once.
 */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  if (options.type === 'postgres') {
    // loaded only for PostgreSQL: some 3 MiB of heap and 80 ms of start-up that a SQLite service does without
    const { default: pg } = await import('pg');
    // bigint (byte counts, COUNT(*)) arrives as a number, as on SQLite: no count or size here nears 2^53
    pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  }
  const dataSource = await new DataSource(options).initialize();
  if (options.type !== 'postgres') {
    for (const pragma of CONNECTION_PRAGMAS) await dataSource.query(pragma);
    return dataSource;
  }
  if (options.migrationsRun) return dataSource;
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'all' });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
  return dataSource;
}
