import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { appendFile, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { describeError } from '../engine/http-error.js';

const MAX_LOG_BYTES = 1024 * 1024;
const KEEP_AFTER_TRIM = 512 * 1024;
const READ_LIMIT = 256 * 1024;
/** A failing disk is reported in the service log at most this often, not once per line. */
const WARN_EVERY_MS = 60_000;

/** Lines of one task that come within this long are written together. */
const FLUSH_DELAY_MS = 100;

function stamp(line: string): string {
  return `${new Date().toISOString()} ${line.replace(/\r?\n$/, '')}\n`;
}

/** Each task's log in DATA_DIR/logs/<id>.log: appended in batches, trimmed from the front when it grows too large. */
@Injectable()
export class TaskLogService implements OnApplicationShutdown {
  private readonly logger = new Logger(TaskLogService.name);
  private readonly directory: string;
  private lastWarning = 0;
  private readonly pending = new Map<number, string[]>();
  private readonly writing = new Map<number, Promise<void>>();
  /** appendToEach's writes, one task after another */
  private bulk: Promise<void> = Promise.resolve();
  /** every task line also goes to the service log, with its task id as a field */
  private readonly serviceLog = new Logger('Task');

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.directory = join(config.dataDir, 'logs');
  }

  append(id: number, line: string): void {
    this.serviceLog.log({ taskId: id, msg: line });
    this.queue(id, stamp(line), () => new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS)));
  }

  /**
   * One line in the logs of many tasks (a restart's note on each queued task): one line in the service log, and the
   * files written one after another. Appended one by one, a restart with 3,000 queued tasks wrote 3,000 service-log
   * lines and began 3,000 file writes at once, which held the start 2 s. Each task's line is queued at once, so that
   * lines which come later stay after it.
   */
  appendToEach(ids: readonly number[], line: string): void {
    if (ids.length === 0) return;
    this.serviceLog.log({ tasks: ids.length, msg: `${line} (${ids.length} task${ids.length === 1 ? '' : 's'})` });
    const stamped = stamp(line);
    for (const id of ids) {
      const after = this.bulk;
      this.bulk = this.queue(id, stamped, () => after) ?? after;
    }
  }

  /**
   * Queues a line for a task's file. It joins a write already on its way, or starts one that runs once the task's
   * last write is done and `before` has settled; that write is returned.
   */
  private queue(id: number, stamped: string, before: () => Promise<unknown>): Promise<void> | null {
    const pending = this.pending.get(id);
    if (pending) {
      pending.push(stamped);
      return null;
    }
    this.pending.set(id, [stamped]);
    const previous = this.writing.get(id) ?? Promise.resolve();
    // a full or failing disk loses log lines, never the process (an unhandled rejection would end it)
    const next = previous
      .then(before)
      .then(() => this.flush(id))
      .catch((error: unknown) => this.warn(id, error));
    this.writing.set(id, next);
    return next;
  }

  /** The log, oldest first; only its last 256 KiB when it is longer. */
  async read(id: number): Promise<string> {
    await this.settle(id);
    const path = this.path(id);
    try {
      const { size } = await stat(path);
      if (size <= READ_LIMIT) return await readFile(path, 'utf8');
      const handle = await open(path, 'r');
      try {
        const buffer = Buffer.alloc(READ_LIMIT);
        await handle.read(buffer, 0, READ_LIMIT, size - READ_LIMIT);
        const text = buffer.toString('utf8');
        return `[…earlier lines omitted]\n${text.slice(text.indexOf('\n') + 1)}`;
      } finally {
        await handle.close();
      }
    } catch {
      return '';
    }
  }

  async remove(id: number): Promise<void> {
    await this.settle(id);
    await rm(this.path(id), { force: true });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.writing.keys()].map((id) => this.settle(id)));
  }

  private async settle(id: number): Promise<void> {
    while (this.writing.get(id)) {
      const current = this.writing.get(id)!;
      await current.catch(() => undefined);
      if (this.writing.get(id) === current) this.writing.delete(id);
    }
  }

  private async flush(id: number): Promise<void> {
    const lines = this.pending.get(id) ?? [];
    this.pending.delete(id);
    if (lines.length === 0) return;
    const path = this.path(id);
    await mkdir(this.directory, { recursive: true });
    await appendFile(path, lines.join(''));
    const { size } = await stat(path);
    if (size > MAX_LOG_BYTES) {
      const text = await readFile(path);
      const kept = text.subarray(text.length - KEEP_AFTER_TRIM);
      await writeFile(path, Buffer.concat([Buffer.from('[…earlier lines trimmed]\n'), kept.subarray(kept.indexOf(10) + 1)]));
    }
  }

  private warn(id: number, error: unknown): void {
    if (Date.now() - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = Date.now();
    this.logger.warn(`task logs cannot be written (task ${id}): ${describeError(error)}; lines are dropped until the disk accepts them`);
  }

  private path(id: number): string {
    return join(this.directory, `${id}.log`);
  }
}
