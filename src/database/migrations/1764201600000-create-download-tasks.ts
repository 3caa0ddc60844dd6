import type { MigrationInterface, QueryRunner } from 'typeorm';
import { storeKind } from '../../common/store-kind.js';

export class CreateDownloadTasks1764201600000 implements MigrationInterface {
  name = 'CreateDownloadTasks1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (storeKind(queryRunner) === 'postgres') {
      // byte counts are bigint here (SQLite's integer is 64-bit already)
      await queryRunner.query(`
        CREATE TABLE "download_tasks" (
          "id" SERIAL PRIMARY KEY,
          "name" text NOT NULL,
          "nameIsDerived" boolean NOT NULL DEFAULT false,
          "type" varchar(16) NOT NULL,
          "url" text NOT NULL,
          "folder" text NOT NULL DEFAULT '',
          "headers" text NOT NULL DEFAULT '',
          "isLive" boolean NOT NULL DEFAULT false,
          "status" varchar(16) NOT NULL DEFAULT 'waiting',
          "file" text,
          "localPath" text,
          "deleteSegments" boolean NOT NULL DEFAULT true,
          "downloadedBytes" bigint NOT NULL DEFAULT 0,
          "totalBytes" bigint,
          "percent" real,
          "error" text,
          "queuedAt" varchar(32),
          "createdDate" varchar(32) NOT NULL,
          "updatedDate" varchar(32) NOT NULL
        )`);
    } else {
      await queryRunner.query(`
        CREATE TABLE "download_tasks" (
          "id" integer PRIMARY KEY AUTOINCREMENT NOT NULL,
          "name" text NOT NULL,
          "nameIsDerived" boolean NOT NULL DEFAULT (0),
          "type" varchar(16) NOT NULL,
          "url" text NOT NULL,
          "folder" text NOT NULL DEFAULT (''),
          "headers" text NOT NULL DEFAULT (''),
          "isLive" boolean NOT NULL DEFAULT (0),
          "status" varchar(16) NOT NULL DEFAULT ('waiting'),
          "file" text,
          "localPath" text,
          "deleteSegments" boolean NOT NULL DEFAULT (1),
          "downloadedBytes" integer NOT NULL DEFAULT (0),
          "totalBytes" integer,
          "percent" real,
          "error" text,
          "queuedAt" varchar(32),
          "createdDate" varchar(32) NOT NULL,
          "updatedDate" varchar(32) NOT NULL
        )`);
    }
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_status" ON "download_tasks" ("status")`);
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_queued_at" ON "download_tasks" ("queuedAt")`);
    await queryRunner.query(`CREATE INDEX "idx_download_tasks_created_date" ON "download_tasks" ("createdDate")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "download_tasks"`);
  }
}
