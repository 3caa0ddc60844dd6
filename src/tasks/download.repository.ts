import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, MoreThan, type ObjectLiteral, type Repository, type SelectQueryBuilder } from 'typeorm';
import { DownloadEntity } from './download.entity.js';
import { nowIso } from '../common/iso-time.js';
import { DownloadStatus } from './download-status.enum.js';

export type NewDownload = Omit<DownloadEntity, 'id' | 'createdDate' | 'updatedDate'>;
/** A new task as it is stored before its first start: what describes it, plus the idle state. */
export function newDownload(description: Pick<NewDownload, 'type' | 'url' | 'name' | 'nameIsDerived' | 'folder' | 'headers' | 'isLive' | 'speedLimit'>, queuedAt: string | null): NewDownload {
  return {
    ...description,
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

export type DownloadPatch = Partial<Omit<DownloadEntity, 'id' | 'createdDate' | 'updatedDate'>>;

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

/** The conditions of the partial indexes of the download_tasks entity, as SQL. */
const UNFINISHED = `"status" != '${DownloadStatus.Success}'`;
const SUCCEEDED = `"status" = '${DownloadStatus.Success}'`;

/** The number of tasks in each status, kept by triggers on download_tasks (migration AddTaskListIndexes). */
const STATUS_COUNTS = 'download_status_counts';

/**
 * The index a page's ids are skipped through, for the lists the dashboard shows (everything, done, everything
 * but done): its entries are those of the list, so skipping one costs no test. Other filters: the planner's choice.
 */
function pageIndex(query: PageQuery): { index: string; where: string | null } | null {
  if (query.under || query.search) return null;
  if (!query.statuses && !query.excludeStatus) return { index: 'idx_download_tasks_id_status', where: null };
  if (!query.statuses && query.excludeStatus === DownloadStatus.Success) return { index: 'idx_download_tasks_unfinished', where: UNFINISHED };
  if (!query.excludeStatus && query.statuses?.length === 1 && query.statuses[0] === DownloadStatus.Success) return { index: 'idx_download_tasks_success', where: SUCCEEDED };
  return null;
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

  /**
   * One INSERT per chunk, then one read of the ids above the largest before it: ids only grow (AUTOINCREMENT)
   * and inserts run one transaction at a time, so those rows are this chunk. (Stamps would not do: they run
   * ahead of the clock by a millisecond a row, and a restarted process stamps from the clock again.)
   */
  private insertInTransaction(rows: NewDownload[]): Promise<DownloadEntity[]> {
    return this.orm.manager.transaction(async (manager) => {
      const saved: DownloadEntity[] = [];
      for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
        const chunk = rows.slice(start, start + INSERT_CHUNK).map((row) => {
          const stamp = nowIso();
          return { ...row, createdDate: stamp, updatedDate: stamp };
        });
        const [{ last }] = (await manager.query('SELECT COALESCE(MAX(id), 0) AS last FROM download_tasks')) as Array<{ last: number }>;
        await manager.query(...this.insertStatement(chunk));
        const written = await manager.find(DownloadEntity, { where: { id: MoreThan(last) }, order: { id: 'ASC' } });
        if (written.length !== chunk.length) throw new Error(`wrote ${chunk.length} tasks but read back ${written.length}`);
        saved.push(...written);
      }
      return saved;
    });
  }

  /**
   * A multi-row INSERT with bound values, built from the entity's columns: the query builder takes about as long
   * to build one for 500 rows as SQLite takes to run it. Values are converted as the ORM converts them (booleans).
   */
  private insertStatement(rows: Array<Omit<DownloadEntity, 'id'>>): [string, unknown[]] {
    const { connection } = this.orm.manager;
    const columns = this.orm.metadata.columns.filter((column) => !column.isGenerated);
    const names = columns.map((column) => connection.driver.escape(column.databaseName)).join(', ');
    const row = `(${columns.map(() => '?').join(', ')})`;
    const values = rows.flatMap((entity) => columns.map((column) => connection.driver.preparePersistentValue(column.getEntityValue(entity) ?? null, column)));
    return [`INSERT INTO ${connection.driver.escape(this.orm.metadata.tableName)} (${names}) VALUES ${rows.map(() => row).join(', ')}`, values];
  }

  findById(id: number): Promise<DownloadEntity | null> {
    return this.orm.findOneBy({ id });
  }

  findByIds(ids: number[]): Promise<DownloadEntity[]> {
    return this.orm.findBy({ id: In(ids) });
  }

  /**
   * One page, newest first, and the total of all matches. The page's ids are read from an index (skipping
   * `offset` entries there, not rows), from whichever end of the matches is nearer, then only its rows are
   * loaded; the total comes from the per-status counts unless a directory or a search narrows the list.
   */
  async page(query: PageQuery): Promise<{ total: number; list: DownloadEntity[] }> {
    const total = await this.pageTotal(query);
    const offset = (query.current - 1) * query.pageSize;
    const end = Math.min(offset + query.pageSize, total);
    if (offset >= end) return { total, list: [] };
    // a deep page is the same rows counted from the oldest match: past the middle that is the shorter skip
    const fromOldest = offset > total - end;
    const direction = fromOldest ? 'ASC' : 'DESC';
    const limit = end - offset;
    const skip = fromOldest ? total - end : offset;
    const list = await this.orm
      .createQueryBuilder('task')
      .where((outer) => {
        const indexed = pageIndex(query);
        if (indexed) {
          // literal SQL: a partial index serves a query only when its condition is written out, not bound
          return `task.id IN (SELECT id FROM download_tasks INDEXED BY ${indexed.index}${indexed.where ? ` WHERE ${indexed.where}` : ''} ORDER BY id ${direction} LIMIT ${limit} OFFSET ${skip})`;
        }
        const ids = this.applyPageFilter(outer.subQuery().select('match.id').from(DownloadEntity, 'match'), 'match', query).orderBy('match.id', direction).limit(limit).offset(skip);
        return `task.id IN ${ids.getQuery()}`;
      })
      .orderBy('task.id', 'DESC')
      .getMany();
    return { total, list };
  }

  /** The number of tasks a page query matches: from the per-status counts when only statuses narrow it. */
  private async pageTotal(query: PageQuery): Promise<number> {
    if (query.under || query.search) return this.applyPageFilter(this.orm.createQueryBuilder('task'), 'task', query).getCount();
    const counts = this.orm.manager.createQueryBuilder().select('COALESCE(SUM(counts.count), 0)', 'total').from(STATUS_COUNTS, 'counts');
    if (query.statuses) counts.andWhere('counts.status IN (:...statuses)', { statuses: query.statuses });
    if (query.excludeStatus) counts.andWhere('counts.status != :excluded', { excluded: query.excludeStatus });
    const row = await counts.getRawOne<{ total: number | string }>();
    return Number(row?.total ?? 0);
  }

  /** The page query's conditions on the tasks under `alias`. */
  private applyPageFilter<T extends SelectQueryBuilder<ObjectLiteral>>(builder: T, alias: string, query: PageQuery): T {
    if (query.statuses) builder.andWhere(`${alias}.status IN (:...statuses)`, { statuses: query.statuses });
    if (query.excludeStatus) builder.andWhere(`${alias}.status != :excluded`, { excluded: query.excludeStatus });
    if (query.under) {
      // an exact, case-sensitive prefix test on where the files go: LIKE would ignore ASCII case and need escaping
      const directory = query.under.directory.replace(/\/+$/, '') || '/';
      const prefix = directory.endsWith('/') ? directory : `${directory}/`;
      const saved = `(COALESCE(${alias}.localPath, :defaultDirectory) || CASE WHEN ${alias}.folder = '' THEN '' ELSE '/' || ${alias}.folder END)`;
      builder.andWhere(`(${saved} = :directory OR substr(${saved}, 1, length(:prefix)) = :prefix)`, {
        directory,
        prefix,
        defaultDirectory: query.under.defaultDirectory,
      });
    }
    if (query.search) {
      // LIKE with its wildcards escaped: a literal substring, ASCII case ignored on SQLite and PostgreSQL alike
      const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      builder.andWhere(`(LOWER(${alias}.name) LIKE :pattern ESCAPE '\\' OR LOWER(${alias}.url) LIKE :pattern ESCAPE '\\')`, { pattern });
    }
    return builder;
  }

  findActive(): Promise<DownloadEntity[]> {
    return this.orm.find({ where: { status: In([DownloadStatus.Waiting, DownloadStatus.Downloading]) }, order: { id: 'DESC' } });
  }

  /**
   * Tasks that held or waited for a slot when the service last stopped, in queue order. Written as IS NOT NULL
   * (the ORM's Not(IsNull()) is NOT (… IS NULL)) so that SQLite seeks past the unqueued tasks in the queuedAt
   * index instead of reading every entry of it.
   */
  findQueued(): Promise<DownloadEntity[]> {
    return this.orm.createQueryBuilder('task').where('task.queuedAt IS NOT NULL').orderBy('task.queuedAt', 'ASC').addOrderBy('task.id', 'ASC').getMany();
  }

  /** How many tasks are in each status (statuses without tasks are absent), from the counts the triggers keep. */
  async countByStatus(): Promise<Partial<Record<DownloadStatus, number>>> {
    const rows = await this.orm.manager
      .createQueryBuilder()
      .select('counts.status', 'status')
      .addSelect('counts.count', 'count')
      .from(STATUS_COUNTS, 'counts')
      .where('counts.count > 0')
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

  async update(id: number, patch: DownloadPatch): Promise<void> {
    await this.orm.update({ id }, { ...patch, updatedDate: nowIso() });
  }

  async updateMany(ids: number[], patch: DownloadPatch): Promise<void> {
    if (ids.length > 0) await this.orm.update({ id: In(ids) }, { ...patch, updatedDate: nowIso() });
  }

  /** Progress is written at a modest rate and does not count as an edit (updatedDate stays). */
  async saveProgress(id: number, progress: Pick<DownloadEntity, 'downloadedBytes' | 'totalBytes' | 'percent'>): Promise<void> {
    await this.orm.update({ id }, progress);
  }

  /** Tasks saving into the default directory get it written down, so that a new default does not move them. */
  async pinDefaultDirectory(directory: string): Promise<void> {
    await this.orm.update({ localPath: IsNull() }, { localPath: directory });
  }

  async delete(id: number): Promise<void> {
    await this.orm.delete({ id });
  }
}
