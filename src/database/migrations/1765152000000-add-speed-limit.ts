import type { MigrationInterface, QueryRunner } from 'typeorm';
import { storeKind } from '../../common/store-kind.js';

/** A task's own speed limit, in bytes per second. */
export class AddSpeedLimit1765152000000 implements MigrationInterface {
  name = 'AddSpeedLimit1765152000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "speedLimit" ${storeKind(queryRunner) === 'postgres' ? 'bigint' : 'integer'}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "download_tasks" DROP COLUMN "speedLimit"`);
  }
}
