import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { SettingEntity } from './setting.entity.js';
import { nowIso } from '../common/iso-time.js';

/** The saved settings, as key → parsed JSON value. */
@Injectable()
export class SettingsRepository {
  constructor(@InjectRepository(SettingEntity) private readonly orm: Repository<SettingEntity>) {}

  async all(): Promise<Record<string, unknown>> {
    const rows = await this.orm.find();
    // a JSON null is a removed setting that SQLite's apply() has not cleared yet
    return Object.fromEntries(rows.filter((row) => row.value !== 'null').map((row) => [row.key, JSON.parse(row.value)]));
  }

  /** Saves the given values and removes the keys given as null, all of them or none. */
  async apply(changes: Record<string, unknown>): Promise<void> {
    const entries = Object.entries(changes);
    if (entries.length === 0) return;
    if (this.orm.manager.connection.options.type !== 'postgres') return this.applyAtOnce(entries);
    await this.orm.manager.transaction(async (manager) => {
      for (const [key, value] of entries) {
        if (value === null) await manager.delete(SettingEntity, { key });
        else await manager.save(SettingEntity, { key, value: JSON.stringify(value), updatedDate: nowIso() });
      }
    });
  }

  /**
   * SQLite: one upsert of every key, its values one bound JSON array; a removed key is written as JSON null, then
   * cleared. One statement is atomic by itself: no transaction is opened on the one connection that every other
   * query of the service shares, where a rollback would also undo their writes.
   */
  private async applyAtOnce(entries: Array<[string, unknown]>): Promise<void> {
    const rows = JSON.stringify(entries.map(([key, value]) => [key, JSON.stringify(value)]));
    // WHERE true: SQLite's grammar needs it to read ON CONFLICT as the upsert's, not the SELECT's join
    await this.orm.query(
      `INSERT INTO "settings" ("key", "value", "updatedDate") SELECT "value" ->> 0, "value" ->> 1, ? FROM json_each(?) WHERE true
        ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "updatedDate" = excluded."updatedDate"`,
      [nowIso(), rows],
    );
    await this.orm.query(`DELETE FROM "settings" WHERE "value" = 'null'`);
  }
}
