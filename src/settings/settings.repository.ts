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
    return Object.fromEntries(rows.map((row) => [row.key, JSON.parse(row.value)]));
  }

  /** Saves the given values and removes the keys given as null, in one transaction. */
  async apply(changes: Record<string, unknown>): Promise<void> {
    await this.orm.manager.transaction(async (manager) => {
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) await manager.delete(SettingEntity, { key });
        else await manager.save(SettingEntity, { key, value: JSON.stringify(value), updatedDate: nowIso() });
      }
    });
  }
}
