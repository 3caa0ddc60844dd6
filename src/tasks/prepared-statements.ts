import sqlite3 from 'sqlite3';

/** Past this many distinct statements the oldest is finalized: the task store runs a handful of shapes, never an open-ended set. */
const MAX_STATEMENTS = 32;

/**
 * A SQLite connection that keeps the statements the task store runs on every request prepared. The sqlite3
 * binding's `all(sql)` prepares, runs and finalizes each time, and the prepare is a trip of its own to the
 * binding's worker threads: for a page of tasks that is twice the hand-offs between threads, and a fifth of the
 * statement's CPU spent parsing the same SQL again. A kept statement is bound and run in one trip.
 * The cached statements are finalized before the connection closes (SQLite refuses to close while any is open).
 */
export class StatementCachingDatabase extends sqlite3.Database {
  private readonly statements = new Map<string, Kept>();

  /** The rows `sql` gives for `parameters`, through a statement prepared the first time this SQL is run. */
  async allPrepared<T>(sql: string, parameters: readonly unknown[]): Promise<T[]> {
    const kept = this.statements.get(sql) ?? this.keep(sql);
    try {
      // a run queued on a statement that then fails to prepare is dropped without its callback: runs wait for the prepare
      await kept.ready;
      return await new Promise<T[]>((resolve, reject) => kept.statement.all(parameters, (error: Error | null, rows: T[]) => (error ? reject(error) : resolve(rows))));
    } catch (error) {
      if (this.statements.get(sql) === kept) this.forget(sql);
      throw error;
    }
  }

  override close(callback?: (error: Error | null) => void): this {
    const open = [...this.statements.values()];
    this.statements.clear();
    // a statement that did not prepare is finalized already, and would never call back
    const finalized = open.map(({ statement, ready }) => ready.then(() => new Promise<void>((resolve) => statement.finalize(() => resolve())), () => undefined));
    void Promise.all(finalized).then(() => super.close(callback));
    return this;
  }

  private keep(sql: string): Kept {
    let statement!: sqlite3.Statement;
    const ready = new Promise<void>((resolve, reject) => {
      statement = this.prepare(sql, (error: Error | null) => (error ? reject(error) : resolve()));
    });
    const kept = { statement, ready };
    this.statements.set(sql, kept);
    if (this.statements.size > MAX_STATEMENTS) this.forget(this.statements.keys().next().value!);
    return kept;
  }

  private forget(sql: string): void {
    const kept = this.statements.get(sql);
    this.statements.delete(sql);
    kept?.statement.finalize();
  }
}

interface Kept {
  statement: sqlite3.Statement;
  /** Settles when the statement is prepared: rejected with SQLite's error when its SQL does not prepare. */
  ready: Promise<void>;
}
