import type { MigrationInterface, QueryRunner } from 'typeorm';
import { storeKind } from '../../common/store-kind.js';
import { createStatusCounts } from './1765238400000-add-task-list-indexes.js';

/**
 * SQLite's task counts kept per range of 1024 ids as well as per status (`download_task_counts`, replacing
 * `download_status_counts`): a page deep in the list then starts in the right range and skips fewer than 1024
 * index entries there, where OFFSET alone skipped up to half the matches (50,000 entries cost 1.1 ms a page at
 * 100,000 tasks). The totals per status are the sums over the ranges. PostgreSQL keeps no counts (see
 * AddTaskListIndexes).
 */
export class CountTasksByIdRange1765600000000 implements MigrationInterface {
  name = 'CountTasksByIdRange1765600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (storeKind(queryRunner) === 'postgres') return;
    await queryRunner.query(`
      CREATE TABLE "download_task_counts" ("range" integer NOT NULL, "status" varchar(16) NOT NULL, "count" integer NOT NULL,
        PRIMARY KEY ("range", "status")) WITHOUT ROWID`);
    await queryRunner.query(`INSERT INTO "download_task_counts" ("range", "status", "count") SELECT "id" >> 10, "status", COUNT(*) FROM "download_tasks" GROUP BY 1, 2`);
    for (const trigger of ['insert', 'delete', 'update']) await queryRunner.query(`DROP TRIGGER IF EXISTS "trg_download_tasks_count_${trigger}"`);
    await queryRunner.query(`DROP TABLE IF EXISTS "download_status_counts"`);
    await queryRunner.query(`
      CREATE TRIGGER "trg_download_tasks_range_count_insert" AFTER INSERT ON "download_tasks"
      BEGIN
        INSERT INTO "download_task_counts" ("range", "status", "count") VALUES (NEW."id" >> 10, NEW."status", 1)
          ON CONFLICT ("range", "status") DO UPDATE SET "count" = "count" + 1;
      END`);
    await queryRunner.query(`
      CREATE TRIGGER "trg_download_tasks_range_count_delete" AFTER DELETE ON "download_tasks"
      BEGIN
        UPDATE "download_task_counts" SET "count" = "count" - 1 WHERE "range" = OLD."id" >> 10 AND "status" = OLD."status";
      END`);
    await queryRunner.query(`
      CREATE TRIGGER "trg_download_tasks_range_count_update" AFTER UPDATE OF "status" ON "download_tasks" WHEN OLD."status" IS NOT NEW."status"
      BEGIN
        UPDATE "download_task_counts" SET "count" = "count" - 1 WHERE "range" = OLD."id" >> 10 AND "status" = OLD."status";
        INSERT INTO "download_task_counts" ("range", "status", "count") VALUES (NEW."id" >> 10, NEW."status", 1)
          ON CONFLICT ("range", "status") DO UPDATE SET "count" = "count" + 1;
      END`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (storeKind(queryRunner) === 'postgres') return;
    for (const trigger of ['insert', 'delete', 'update']) await queryRunner.query(`DROP TRIGGER "trg_download_tasks_range_count_${trigger}"`);
    await queryRunner.query(`DROP TABLE "download_task_counts"`);
    await createStatusCounts(queryRunner);
  }
}
