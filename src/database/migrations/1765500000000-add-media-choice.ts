import type { MigrationInterface, QueryRunner } from 'typeorm';
import { storeKind } from '../../common/store-kind.js';

/** A task's own media choice (null: the installation's default) and every file it saved (JSON array of paths). */
export class AddMediaChoice1765500000000 implements MigrationInterface {
  name = 'AddMediaChoice1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const emptyList = storeKind(queryRunner) === 'postgres' ? `'[]'` : `('[]')`;
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "quality" varchar(16)`);
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "audioLanguage" text`);
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "subtitleLanguages" text`);
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "outputs" text NOT NULL DEFAULT ${emptyList}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['outputs', 'subtitleLanguages', 'audioLanguage', 'quality']) await queryRunner.query(`ALTER TABLE "download_tasks" DROP COLUMN "${column}"`);
  }
}
