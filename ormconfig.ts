// The TypeORM data source for the CLI (migrations): `npm run typeorm -- migration:show`.
// The service itself builds the same options from its validated configuration (src/database).
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app-config.js';
import { dataSourceOptions } from './src/database/data-source-options.js';

export default new DataSource({ ...dataSourceOptions(loadConfig().dataDir, loadConfig().databaseUrl), migrationsRun: false });
