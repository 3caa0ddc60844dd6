import type { QueryRunner } from 'typeorm';

/** The two stores the service runs on: the embedded SQLite file, or PostgreSQL shared by several nodes. */
export type StoreKind = 'sqlite' | 'postgres';

/** Which store a migration or a query runs against, where their SQL must differ. */
export function storeKind(queryRunner: QueryRunner): StoreKind {
  return queryRunner.connection.options.type === 'postgres' ? 'postgres' : 'sqlite';
}
