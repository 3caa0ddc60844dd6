import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One saved setting of the installation: its key and JSON value. A missing row means "the environment's value". */
@Entity('settings')
export class SettingEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key: string;

  @Column({ type: 'text' })
  value: string;

  @Column({ type: 'varchar', length: 32 })
  updatedDate: string;
}
