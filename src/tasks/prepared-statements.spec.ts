import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { StatementCachingDatabase } from './prepared-statements.js';

/** A connection to a new SQLite file, opened. */
function open(file: string): Promise<StatementCachingDatabase> {
  return new Promise((resolve, reject) => {
    const database: StatementCachingDatabase = new StatementCachingDatabase(file, (error) => (error ? reject(error) : resolve(database)));
  });
}

const closed = (database: StatementCachingDatabase) => new Promise<void>((resolve, reject) => database.close((error) => (error ? reject(error) : resolve())));
const run = (database: StatementCachingDatabase, sql: string) => new Promise<void>((resolve, reject) => database.exec(sql, (error) => (error ? reject(error) : resolve())));

describe('StatementCachingDatabase (real SQLite file)', () => {
  let dir: string;
  let database: StatementCachingDatabase;
  let prepares: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prepared-statements-'));
    database = await open(join(dir, 'test.sqlite'));
    await run(database, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t (name) VALUES ('a'), ('b'), ('c'), ('d');`);
    prepares = [];
    const prepare = database.prepare.bind(database);
    database.prepare = ((sql: string, ...rest: unknown[]) => {
      prepares.push(sql);
      return (prepare as (...args: unknown[]) => ReturnType<typeof prepare>)(sql, ...rest);
    }) as typeof database.prepare;
  });

  afterEach(async () => {
    if (database) await closed(database).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prepares a SQL text once and runs it with each call’s own parameters, calls in flight at once included', async () => {
    const sql = 'SELECT name FROM t WHERE id > ? ORDER BY id LIMIT ? + 0';
    const answers = await Promise.all([database.allPrepared(sql, [0, 1]), database.allPrepared(sql, [1, 2]), database.allPrepared(sql, [2, 5]), database.allPrepared(sql, [9, 5])]);
    assert.deepEqual(answers, [[{ name: 'a' }], [{ name: 'b' }, { name: 'c' }], [{ name: 'c' }, { name: 'd' }], []]);
    assert.deepEqual(await database.allPrepared(sql, [3, 1]), [{ name: 'd' }]);
    assert.deepEqual(prepares, [sql]);
  });

  it('sees what was written since the statement was prepared', async () => {
    const sql = 'SELECT COUNT(*) AS n FROM t';
    assert.deepEqual(await database.allPrepared(sql, []), [{ n: 4 }]);
    await run(database, `INSERT INTO t (name) VALUES ('e')`);
    assert.deepEqual(await database.allPrepared(sql, []), [{ n: 5 }]);
  });

  it('rejects SQL that does not prepare with SQLite’s own error, every caller, and keeps nothing of it', async () => {
    const sql = 'SELECT missing FROM nowhere';
    const results = await Promise.allSettled([database.allPrepared(sql, []), database.allPrepared(sql, [])]);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.match(String((result as PromiseRejectedResult).reason), /no such table: nowhere/);
    }
    await assert.rejects(database.allPrepared(sql, []), /no such table: nowhere/);
    assert.equal(prepares.length, 2, 'prepared again after the failure, not kept');
  });

  it('rejects a run that fails, and runs the same SQL again afterwards', async () => {
    const sql = 'SELECT json(?) AS v';
    await assert.rejects(database.allPrepared(sql, ['{not json']), /malformed JSON/);
    assert.deepEqual(await database.allPrepared(sql, ['[1]']), [{ v: '[1]' }]);
  });

  it('keeps a bounded number of statements, the oldest finalized first, each still answering', async () => {
    for (let index = 0; index < 40; index++) assert.deepEqual(await database.allPrepared(`SELECT ${index} AS v`, []), [{ v: index }]);
    assert.deepEqual(await database.allPrepared('SELECT 39 AS v', []), [{ v: 39 }]);
    assert.deepEqual(await database.allPrepared('SELECT 0 AS v', []), [{ v: 0 }]);
    assert.equal(prepares.length, 41, 'the newest kept, the oldest prepared again');
  });

  it('evicts a statement a run still waits for only once that run has had it', async () => {
    const waiting = database.allPrepared('SELECT name FROM t WHERE id = ?', [1]);
    // 32 newer statements push it out of the cache while its prepare is still on the way
    const newer = Array.from({ length: 33 }, (_, index) => database.allPrepared(`SELECT ${index} AS v`, []));
    assert.deepEqual(await waiting, [{ name: 'a' }]);
    assert.deepEqual((await Promise.all(newer)).map(([row]) => (row as { v: number }).v), Array.from({ length: 33 }, (_, index) => index));
  });

  it('closes once the runs in flight are done, a run asked for meanwhile included', async () => {
    const inFlight = database.allPrepared('SELECT name FROM t WHERE id = ?', [2]);
    const closing = closed(database);
    // prepared by the binding's own all(), which finalizes it: nothing is left open for the close to trip on
    const late = database.allPrepared('SELECT name FROM t WHERE id = ?', [3]).catch((error: Error) => error.message);
    assert.deepEqual(await inFlight, [{ name: 'b' }]);
    await closing;
    const answer = await late;
    // answered before the close, or refused by it; never a close that fails
    if (typeof answer === 'string') assert.match(answer, /closed/i);
    else assert.deepEqual(answer, [{ name: 'c' }]);
    await assert.rejects(database.allPrepared('SELECT 1', []), /closed/i);
  });

  it('closes with statements kept, ready, failed and still preparing', async () => {
    await database.allPrepared('SELECT 1', []);
    await database.allPrepared('SELECT broken FROM', []).catch(() => undefined);
    const preparing = database.allPrepared('SELECT name FROM t', []);
    await closed(database);
    await preparing.catch(() => undefined);
    await assert.rejects(database.allPrepared('SELECT 1', []), /closed/i);
  });
});
