import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DownloadType } from '../common/download-type.enum.js';
import { DownloadStatus } from './download-status.enum.js';

/**
 * The conditions of the partial indexes below, as SQL. The repository's queries repeat them word for word: a
 * planner only uses a partial index for a query whose WHERE implies its condition.
 */
export const UNFINISHED = `"status" != '${DownloadStatus.Success}'`;
export const SUCCEEDED = `"status" = '${DownloadStatus.Success}'`;
/** The queue: waiting tasks that were queued (a waiting task without a queuedAt waits for a start command). */
export const QUEUED = `"status" = '${DownloadStatus.Waiting}' AND "queuedAt" IS NOT NULL`;

/** One download task as stored. Dates are ISO 8601 UTC strings, so no driver ever shifts a time zone. */
@Entity({ name: 'download_tasks' })
// a page's ids are skipped through these, not through the rows (see the repository's page())
@Index('idx_download_tasks_id_status', ['id', 'status'])
@Index('idx_download_tasks_unfinished', ['id'], { where: UNFINISHED })
@Index('idx_download_tasks_success', ['id'], { where: SUCCEEDED })
// the queue in claim order (see the repository's queueInOrder())
@Index('idx_download_tasks_queue', ['queuedAt', 'id'], { where: QUEUED })
export class DownloadEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'text' })
  name: string;

  /** True when the name came from the URL: a strategy may replace it with the media's title. */
  @Column({ type: 'boolean', default: false })
  nameIsDerived: boolean;

  @Column({ type: 'varchar', length: 16 })
  type: DownloadType;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'text', default: '' })
  folder: string;

  @Column({ type: 'text', default: '' })
  headers: string;

  @Column({ type: 'boolean', default: false })
  isLive: boolean;

  @Index('idx_download_tasks_status')
  @Column({ type: 'varchar', length: 16, default: DownloadStatus.Waiting })
  status: DownloadStatus;

  @Column({ type: 'text', nullable: true, default: null })
  file: string | null;

  @Column({ type: 'text', nullable: true, default: null })
  localPath: string | null;

  @Column({ type: 'boolean', default: true })
  deleteSegments: boolean;

  /** Byte counts and rates are bigint: past 2 GiB on PostgreSQL (numbers in JS: the pg driver is told to read int8 as one). */
  @Column({ type: 'bigint', default: 0 })
  downloadedBytes: number;

  @Column({ type: 'bigint', nullable: true, default: null })
  totalBytes: number | null;

  @Column({ type: 'real', nullable: true, default: null })
  percent: number | null;

  @Column({ type: 'text', nullable: true, default: null })
  error: string | null;

  /** Set while the task waits for or holds a slot: what boot recovery queues again, in this order. */
  @Index('idx_download_tasks_queued_at')
  @Column({ type: 'varchar', length: 32, nullable: true, default: null })
  queuedAt: string | null;

  /**
   * Raised when a run starts, cleared when it ends in any way the service writes down (success, failure,
   * stop, clean shutdown): a value left over at boot means the process died during the run. At 2 the task fails.
   */
  @Column({ type: 'integer', default: 0 })
  interruptedRuns: number;

  /** This task's own limit in bytes per second (the global SPEED_LIMIT applies as well); null: none. */
  @Column({ type: 'bigint', nullable: true, default: null })
  speedLimit: number | null;

  /** The node holding this task's lease while it runs (several nodes on one database). */
  @Index('idx_download_tasks_owner_node')
  @Column({ type: 'varchar', length: 64, nullable: true, default: null })
  ownerNode: string | null;

  /** The running lease's token: every write about the run names it, so a node whose lease was taken writes nothing. */
  @Column({ type: 'varchar', length: 36, nullable: true, default: null })
  leaseToken: string | null;

  /** When the lease ends unless its node renews it (ISO time of the database's clock). */
  @Index('idx_download_tasks_lease_expires_at')
  @Column({ type: 'varchar', length: 32, nullable: true, default: null })
  leaseExpiresAt: string | null;

  /** The node that saved `file` (it is only on that node's disk unless DOWNLOAD_DIR is shared). */
  @Column({ type: 'varchar', length: 64, nullable: true, default: null })
  fileNode: string | null;

  /** A finished task downloaded again: its earlier file, which the new run's file replaces. */
  @Column({ type: 'text', nullable: true, default: null })
  replacesFile: string | null;

  /** Bumped by every change but progress: a command writes only if the task is still as it was read. */
  @Column({ type: 'integer', default: 0 })
  version: number;

  /** "best", "audio" or a maximum picture height ("1080"); null: the installation's default. */
  @Column({ type: 'varchar', length: 16, nullable: true, default: null })
  quality: string | null;

  /** Preferred audio languages, comma-separated BCP-47 tags, best first; null: the installation's default. */
  @Column({ type: 'text', nullable: true, default: null })
  audioLanguage: string | null;

  /** Subtitle languages to save, comma-separated BCP-47 tags ("" none); null: the installation's default. */
  @Column({ type: 'text', nullable: true, default: null })
  subtitleLanguages: string | null;

  /** Every file the task saved (the main file, its subtitles, the parts of a live recording), as a JSON array of absolute paths. */
  @Column({ type: 'text', default: '[]', transformer: { to: (paths: string[] | undefined) => (paths === undefined ? undefined : JSON.stringify(paths)), from: parsePaths } })
  outputs: string[];

  @Index('idx_download_tasks_created_date')
  @Column({ type: 'varchar', length: 32 })
  createdDate: string;

  @Column({ type: 'varchar', length: 32 })
  updatedDate: string;
}

function parsePaths(text: string | null): string[] {
  try {
    const value: unknown = JSON.parse(text ?? '[]');
    return Array.isArray(value) ? value.filter((path): path is string => typeof path === 'string') : [];
  } catch {
    return [];
  }
}
