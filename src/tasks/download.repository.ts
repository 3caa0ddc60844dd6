import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Between, In, IsNull, Not, type Repository } from 'typeorm';
import { DownloadEntity } from './download.entity.js';
import { nowIso } from '../common/iso-time.js';
import { DownloadStatus } from './download-status.enum.js';

export type NewDownload = Omit<DownloadEntity, 'id' | 'createdDate' | 'updatedDate'>;
/** A new task as it is stored before its first start: what describes it, plus the idle state. */
export function newDownload(
  description: Pick<NewDownload, 'type' | 'url' | 'name' | 'nameIsDerived' | 'folder' | 'headers' | 'isLive' | 'speedLimit'> & Partial<MediaChoiceColumns>,
  queuedAt: string | null,
): NewDownload {
  return {
    quality: null,
    audioLanguage: null,
    subtitleLanguages: null,
    ...description,
    outputs: [],
    status: DownloadStatus.Waiting,
    file: null,
    localPath: null,
    deleteSegments: true,
    downloadedBytes: 0,
    totalBytes: null,
    percent: null,
    error: null,
    queuedAt,
    interruptedRuns: 0,
  };
}

/** A task's own media choice as stored (null: the installation's default). */
export type MediaChoiceColumns = Pick<DownloadEntity, 'quality' | 'audioLanguage' | 'subtitleLanguages'>;

/** Figures a run writes down as it goes and when it ends. */
export type StoredProgress = Pick<DownloadEntity, 'downloadedBytes' | 'totalBytes' | 'percent'>;

/** How a queued run is to go: where it saves, whether its segments go, its own speed limit (undefined: unchanged). */
export interface QueuedRun {
  localPath: string | null;
  deleteSegments: boolean;
  speedLimit?: number | null;
  /** Its own media choice; a field left undefined is unchanged. */
  choice?: Partial<MediaChoiceColumns>;
  /** A finished task downloaded again: its files and figures start over. */
  restart: boolean;
}

/** `outputs`: every file the task has now (the main file included). */
export type SucceededRun = Pick<DownloadEntity, 'file' | 'name' | 'nameIsDerived' | 'downloadedBytes' | 'totalBytes' | 'outputs'>;

/** A live recording cut short: the part saved as the task's file, and every file the task has now. */
export type SavedPart = Pick<DownloadEntity, 'file' | 'outputs'>;

export type TaskDescriptionEdit = Partial<Pick<DownloadEntity, 'url' | 'name' | 'nameIsDerived' | 'headers' | 'speedLimit' | 'folder' | 'quality' | 'audioLanguage' | 'subtitleLanguages'>>;

export interface PageQuery {
  current: number;
  pageSize: number;
  statuses?: DownloadStatus[];
  excludeStatus?: DownloadStatus;
  /** Tasks saved in this directory or below it: their localPath (or the default) joined with their folder. */
  under?: { directory: string; defaultDirectory: string };
  /** Tasks whose name or URL contains this text. */
  search?: string;
}

/** Rows per INSERT: about 22 columns each stays far below SQLite's 32,766 bound variables. */
const INSERT_CHUNK = 500;

/** The only place that talks to the ORM about download tasks. */
@Injectable()
export class DownloadRepository {
  constructor(@InjectRepository(DownloadEntity) private readonly orm: Repository<DownloadEntity>) {}

  /** Transactions one at a time: SQLite has one connection here, and a second BEGIN inside the first fails. */
  private transactions: Promise<unknown> = Promise.resolve();

  async insertMany(rows: NewDownload[]): Promise<DownloadEntity[]> {
    const next = this.transactions.then(() => this.insertInTransaction(rows));
    this.transactions = next.catch(() => undefined);
    return next;
  }

  /** One INSERT per chunk, then one range read per chunk: no per-row statement or reload. */
  private insertInTransaction(rows: NewDownload[]): Promise<DownloadEntity[]> {
    return this.orm.manager.transaction(async (manager) => {
      const saved: DownloadEntity[] = [];
      for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
        const chunk = rows.slice(start, start + INSERT_CHUNK).map((row) => {
          const stamp = nowIso();
          return { ...row, createdDate: stamp, updatedDate: stamp };
        });
        await manager.createQueryBuilder().insert().into(DownloadEntity).values(chunk).updateEntity(false).execute();
        // stamps are unique and increase with every row, and inserts run one transaction at a time: the range is this chunk
        const first = chunk[0].createdDate;
        const last = chunk[chunk.length - 1].createdDate;
        saved.push(...(await manager.find(DownloadEntity, { where: { createdDate: Between(first, last) }, order: { id: 'ASC' } })));
      }
      return saved;
    });
  }

  findById(id: number): Promise<DownloadEntity | null> {
    return this.orm.findOneBy({ id });
  }

  findByIds(ids: number[]): Promise<DownloadEntity[]> {
    return this.orm.findBy({ id: In(ids) });
  }

  async page(query: PageQuery): Promise<{ total: number; list: DownloadEntity[] }> {
    const builder = this.orm.createQueryBuilder('task');
    if (query.statuses) builder.andWhere('task.status IN (:...statuses)', { statuses: query.statuses });
    if (query.excludeStatus) builder.andWhere('task.status != :excluded', { excluded: query.excludeStatus });
    if (query.under) {
      // an exact, case-sensitive prefix test on where the files go: LIKE would ignore ASCII case and need escaping
      const directory = query.under.directory.replace(/\/+$/, '') || '/';
      const prefix = directory.endsWith('/') ? directory : `${directory}/`;
      const saved = `(COALESCE(task.localPath, :defaultDirectory) || CASE WHEN task.folder = '' THEN '' ELSE '/' || task.folder END)`;
      builder.andWhere(`(${saved} = :directory OR substr(${saved}, 1, length(:prefix)) = :prefix)`, {
        directory,
        prefix,
        defaultDirectory: query.under.defaultDirectory,
      });
    }
    if (query.search) {
      // LIKE with its wildcards escaped: a literal substring, ASCII case ignored on SQLite and PostgreSQL alike
      const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      builder.andWhere("(LOWER(task.name) LIKE :pattern ESCAPE '\\' OR LOWER(task.url) LIKE :pattern ESCAPE '\\')", { pattern });
    }
    const [list, total] = await builder
      .orderBy('task.id', 'DESC')
      .skip((query.current - 1) * query.pageSize)
      .take(query.pageSize)
      .getManyAndCount();
    return { total, list };
  }

  findActive(): Promise<DownloadEntity[]> {
    return this.orm.find({ where: { status: In([DownloadStatus.Waiting, DownloadStatus.Downloading]) }, order: { id: 'DESC' } });
  }

  /** Tasks that held or waited for a slot when the service last stopped, in queue order. */
  findQueued(): Promise<DownloadEntity[]> {
    return this.orm.find({ where: { queuedAt: Not(IsNull()) }, order: { queuedAt: 'ASC', id: 'ASC' } });
  }

  /** How many tasks are in each status (statuses without tasks are absent). */
  async countByStatus(): Promise<Partial<Record<DownloadStatus, number>>> {
    const rows = await this.orm
      .createQueryBuilder('task')
      .select('task.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .groupBy('task.status')
      .getRawMany<{ status: DownloadStatus; count: string | number }>();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  async folders(): Promise<string[]> {
    const rows = await this.orm
      .createQueryBuilder('task')
      .select('DISTINCT task.folder', 'folder')
      .where("task.folder != ''")
      .orderBy('task.folder', 'ASC')
      .getRawMany<{ folder: string }>();
    return rows.map((row) => row.folder);
  }

  async urlsNewestFirst(): Promise<string[]> {
    const rows = await this.orm.find({ select: { url: true, id: true }, order: { id: 'DESC' } });
    return rows.map((row) => row.url);
  }

  /** Queued for a run, in queue order from now; a re-download of a finished task starts its figures over. */
  async markQueued(id: number, run: QueuedRun): Promise<void> {
    await this.write(id, {
      status: DownloadStatus.Waiting,
      queuedAt: nowIso(),
      error: null,
      localPath: run.localPath,
      deleteSegments: run.deleteSegments,
      ...(run.speedLimit !== undefined ? { speedLimit: run.speedLimit } : {}),
      ...definedOnly(run.choice ?? {}),
      ...(run.restart ? { file: null, outputs: [], downloadedBytes: 0, totalBytes: null, percent: null } : {}),
    });
  }

  /** A run holds a slot: counted, so that a run never written to an end shows at the next boot. */
  async markStarted(id: number, interruptedRuns: number): Promise<void> {
    await this.write(id, { status: DownloadStatus.Downloading, error: null, file: null, interruptedRuns });
  }

  /** Progress is written at a modest rate and does not count as an edit (updatedDate stays). */
  async saveProgress(id: number, progress: StoredProgress): Promise<void> {
    await this.orm.update({ id }, { downloadedBytes: progress.downloadedBytes, totalBytes: progress.totalBytes, percent: progress.percent });
  }

  async markSucceeded(id: number, result: SucceededRun): Promise<void> {
    await this.write(id, { ...result, status: DownloadStatus.Success, percent: 100, error: null, queuedAt: null, interruptedRuns: 0 });
  }

  /** Stopped while queued (no figures to keep) or after its run (figures kept for a resume; a recording's part as its file). */
  async markStopped(id: number, progress: StoredProgress | null = null, saved?: SavedPart): Promise<void> {
    await this.write(id, { ...(progress ?? {}), ...(saved ?? {}), status: DownloadStatus.Stopped, queuedAt: null, interruptedRuns: 0 });
  }

  async markFailed(id: number, error: string, progress: StoredProgress | null = null): Promise<void> {
    await this.write(id, { ...(progress ?? {}), status: DownloadStatus.Failed, error, queuedAt: null, interruptedRuns: 0 });
  }

  /** A client set the outcome itself: the tasks leave the queue with it. */
  async markByClient(ids: number[], status: DownloadStatus.Success | DownloadStatus.Failed): Promise<void> {
    if (ids.length === 0) return;
    await this.orm.update({ id: In(ids) }, { status, queuedAt: null, error: status === DownloadStatus.Failed ? 'marked failed by a client' : null, updatedDate: nowIso() });
  }

  /** A shutdown cut the run short: still queued, it resumes at the next boot; a clean end never counts as a crash. */
  /** `outputs`: a live recording's part was saved on the way down, and the task's files now include it. */
  async requeueAfterShutdown(id: number, progress: StoredProgress | null, outputs?: string[]): Promise<void> {
    await this.write(id, { ...(progress ?? {}), ...(outputs ? { outputs } : {}), status: DownloadStatus.Waiting, file: null, error: null, interruptedRuns: 0 });
  }

  async requeueAtBoot(id: number): Promise<void> {
    await this.write(id, { status: DownloadStatus.Waiting });
  }

  /** Runs ended by a clean shutdown, whether or not they notice in time, never count towards a crash loop. */
  async clearRunCounters(ids: number[]): Promise<void> {
    if (ids.length > 0) await this.orm.update({ id: In(ids) }, { interruptedRuns: 0 });
  }

  /** What a client may change of an idle task: what it downloads, how, and where. */
  async editDescription(id: number, description: TaskDescriptionEdit): Promise<void> {
    if (Object.keys(description).length > 0) await this.write(id, description);
  }

  async setLive(id: number, isLive: boolean): Promise<void> {
    await this.write(id, { isLive });
  }

  private async write(id: number, changes: Partial<Omit<DownloadEntity, 'id' | 'createdDate' | 'updatedDate'>>): Promise<void> {
    await this.orm.update({ id }, { ...changes, updatedDate: nowIso() });
  }

  /** Tasks saving into the default directory get it written down, so that a new default does not move them. */
  async pinDefaultDirectory(directory: string): Promise<void> {
    await this.orm.update({ localPath: IsNull() }, { localPath: directory });
  }

  async delete(id: number): Promise<void> {
    await this.orm.delete({ id });
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
