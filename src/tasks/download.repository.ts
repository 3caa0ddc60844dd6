import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Between, type EntityManager, In, IsNull, LessThan, Not, type Repository } from 'typeorm';
import type { StoreKind } from '../common/store-kind.js';
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
    ownerNode: null,
    leaseToken: null,
    leaseExpiresAt: null,
    fileNode: null,
    replacesFile: null,
    version: 0,
  };
}

/** Figures a run writes down as it goes and when it ends. */
export type StoredProgress = Pick<DownloadEntity, 'downloadedBytes' | 'totalBytes' | 'percent'>;

/** How a queued run is to go: where it saves, whether its segments go, its own speed limit (undefined: unchanged). */
export interface QueuedRun {
  localPath: string | null;
  deleteSegments: boolean;
  speedLimit?: number | null;
  /** A finished task downloaded again: its earlier file, which the new run replaces (its figures start over); null otherwise. */
  replacesFile: string | null;
}

export type SucceededRun = Pick<DownloadEntity, 'file' | 'fileNode' | 'name' | 'nameIsDerived' | 'downloadedBytes' | 'totalBytes'>;

/** A task as read, for a write that must find it unchanged. */
export type Versioned = Pick<DownloadEntity, 'id' | 'version'>;

/** One run of a task, as every write about it names it. */
export interface RunLease {
  id: number;
  token: string;
}

export type TaskDescriptionEdit = Partial<Pick<DownloadEntity, 'url' | 'name' | 'nameIsDerived' | 'headers' | 'speedLimit' | 'folder'>>;

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
      ...(run.replacesFile !== null ? { file: null, replacesFile: run.replacesFile, downloadedBytes: 0, totalBytes: null, percent: null } : {}),
    });
  }

  async markStoppedWhileQueued(task: Versioned): Promise<boolean> {
    return this.writeIfUnchanged(task, { status: DownloadStatus.Stopped, queuedAt: null, interruptedRuns: 0 });
  }

  /** A client set the outcome itself: the tasks leave the queue with it. All of them or none: none may be running. */
  async markByClient(tasks: Versioned[], status: DownloadStatus.Success | DownloadStatus.Failed): Promise<boolean> {
    if (tasks.length === 0) return true;
    return this.inTransaction(async (manager) => {
      const changes = { status, queuedAt: null, error: status === DownloadStatus.Failed ? 'marked failed by a client' : null, updatedDate: nowIso(), version: () => '"version" + 1' };
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
       WHERE "id" = (SELECT "id" FROM "download_tasks" WHERE "status" = 'waiting' AND "queuedAt" IS NOT NULL ORDER BY "queuedAt" ASC, "id" ASC LIMIT 1 ${skipLocked})`,
      { nodeId, token, leaseMs, now: nowIso() },
    );
    return affected > 0 ? this.orm.findOneBy({ leaseToken: token }) : null;
  }

  /** The task the next claim would take, without claiming it (to look at its disk first). */
  peekNextQueued(): Promise<DownloadEntity | null> {
    return this.orm.findOne({ where: { status: DownloadStatus.Waiting, queuedAt: Not(IsNull()) }, order: { queuedAt: 'ASC', id: 'ASC' } });
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

  /** A client's stop ended the run: figures kept for a resume; a recording's part as its file. */
  async markRunStopped(lease: RunLease, progress: StoredProgress, file?: { path: string; node: string }): Promise<boolean> {
    return this.writeUnderLease(lease, { ...progress, ...(file ? { file: file.path, fileNode: file.node } : {}), status: DownloadStatus.Stopped, queuedAt: null, interruptedRuns: 0, ...RELEASED });
  }

  async markRunFailed(lease: RunLease, error: string, progress: StoredProgress | null = null): Promise<boolean> {
    return this.writeUnderLease(lease, { ...(progress ?? {}), status: DownloadStatus.Failed, error, queuedAt: null, interruptedRuns: 0, ...RELEASED });
  }

  /** A shutdown cut the run short: still queued (any node may take it), figures kept; a clean end never counts as a crash. */
  async requeueAfterShutdown(lease: RunLease, progress: StoredProgress | null): Promise<boolean> {
    return this.writeUnderLease(lease, { ...(progress ?? {}), status: DownloadStatus.Waiting, file: null, error: null, interruptedRuns: 0, ...RELEASED });
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

/** A commanded write found the task changed since it was read: the command decides again. */
class ChangedMeanwhile extends Error {}

/** What a run's end gives back: its lease. */
const RELEASED = { ownerNode: null, leaseToken: null, leaseExpiresAt: null } as const;
