import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { DownloadEntity } from '../tasks/download.entity.js';
import { CreateDownloadTasks1764201600000 } from './migrations/1764201600000-create-download-tasks.js';
import { CreateSettings1765065600000 } from './migrations/1765065600000-create-settings.js';
import { AddSpeedLimit1765152000000 } from './migrations/1765152000000-add-speed-limit.js';
import { AddTaskListIndexes1765238400000 } from './migrations/1765238400000-add-task-list-indexes.js';
import { SettingEntity } from '../settings/setting.entity.js';
import { AddInterruptedRuns1764979200000 } from './migrations/1764979200000-add-interrupted-runs.js';

export const DATABASE_FILE = 'mediago.sqlite';

/** The SQLite database in DATA_DIR; schema changes go through the migrations, run at startup. */
export function dataSourceOptions(dataDir: string): DataSourceOptions {
  return {
    type: 'sqlite',
    database: join(dataDir, DATABASE_FILE),
    entities: [DownloadEntity, SettingEntity],
    migrations: [CreateDownloadTasks1764201600000, AddInterruptedRuns1764979200000, CreateSettings1765065600000, AddSpeedLimit1765152000000, AddTaskListIndexes1765238400000],
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

/** The service's data source: initialized (migrations run), then the per-connection settings applied. */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  for (const pragma of CONNECTION_PRAGMAS) await dataSource.query(pragma);
  return dataSource;
}
