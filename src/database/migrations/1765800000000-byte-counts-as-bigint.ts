import type { MigrationInterface, QueryRunner } from 'typeorm';
import { storeKind } from '../../common/store-kind.js';

/** The columns of byte counts and rates, which pass 2^31 (a 2 GiB file), with how each is declared. */
const COLUMNS = [
  { name: 'downloadedBytes', constraints: 'NOT NULL DEFAULT (0)' },
  { name: 'totalBytes', constraints: '' },
  { name: 'speedLimit', constraints: '' },
];

/**
 * Byte counts declared `bigint` on both stores, as the entity now says. PostgreSQL has had them as bigint from the
 * start (an integer there stops at 2^31), while the entity said `integer`: TypeORM's schema builder read that as a
 * change, and a generated migration or a synchronize would have dropped the three columns and added them again,
 * empty. On SQLite the declared type is only a name (both have INTEGER affinity, values are stored alike), but
 * SQLite cannot change it in place: each column is added under a new name, copied, dropped and renamed, which keeps
 * the table's indexes, triggers and id sequence as they are.
 */
export class ByteCountsAsBigint1765800000000 implements MigrationInterface {
  name = 'ByteCountsAsBigint1765800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (storeKind(queryRunner) === 'sqlite') await redeclare(queryRunner, 'bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (storeKind(queryRunner) === 'sqlite') await redeclare(queryRunner, 'integer');
  }
}

async function redeclare(queryRunner: QueryRunner, type: 'bigint' | 'integer'): Promise<void> {
  for (const { name, constraints } of COLUMNS) {
    const staging = `${name}_${type}`;
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "${staging}" ${type} ${constraints}`);
    await queryRunner.query(`UPDATE "download_tasks" SET "${staging}" = "${name}"`);
    await queryRunner.query(`ALTER TABLE "download_tasks" DROP COLUMN "${name}"`);
    await queryRunner.query(`ALTER TABLE "download_tasks" RENAME COLUMN "${staging}" TO "${name}"`);
  }
}
