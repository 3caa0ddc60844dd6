import sqlite3 from 'sqlite3';

/** Past this many distinct statements the oldest is finalized: the task store runs a handful of shapes, never an open-ended set. */
const MAX_STATEMENTS = 32;

/**
 * A SQLite connection that keeps the statements the task store runs on every request prepared. The sqlite3
 * binding's `all(sql)` prepares, runs and finalizes each time, and the prepare is a trip of its own to the
 * binding's worker threads: for a page of tasks that is twice the hand-offs between threads, and about a third of
 * the statement's time spent parsing the same SQL again (0.95 against 0.66 ms). A kept statement is bound and run
 * in one trip. A statement is finalized once no run uses it, and every one before the connection closes (SQLite
 * refuses to close while any is open).
 */
export class StatementCachingDatabase extends sqlite3.Database {
  private readonly statements = new Map<string, Kept>();
  private closing = false;

  /** The rows `sql` gives for `parameters`, through a statement prepared the first time this SQL is run. */
  async allPrepared<T>(sql: string, parameters: readonly unknown[]): Promise<T[]> {
    // a statement prepared now would be open when the connection closes: the binding's own all() is refused instead
    if (this.closing) return new Promise((resolve, reject) => this.all(sql, parameters, (error: Error | null, rows: T[]) => (error ? reject(error) : resolve(rows))));
    const kept = this.statements.get(sql) ?? this.keep(sql);
    kept.runs++;
    try {
      // a run queued on a statement that then fails to prepare is dropped without its callback: runs wait for the prepare
      await kept.ready;
      return await new Promise<T[]>((resolve, reject) => kept.statement.all(parameters, (error: Error | null, rows: T[]) => (error ? reject(error) : resolve(rows))));
    } catch (error) {
      if (this.statements.get(sql) === kept) this.retire(sql);
      throw error;
    } finally {
      kept.runs--;
      if (kept.retired && kept.runs === 0) this.finalize(kept);
    }
  }

  override close(callback?: (error: Error | null) => void): this {
    this.closing = true;
    const open = [...this.statements.keys()].map((sql) => this.retire(sql));
    void Promise.all(open.map((kept) => kept.finalized)).then(() => super.close(callback));
    return this;
  }

  private keep(sql: string): Kept {
    let statement!: sqlite3.Statement;
    const ready = new Promise<void>((resolve, reject) => {
      statement = this.prepare(sql, (error: Error | null) => (error ? reject(error) : resolve()));
    });
    let finished!: () => void;
    const finalized = new Promise<void>((resolve) => (finished = resolve));
    const kept: Kept = { statement, ready, runs: 0, retired: false, finalized, finished };
    this.statements.set(sql, kept);
    if (this.statements.size > MAX_STATEMENTS) this.retire(this.statements.keys().next().value!);
    return kept;
  }

  /** No new run takes the statement; it is finalized once the runs that have it are done. */
  private retire(sql: string): Kept {
    const kept = this.statements.get(sql)!;
    this.statements.delete(sql);
    kept.retired = true;
    if (kept.runs === 0) this.finalize(kept);
    return kept;
  }

  private finalize(kept: Kept): void {
    if (kept.finalizing) return;
    kept.finalizing = true;
    // a statement that did not prepare is finalized already, and would never call back
    void kept.ready.then(
      () => kept.statement.finalize(() => kept.finished()),
      () => kept.finished(),
    );
  }
}

interface Kept {
  statement: sqlite3.Statement;
  /** Settles when the statement is prepared: rejected with SQLite's error when its SQL does not prepare. */
  ready: Promise<void>;
  /** Runs that have taken the statement and not yet ended. */
  runs: number;
  /** Out of the cache: finalized once `runs` is 0. */
  retired: boolean;
  finalizing?: boolean;
  /** Settles once the statement is finalized. */
  finalized: Promise<void>;
  finished: () => void;
}
