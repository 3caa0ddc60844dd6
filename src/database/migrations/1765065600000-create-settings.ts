import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSettings1765065600000 implements MigrationInterface {
  name = 'CreateSettings1765065600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "settings" (
        "key" varchar(64) PRIMARY KEY NOT NULL,
        "value" text NOT NULL,
        "updatedDate" varchar(32) NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "settings"`);
  }
}
