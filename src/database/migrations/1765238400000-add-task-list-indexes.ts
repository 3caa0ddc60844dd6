import type { MigrationInterface, QueryRunner } from 'typeorm';
import { storeKind } from '../../common/store-kind.js';

/**
 * What keeps the task list fast with many tasks:
 * - indexes a page's ids are read from, skipping entries there rather than rows, before only the page's own
 *   rows are fetched: (id, status) for all tasks or all but one status, and two partial indexes on id for the
 *   dashboard's two lists, done (success) and everything else, whose entries are exactly the list's;
 * - the number of tasks in each status, kept by triggers in the same transaction as every change to a
 *   task's status, so that a page's total and the metrics do not count the table row by row.
 */
export class AddTaskListIndexes1765238400000 implements MigrationInterface {
  name = 'AddTaskListIndexes1765238400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_id_status" ON "download_tasks" ("id", "status")`);
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_unfinished" ON "download_tasks" ("id") WHERE "status" != 'success'`);
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_success" ON "download_tasks" ("id") WHERE "status" = 'success'`);
    // PostgreSQL counts by itself, and several nodes writing at once would all queue on one counter row
    if (storeKind(queryRunner) === 'postgres') return;
    await createStatusCounts(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (storeKind(queryRunner) !== 'postgres') await this.dropCounts(queryRunner);
    await queryRunner.query(`DROP INDEX "idx_download_tasks_success"`);
    await queryRunner.query(`DROP INDEX "idx_download_tasks_unfinished"`);
    await queryRunner.query(`DROP INDEX "idx_download_tasks_id_status"`);
  }

  private async dropCounts(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "trg_download_tasks_count_update"`);
    await queryRunner.query(`DROP TRIGGER "trg_download_tasks_count_delete"`);
    await queryRunner.query(`DROP TRIGGER "trg_download_tasks_count_insert"`);
    await queryRunner.query(`DROP TABLE "download_status_counts"`);
  }
}

/** The per-status counts, filled from the tasks stored, and the triggers that keep them (also the way back from CountTasksByIdRange). */
export async function createStatusCounts(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`CREATE TABLE "download_status_counts" ("status" varchar(16) PRIMARY KEY NOT NULL, "count" integer NOT NULL)`);
  await queryRunner.query(`INSERT INTO "download_status_counts" ("status", "count") SELECT "status", COUNT(*) FROM "download_tasks" GROUP BY "status"`);
  await queryRunner.query(`
    CREATE TRIGGER "trg_download_tasks_count_insert" AFTER INSERT ON "download_tasks"
    BEGIN
      INSERT INTO "download_status_counts" ("status", "count") VALUES (NEW."status", 1)
        ON CONFLICT ("status") DO UPDATE SET "count" = "count" + 1;
    END`);
  await queryRunner.query(`
    CREATE TRIGGER "trg_download_tasks_count_delete" AFTER DELETE ON "download_tasks"
    BEGIN
      UPDATE "download_status_counts" SET "count" = "count" - 1 WHERE "status" = OLD."status";
    END`);
  await queryRunner.query(`
    CREATE TRIGGER "trg_download_tasks_count_update" AFTER UPDATE OF "status" ON "download_tasks" WHEN OLD."status" IS NOT NEW."status"
    BEGIN
      UPDATE "download_status_counts" SET "count" = "count" - 1 WHERE "status" = OLD."status";
      INSERT INTO "download_status_counts" ("status", "count") VALUES (NEW."status", 1)
        ON CONFLICT ("status") DO UPDATE SET "count" = "count" + 1;
    END`);
}
