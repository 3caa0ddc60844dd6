import type { MigrationInterface, QueryRunner } from 'typeorm';
import { storeKind } from '../../common/store-kind.js';

/**
 * What lets several nodes share the tasks: a running task's lease (owner node, token, expiry), the node that
 * saved its file, the file a re-download replaces, and a version every change bumps (commands write only what
 * they decided on). On PostgreSQL, cluster_messages carries events too large for a NOTIFY.
 */
export class AddTaskLeases1765400000000 implements MigrationInterface {
  name = 'AddTaskLeases1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = storeKind(queryRunner) === 'postgres';
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "ownerNode" varchar(64)`);
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "leaseToken" varchar(36)`);
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "leaseExpiresAt" varchar(32)`);
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "fileNode" varchar(64)`);
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "replacesFile" text`);
    await queryRunner.query(`ALTER TABLE "download_tasks" ADD COLUMN "version" integer NOT NULL DEFAULT ${postgres ? '0' : '(0)'}`);
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_lease_expires_at" ON "download_tasks" ("leaseExpiresAt")`);
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_owner_node" ON "download_tasks" ("ownerNode")`);
    if (postgres) {
      await queryRunner.query(`CREATE TABLE "cluster_messages" ("id" bigserial PRIMARY KEY, "body" text NOT NULL, "createdAt" timestamptz NOT NULL DEFAULT now())`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (storeKind(queryRunner) === 'postgres') await queryRunner.query(`DROP TABLE "cluster_messages"`);
    await queryRunner.query(`DROP INDEX "idx_download_tasks_owner_node"`);
    await queryRunner.query(`DROP INDEX "idx_download_tasks_lease_expires_at"`);
    for (const column of ['version', 'replacesFile', 'fileNode', 'leaseExpiresAt', 'leaseToken', 'ownerNode']) {
      await queryRunner.query(`ALTER TABLE "download_tasks" DROP COLUMN "${column}"`);
    }
  }
}
