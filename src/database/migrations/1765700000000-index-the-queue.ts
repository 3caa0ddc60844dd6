import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The queue in claim order: the queued tasks only (waiting, with a queuedAt), by queuedAt then id, so that a
 * claim reads its first entry. Before it, a claim searched the status index for every waiting task, queued or
 * not, and sorted them: 8–10 ms with 10,000 unqueued ones among 100,000 tasks, on SQLite's one connection,
 * where every API read queued behind it.
 */
export class IndexTheQueue1765700000000 implements MigrationInterface {
  name = 'IndexTheQueue1765700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_queue" ON "download_tasks" ("queuedAt", "id") WHERE "status" = 'waiting' AND "queuedAt" IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "idx_download_tasks_queue"`);
  }
}
