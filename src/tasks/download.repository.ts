import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { type EntityManager, In, IsNull, LessThan, MoreThan, type ObjectLiteral, QueryFailedError, type Repository, type SelectQueryBuilder } from 'typeorm';
import type { StoreKind } from '../common/store-kind.js';
import { DownloadEntity, QUEUED, SUCCEEDED, UNFINISHED } from './download.entity.js';
import { compileRowHydrator, type RowHydrator } from './row-hydrator.js';
import { StatementCachingDatabase } from './prepared-statements.js';
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
    ownerNode: null,
    leaseToken: null,
    leaseExpiresAt: null,
    fileNode: null,
    replacesFile: null,
    version: 0,
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
  /** A finished task downloaded again: its earlier file, which the new run replaces (its figures start over; its files stay listed until the run succeeds); null otherwise. */
  replacesFile: string | null;
}

/** `outputs`: every file the task has now (the main file included). */
export type SucceededRun = Pick<DownloadEntity, 'file' | 'fileNode' | 'name' | 'nameIsDerived' | 'downloadedBytes' | 'totalBytes' | 'outputs'>;

/** A task as read, for a write that must find it unchanged. */
export type Versioned = Pick<DownloadEntity, 'id' | 'version'>;

/** One run of a task, as every write about it names it. */
export interface RunLease {
  id: number;
  token: string;
}

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

/** SQLite's number of tasks per id range and status, kept by triggers on download_tasks (migration CountTasksByIdRange). */
const TASK_COUNTS = 'download_task_counts';
/** The ids a row of TASK_COUNTS counts: `id >> 10`, as the triggers compute it. */
const ID_RANGE = 1024;

/**
 * Where a page is among `total` matches, newest first: from whichever end of the matches is nearer, since a
 * deep page is the same rows counted from the oldest match, and past the middle that is the shorter skip.
 */
function pageWindow(query: PageQuery, total: number): { offset: number; limit: number; direction: 'ASC' | 'DESC' } {
  const start = (query.current - 1) * query.pageSize;
  const end = Math.min(start + query.pageSize, total);
  if (start >= end) return { offset: 0, limit: 0, direction: 'DESC' };
  const fromOldest = start > total - end;
  return { offset: fromOldest ? total - end : start, limit: end - start, direction: fromOldest ? 'ASC' : 'DESC' };
}

/**
 * The index a counted page's ids are skipped through, for the lists the dashboard shows (everything, done,
 * everything but done): its entries are those of the list, so skipping one costs no test. Other filters: the
 * planner's choice.
 */
function pageIndex(query: PageQuery): { index: string; where: string | null } | null {
  if (!query.statuses && !query.excludeStatus) return { index: 'idx_download_tasks_id_status', where: null };
  if (!query.statuses && query.excludeStatus === DownloadStatus.Success) return { index: 'idx_download_tasks_unfinished', where: UNFINISHED };
  if (!query.excludeStatus && query.statuses?.length === 1 && query.statuses[0] === DownloadStatus.Success) return { index: 'idx_download_tasks_success', where: SUCCEEDED };
  return null;
}

/** The statuses' condition of a page query on a table with a "status" column (the tasks, or SQLite's counts), and its parameters. */
function statusCondition(query: PageQuery): [sql: string | null, parameters: string[]] {
  const conditions: string[] = [];
  const parameters: string[] = [];
  if (query.statuses) {
    conditions.push(`"status" IN (${query.statuses.map(() => '?').join(', ')})`);
    parameters.push(...query.statuses);
  }
  if (query.excludeStatus) {
    conditions.push('"status" != ?');
    parameters.push(query.excludeStatus);
  }
  return [conditions.length ? conditions.join(' AND ') : null, parameters];
}

/** Rows per INSERT on PostgreSQL: about 30 columns each stays far below its 65,535 bound parameters. */
const INSERT_CHUNK = 500;

/** The only place that talks to the ORM about download tasks. */
@Injectable()
export class DownloadRepository {
  constructor(@InjectRepository(DownloadEntity) private readonly orm: Repository<DownloadEntity>) {}

  /** Inserts one at a time: each finds its own rows as the ids above the largest before it. */
  private inserts: Promise<unknown> = Promise.resolve();

  async insertMany(rows: NewDownload[]): Promise<DownloadEntity[]> {
    const next = this.inserts.then(() => (this.kind === 'postgres' ? this.insertInTransaction(rows) : this.insertAtOnce(rows)));
    this.inserts = next.catch(() => undefined);
    return next;
  }

  /**
   * SQLite: every row in one INSERT, its values one bound JSON array that SQLite unpacks (json_each), then one
   * read of the ids above the largest before it: ids only grow (AUTOINCREMENT) and only this inserts tasks, one
   * call at a time, so those rows are these. One statement is atomic by itself: no transaction is opened on the
   * one connection that every other query of the service shares, where a rollback would also undo their writes.
   * (Stamps would not do to find the rows: they run ahead of the clock by a millisecond a row, and a restarted
   * process stamps from the clock again.)
   */
  private async insertAtOnce(rows: NewDownload[]): Promise<DownloadEntity[]> {
    if (rows.length === 0) return [];
    const { names, values } = this.storedRows(rows);
    const picks = values[0].map((_, index) => `"value" ->> ${index}`).join(', ');
    const [{ last }] = (await this.orm.query('SELECT COALESCE(MAX(id), 0) AS last FROM download_tasks')) as Array<{ last: number }>;
    await this.orm.query(`INSERT INTO "download_tasks" (${names}) SELECT ${picks} FROM json_each(?) ORDER BY "key"`, [JSON.stringify(values)]);
    const written = await this.orm.find({ where: { id: MoreThan(last) }, order: { id: 'ASC' } });
    if (written.length !== rows.length) throw new Error(`wrote ${rows.length} tasks but read back ${written.length}`);
    return written;
  }

  /**
   * PostgreSQL: one multi-row INSERT per chunk in one transaction; each statement says which ids it took (other
   * nodes insert at the same time). Written here: the query builder takes about as long to build one for 500 rows
   * as the database takes to run it.
   */
  private insertInTransaction(rows: NewDownload[]): Promise<DownloadEntity[]> {
    return this.orm.manager.transaction(async (manager) => {
      const saved: DownloadEntity[] = [];
      for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
        const { names, values } = this.storedRows(rows.slice(start, start + INSERT_CHUNK));
        let bound = 0;
        const tuples = values.map((row) => `(${row.map(() => `$${++bound}`).join(', ')})`).join(', ');
        const inserted = (await manager.query(`INSERT INTO "download_tasks" (${names}) VALUES ${tuples} RETURNING "id"`, values.flat())) as Array<{ id: number }>;
        const written = await manager.find(DownloadEntity, { where: { id: In(inserted.map((row) => row.id)) }, order: { id: 'ASC' } });
        if (written.length !== values.length) throw new Error(`wrote ${values.length} tasks but read back ${written.length}`);
        saved.push(...written);
      }
      return saved;
    });
  }

  /**
   * New tasks as stored: each stamped now, created = updated, its values in the order of the entity's written
   * columns (`names`), converted as the ORM converts them (booleans, JSON).
   */
  private storedRows(rows: NewDownload[]): { names: string; values: unknown[][] } {
    const { driver } = this.orm.manager.connection;
    const columns = this.orm.metadata.columns.filter((column) => !column.isGenerated);
    const values = rows.map((row) => {
      const stamp = nowIso();
      const entity = { ...row, createdDate: stamp, updatedDate: stamp };
      return columns.map((column) => driver.preparePersistentValue(column.getEntityValue(entity) ?? null, column) as unknown);
    });
    return { names: columns.map((column) => driver.escape(column.databaseName)).join(', '), values };
  }

  findById(id: number): Promise<DownloadEntity | null> {
    return this.orm.findOneBy({ id });
  }

  findByIds(ids: number[]): Promise<DownloadEntity[]> {
    return this.orm.findBy({ id: In(ids) });
  }

  /**
   * One page, newest first, and the total of all matches. On SQLite, unless a directory or a search narrows the
   * list, one statement gives both: the total from the counts kept per range, the page's ids skipped to in an index
   * from the range the page starts in (countedPage). Otherwise the matches are counted, the page's ids are read
   * (skipping `offset` entries of an index, not rows, from whichever end of the matches is nearer), then only its
   * rows are loaded.
   */
  async page(query: PageQuery): Promise<{ total: number; list: DownloadEntity[] }> {
    if (this.kind === 'sqlite' && !query.under && !query.search) return this.countedPage(query);
    const total = await this.applyPageFilter(this.orm.createQueryBuilder('task'), 'task', query).getCount();
    const { offset, limit, direction } = pageWindow(query, total);
    if (limit === 0) return { total, list: [] };
    if (this.kind === 'sqlite') return { total, list: await this.sqlitePage(this.pageIds(query, direction, limit, offset)) };
    // PostgreSQL's planner finds the partial indexes by itself
    const list = this.orm
      .createQueryBuilder('task')
      .where((outer) => {
        const ids = this.applyPageFilter(outer.subQuery().select('match.id').from(DownloadEntity, 'match'), 'match', query).orderBy('match.id', direction).limit(limit).offset(offset);
        return `task.id IN ${ids.getQuery()}`;
      })
      .orderBy('task.id', 'DESC');
    const [sql, parameters] = list.getQueryAndParameters();
    const rows = (await this.orm.query(sql, parameters)) as Array<Record<string, unknown>>;
    const columns = this.orm.metadata.columns;
    return { total, list: rows.map((row) => this.hydrate()(columns.map((column) => row[`task_${column.databaseName}`]))) };
  }

  /**
   * A page on SQLite when only statuses narrow the list, in one statement: the counts per id range and status
   * give the total and the range the page starts in, so that the page's ids are skipped to from there, through
   * fewer than ID_RANGE index entries, however deep the page. One statement, not a count and then a page: each
   * statement is a round trip to the sqlite3 binding's worker thread and back, and on a busy machine each of
   * those hand-offs is a chance for a thread to wait for a core (and a prepared statement, queryPrepared, saves another).
   */
  private async countedPage(query: PageQuery): Promise<{ total: number; list: DownloadEntity[] }> {
    const start = (query.current - 1) * query.pageSize;
    const [statuses, parameters] = statusCondition(query);
    const indexed = pageIndex(query);
    // the page's ids: those of the range the page starts in and below it, skipped through in an index
    const hint = indexed ? `INDEXED BY "${indexed.index}"` : '';
    const matches = [indexed ? indexed.where : statuses, `"id" < (SELECT ("range" + 1) * ${ID_RANGE} FROM "bound")`].filter(Boolean).join(' AND ');
    const [answer] = await this.queryPrepared<{ total: number; rows: string }>(
      `WITH "ranges" AS (
          SELECT "range", SUM("count") AS "n" FROM "${TASK_COUNTS}"${statuses ? ` WHERE ${statuses}` : ''} GROUP BY "range" HAVING SUM("count") > 0),
        "reach" AS (SELECT "range", "n", SUM("n") OVER (ORDER BY "range" DESC ROWS UNBOUNDED PRECEDING) AS "upTo" FROM "ranges"),
        "bound" AS (SELECT "range", ? - ("upTo" - "n") AS "skip" FROM "reach" WHERE "upTo" > ? ORDER BY "range" DESC LIMIT 1)
      SELECT (SELECT COALESCE(SUM("n"), 0) FROM "ranges") AS "total", (${this.jsonPageSelect()} WHERE "id" IN (
        SELECT "id" FROM "download_tasks" ${hint} WHERE ${matches}
        ORDER BY "id" DESC LIMIT ? + 0 OFFSET COALESCE((SELECT "skip" FROM "bound"), 0))) AS "rows"`,
      // In the order the SQL names them; the SQL is the same for every page of a filter, so it stays prepared. The
      // limit is `? + 0`: SQLite reads a bare `LIMIT ?` as a constant of the plan and prepares the statement again
      // whenever it is bound (measured: the kept statement then cost as much as a new one, 0.95 against 0.66 ms).
      [...parameters, start, start, ...(indexed ? [] : parameters), query.pageSize],
    );
    return { total: answer.total, list: this.hydrateRows(answer.rows) };
  }

  /** Rows of a SQL statement run on every page request: kept prepared on SQLite's connection (StatementCachingDatabase says why). */
  private queryPrepared<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    const connection: unknown = (this.orm.manager.connection.driver as { databaseConnection?: unknown }).databaseConnection;
    if (connection instanceof StatementCachingDatabase) {
      // failing as the ORM's own queries fail
      return connection.allPrepared<T>(sql, parameters).catch((error: Error) => Promise.reject(new QueryFailedError(sql, parameters, error)));
    }
    return this.orm.query(sql, parameters) as Promise<T[]>;
  }

  /** The SQL (and its parameters) that selects a page's ids on SQLite, `skip` matches from the newest (DESC) or the oldest (ASC). */
  private pageIds(query: PageQuery, direction: 'ASC' | 'DESC', limit: number, skip: number): [string, unknown[]] {
    const builder = this.applyPageFilter(this.orm.manager.createQueryBuilder().select('match.id').from(DownloadEntity, 'match'), 'match', query);
    return builder.orderBy('match.id', direction).limit(limit).offset(skip).getQueryAndParameters();
  }

  /**
   * The rows of a page's ids on SQLite, newest first, as one JSON text that SQLite writes and JSON.parse reads
   * back: the sqlite3 binding builds a JS object per row cell by cell, which for 100 rows of 31 columns cost four
   * times the CPU of the query itself (measured: 2.4 against 0.6 ms a page).
   */
  private async sqlitePage([ids, parameters]: [string, unknown[]]): Promise<DownloadEntity[]> {
    const [answer] = (await this.orm.query(`${this.jsonPageSelect()} WHERE "id" IN (${ids})`, parameters)) as Array<{ rows: string }>;
    return this.hydrateRows(answer.rows);
  }

  /**
   * SELECT … FROM download_tasks with each row as a JSON array of the entity's columns, in metadata order: one JSON
   * text, in no particular order (hydrateRows puts it newest first: an ORDER BY inside json_group_array sorts the
   * rows' JSON texts in a temporary b-tree, which cost SQLite a third of the page's statement).
   */
  private jsonPageSelect(): string {
    this.jsonPageSelectSql ??= `SELECT json_group_array(json_array(${this.orm.metadata.columns.map((column) => `"${column.databaseName}"`).join(', ')})) AS "rows" FROM "download_tasks"`;
    return this.jsonPageSelectSql;
  }

  private jsonPageSelectSql?: string;

  /** The tasks of a jsonPageSelect's text, newest first. */
  private hydrateRows(rows: string): DownloadEntity[] {
    const id = this.orm.metadata.columns.findIndex((column) => column.propertyName === 'id');
    const values = (JSON.parse(rows) as unknown[][]).sort((a, b) => (b[id] as number) - (a[id] as number));
    return values.map(this.hydrate());
  }

  /** Builds a task from its stored values, in metadata order, as the ORM would, without the ORM's general result transformer (compileRowHydrator says why). */
  private hydrate(): RowHydrator<DownloadEntity> {
    this.hydrator ??= compileRowHydrator(DownloadEntity, this.orm.metadata.columns, this.orm.manager.connection.driver);
    return this.hydrator;
  }

  private hydrator?: RowHydrator<DownloadEntity>;

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
   * The ids of the tasks that waited for a slot when the service last stopped, in queue order: ids only, since a
   * restart may find thousands, read in order from the queue's own index.
   */
  async findWaitingIds(): Promise<number[]> {
    const rows = (await this.orm.query(this.queueInOrder())) as Array<{ id: number | string }>;
    return rows.map((row) => Number(row.id));
  }

  /** How many tasks are in each status (statuses without tasks are absent), from the counts the triggers keep. */
  async countByStatus(): Promise<Partial<Record<DownloadStatus, number>>> {
    if (this.kind === 'postgres') {
      // several nodes change tasks at once there: a shared counter row per status would be every write's bottleneck
      const counted = await this.orm.createQueryBuilder('task').select('task.status', 'status').addSelect('COUNT(*)', 'count').groupBy('task.status').getRawMany<{ status: DownloadStatus; count: string | number }>();
      return Object.fromEntries(counted.map((row) => [row.status, Number(row.count)]));
    }
    const rows = (await this.orm.query(`SELECT "status", SUM("count") AS "count" FROM "${TASK_COUNTS}" GROUP BY "status" HAVING SUM("count") > 0`)) as Array<{
      status: DownloadStatus;
      count: string | number;
    }>;
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

  // ---- commands: each writes only if the task is still the version it was decided on ----

  /** Queued for a run, in queue order from now; a re-download of a finished task starts its figures over. */
  async markQueued(task: Versioned, run: QueuedRun): Promise<boolean> {
    return this.writeIfUnchanged(task, {
      status: DownloadStatus.Waiting,
      queuedAt: nowIso(),
      error: null,
      localPath: run.localPath,
      deleteSegments: run.deleteSegments,
      ...(run.speedLimit !== undefined ? { speedLimit: run.speedLimit } : {}),
      ...definedOnly(run.choice ?? {}),
      ...(run.replacesFile !== null ? { file: null, replacesFile: run.replacesFile, downloadedBytes: 0, totalBytes: null, percent: null } : {}),
    });
  }

  async markStoppedWhileQueued(task: Versioned): Promise<boolean> {
    return this.writeIfUnchanged(task, { status: DownloadStatus.Stopped, queuedAt: null, interruptedRuns: 0 });
  }

  /** A client set the outcome itself: the tasks leave the queue with it. All of them or none: none may be running. */
  async markByClient(tasks: Versioned[], status: DownloadStatus.Success | DownloadStatus.Failed): Promise<boolean> {
    if (tasks.length === 0) return true;
    const changes = { status, queuedAt: null, error: status === DownloadStatus.Failed ? 'marked failed by a client' : null, updatedDate: nowIso(), version: () => '"version" + 1' };
    if (this.kind === 'postgres') {
      // a transaction of its own connection: another node's claim of one of them makes it write none
      return this.inTransaction(async (manager) => {
        for (const task of tasks) {
          const result = await manager.update(DownloadEntity, { id: task.id, version: task.version }, changes);
          if (!result.affected) throw new ChangedMeanwhile();
        }
        return true;
      }).catch((error: unknown) => {
        if (error instanceof ChangedMeanwhile) return false;
        throw error;
      });
    }
    // SQLite has one connection: a transaction there would take in (and could roll back) whatever else runs
    // meanwhile, such as a claim. One statement is atomic: it changes every task, or none if one changed.
    const unchanged = tasks.map((_, index) => `("id" = :id${index} AND "version" = :version${index})`).join(' OR ');
    const parameters = Object.fromEntries(tasks.flatMap((task, index) => [[`id${index}`, task.id], [`version${index}`, task.version]]));
    const result = await this.orm
      .createQueryBuilder()
      .update(DownloadEntity)
      .set(changes)
      .where(`(${unchanged})`, parameters)
      .andWhere(`(SELECT COUNT(*) FROM "download_tasks" WHERE ${unchanged}) = :expected`, { expected: tasks.length })
      .execute();
    return (result.affected ?? 0) === tasks.length;
  }

  /** What a client may change of an idle task: what it downloads, how, and where. */
  async editDescription(task: Versioned, description: TaskDescriptionEdit): Promise<boolean> {
    return Object.keys(description).length === 0 ? true : this.writeIfUnchanged(task, description);
  }

  async setLive(id: number, isLive: boolean): Promise<void> {
    await this.orm.update({ id }, { isLive, updatedDate: nowIso(), version: () => '"version" + 1' });
  }

  async delete(task: Versioned): Promise<boolean> {
    const result = await this.orm.delete({ id: task.id, version: task.version });
    return (result.affected ?? 0) > 0 || (await this.findById(task.id)) === null;
  }

  // ---- runs: claimed with a lease; every write about a run names its lease token ----

  /**
   * Claims the oldest queued task for this node in one statement: it is marked started under a new lease. On
   * PostgreSQL, nodes claiming at the same moment skip each other's rows (FOR UPDATE SKIP LOCKED), so each
   * task is claimed once. Null when nothing is queued.
   */
  async claimNext(nodeId: string, leaseMs: number): Promise<DownloadEntity | null> {
    const token = randomUUID();
    const skipLocked = this.kind === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
    const affected = await this.execute(
      `UPDATE "download_tasks" SET "status" = 'downloading', "ownerNode" = :nodeId, "leaseToken" = :token, "leaseExpiresAt" = ${this.clock(':leaseMs')},
        "interruptedRuns" = "interruptedRuns" + 1, "error" = NULL, "file" = NULL, "version" = "version" + 1, "updatedDate" = :now
       WHERE "id" = (${this.queueHead()} ${skipLocked})`,
      { nodeId, token, leaseMs, now: nowIso() },
    );
    return affected > 0 ? this.orm.findOneBy({ leaseToken: token }) : null;
  }

  /** The task the next claim would take, without claiming it (to look at its disk first). */
  peekNextQueued(): Promise<DownloadEntity | null> {
    return this.orm.createQueryBuilder('task').where(`task.id = (${this.queueHead()})`).getOne();
  }

  /**
   * SQL that selects the ids of the queued tasks in claim order, read from the queue's own index. SQLite is told
   * which: without statistics its planner prefers the status index, then sorts every waiting task (queued or
   * not) to find the oldest; PostgreSQL's planner finds the partial index by itself.
   */
  private queueInOrder(): string {
    const index = this.kind === 'sqlite' ? 'INDEXED BY "idx_download_tasks_queue"' : '';
    return `SELECT "id" FROM "download_tasks" ${index} WHERE ${QUEUED} ORDER BY "queuedAt" ASC, "id" ASC`;
  }

  /** SQL that selects the id of the task the next claim takes. */
  private queueHead(): string {
    return `${this.queueInOrder()} LIMIT 1`;
  }

  /** Extends this node's leases; answers the tokens it still holds (a lease taken over is gone for good). */
  async renewLeases(nodeId: string, tokens: string[], leaseMs: number): Promise<string[]> {
    if (tokens.length === 0) return [];
    await this.execute(`UPDATE "download_tasks" SET "leaseExpiresAt" = ${this.clock(':leaseMs')} WHERE "ownerNode" = :nodeId AND "leaseToken" IN (:...tokens)`, { nodeId, tokens, leaseMs });
    const held = await this.orm.find({ select: { leaseToken: true }, where: { ownerNode: nodeId, leaseToken: In(tokens) } });
    return held.map((row) => row.leaseToken!);
  }

  /** Runs whose node stopped renewing their lease: another node takes them over. */
  async findExpiredLeases(): Promise<DownloadEntity[]> {
    const now = (await this.orm.query(`SELECT ${this.clock('0')} AS "now"`)) as Array<{ now: string }>;
    return this.orm.find({ where: { status: DownloadStatus.Downloading, leaseExpiresAt: LessThan(now[0].now) }, order: { queuedAt: 'ASC', id: 'ASC' } });
  }

  /** Runs this node held when it last stopped (with a lease it never gave back), and runs older versions left without one. */
  findLeftoverRuns(nodeId: string): Promise<DownloadEntity[]> {
    return this.orm.find({ where: [
      { status: DownloadStatus.Downloading, ownerNode: nodeId },
      { status: DownloadStatus.Downloading, ownerNode: IsNull() },
    ], order: { queuedAt: 'ASC', id: 'ASC' } });
  }

  /** Progress is written at a modest rate and does not count as a change (version and updatedDate stay). */
  async saveProgress(lease: RunLease, progress: StoredProgress): Promise<boolean> {
    const result = await this.orm.update({ id: lease.id, leaseToken: lease.token }, { downloadedBytes: progress.downloadedBytes, totalBytes: progress.totalBytes, percent: progress.percent });
    return (result.affected ?? 0) > 0;
  }

  async markSucceeded(lease: RunLease, result: SucceededRun): Promise<boolean> {
    return this.writeUnderLease(lease, { ...result, status: DownloadStatus.Success, percent: 100, error: null, queuedAt: null, interruptedRuns: 0, replacesFile: null, ...RELEASED });
  }

  /** A client's stop ended the run: figures kept for a resume; a recording's part as its file, with every file the task has now. */
  async markRunStopped(lease: RunLease, progress: StoredProgress, file?: { path: string; node: string; outputs: string[] }): Promise<boolean> {
    return this.writeUnderLease(lease, { ...progress, ...(file ? { file: file.path, fileNode: file.node, outputs: file.outputs } : {}), status: DownloadStatus.Stopped, queuedAt: null, interruptedRuns: 0, ...RELEASED });
  }

  async markRunFailed(lease: RunLease, error: string, progress: StoredProgress | null = null): Promise<boolean> {
    return this.writeUnderLease(lease, { ...(progress ?? {}), status: DownloadStatus.Failed, error, queuedAt: null, interruptedRuns: 0, ...RELEASED });
  }

  /**
   * A shutdown cut the run short: still queued (any node may take it), figures kept; a clean end never counts as a crash.
   * `outputs`: a live recording's part was saved on the way down, and the task's files now include it.
   */
  async requeueAfterShutdown(lease: RunLease, progress: StoredProgress | null, outputs?: string[]): Promise<boolean> {
    return this.writeUnderLease(lease, { ...(progress ?? {}), ...(outputs ? { outputs } : {}), status: DownloadStatus.Waiting, file: null, error: null, interruptedRuns: 0, ...RELEASED });
  }

  /** A run whose node died (this one before a restart, or another whose lease expired) is queued again, in its place. */
  async requeueLeftover(lease: RunLease): Promise<boolean> {
    return this.writeUnderLease(lease, { status: DownloadStatus.Waiting, ...RELEASED });
  }

  /** A run stopped for its task's delete gives its lease back; the delete writes the rest. */
  async releaseLease(lease: RunLease): Promise<boolean> {
    return this.writeUnderLease(lease, { ...RELEASED });
  }

  /** A run an older version left without a lease is queued again like any other. */
  async requeueWithoutLease(task: Versioned): Promise<boolean> {
    return this.writeIfUnchanged(task, { status: DownloadStatus.Waiting, ...RELEASED });
  }

  async markFailedWithoutLease(task: Versioned, error: string): Promise<boolean> {
    return this.writeIfUnchanged(task, { status: DownloadStatus.Failed, error, queuedAt: null, interruptedRuns: 0, ...RELEASED });
  }

  /** Runs ended by a clean shutdown, whether or not they notice in time, never count towards a crash loop. */
  async clearRunCounters(tokens: string[]): Promise<void> {
    if (tokens.length > 0) await this.orm.update({ leaseToken: In(tokens) }, { interruptedRuns: 0 });
  }

  // ---- helpers ----

  private get kind(): StoreKind {
    return this.orm.manager.connection.options.type === 'postgres' ? 'postgres' : 'sqlite';
  }

  /** The database's own clock (every node shares it), `offset` milliseconds on, as an ISO time like the other dates. */
  private clock(offset: string): string {
    return this.kind === 'postgres'
      ? `to_char((now() AT TIME ZONE 'UTC') + (${offset} * interval '1 millisecond'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
      : `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (${offset} / 1000.0) || ' seconds')`;
  }

  /** Runs one statement with named parameters on either store; answers how many rows it changed. */
  private async execute(sql: string, parameters: Record<string, unknown>): Promise<number> {
    const [query, values] = this.orm.manager.connection.driver.escapeQueryWithParameters(sql, parameters, {});
    const runner = this.orm.manager.connection.createQueryRunner();
    try {
      const result = await runner.query(query, values, true);
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  }

  private async writeIfUnchanged(task: Versioned, changes: Partial<Omit<DownloadEntity, 'id' | 'createdDate' | 'updatedDate' | 'version'>>): Promise<boolean> {
    const result = await this.orm.update({ id: task.id, version: task.version }, { ...changes, updatedDate: nowIso(), version: () => '"version" + 1' });
    return (result.affected ?? 0) > 0;
  }

  private async writeUnderLease(lease: RunLease, changes: Partial<Omit<DownloadEntity, 'id' | 'createdDate' | 'updatedDate' | 'version'>>): Promise<boolean> {
    const result = await this.orm.update({ id: lease.id, leaseToken: lease.token }, { ...changes, updatedDate: nowIso(), version: () => '"version" + 1' });
    return (result.affected ?? 0) > 0;
  }

  /** PostgreSQL's transactions of this node, one at a time. */
  private transactions: Promise<unknown> = Promise.resolve();

  private inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const next = this.transactions.then(() => this.orm.manager.transaction(work));
    this.transactions = next.catch(() => undefined);
    return next;
  }

  /** Tasks saving into the default directory get it written down, so that a new default does not move them. */
  async pinDefaultDirectory(directory: string): Promise<void> {
    await this.orm.update({ localPath: IsNull() }, { localPath: directory });
  }

}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A commanded write found the task changed since it was read: the command decides again. */
class ChangedMeanwhile extends Error {}

/** What a run's end gives back: its lease. */
const RELEASED = { ownerNode: null, leaseToken: null, leaseExpiresAt: null } as const;
