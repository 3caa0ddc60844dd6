import type { MigrationInterface, QueryRunner } from 'typeorm';
import { storeKind } from '../../common/store-kind.js';

/** Counts runs that began and never reached an end the service wrote down: a task that keeps taking the process down is failed. */
export class AddInterruptedRuns1764979200000 implements MigrationInterface {
  name = 'AddInterruptedRuns1764979200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const zero = storeKind(queryRunner) === 'postgres' ? '0' : '(0)';
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "interruptedRuns" integer NOT NULL DEFAULT ${zero}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "download_tasks" DROP COLUMN "interruptedRuns"`);
  }
}
