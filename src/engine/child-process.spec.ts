import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { runProcess } from './child-process.js';

const sh = (script: string, options: Parameters<typeof runProcess>[2] = {}) => runProcess('sh', ['-c', script], options);

/** Live (not zombie) processes whose process group is pgid, read from /proc. */
function liveMembersOf(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so read after the last ")"
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
}

/** Waits (bounded) until the condition holds; the assertion that follows says what was expected. */
async function eventually(condition: () => boolean, limitMs = 5_000): Promise<void> {
  for (const started = Date.now(); !condition() && Date.now() - started < limitMs; ) await delay(10);
}

/** Starts `script` (which must print its pid first) and resolves with its process group id once it has `members` live processes. */
function startGroup(script: string, members: number, options: { killGraceMs?: number } = {}) {
  const controller = new AbortController();
  let announced: (pgid: number) => void;
  const pgidPrinted = new Promise<number>((resolve) => (announced = resolve));
  const running = sh(`echo "$$"; ${script}`, { ...options, signal: controller.signal, onLine: (line) => /^\d+$/.test(line) && announced(Number(line)) });
  running.catch(() => undefined); // judged by the test
  const ready = pgidPrinted.then(async (pgid) => {
    await eventually(() => liveMembersOf(pgid).length >= members);
    return pgid;
  });
  return { controller, running, ready };
}

describe('runProcess', () => {
  let dir: string;
  before(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'child-process-')));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves with the exit code and the lines of both streams', async () => {
    const lines: Array<[string, string]> = [];
    const result = await sh("printf 'one\\ntwo\\n'; echo oops >&2; exit 3", { onLine: (line, stream) => lines.push([line, stream]) });
    assert.equal(result.code, 3);
    assert.equal(result.signal, null);
    assert.deepEqual(lines.filter(([, stream]) => stream === 'stdout'), [['one', 'stdout'], ['two', 'stdout']]);
    assert.deepEqual(lines.filter(([, stream]) => stream === 'stderr'), [['oops', 'stderr']]);
    assert.deepEqual([...result.tail].sort(), ['one', 'oops', 'two']);
  });

  it('resolves with code 0 on success, keeping a last line without a newline', async () => {
    const result = await sh("echo first; printf 'no newline'");
    assert.equal(result.code, 0);
    assert.deepEqual(result.tail, ['first', 'no newline']);
  });

  it('keeps only the last 50 lines in the tail', async () => {
    const result = await sh('seq 1 120');
    assert.deepEqual(result.tail, Array.from({ length: 50 }, (_, index) => String(71 + index)));
  });

  it('reports a program killed by a signal', async () => {
    const result = await sh('kill -KILL $$');
    assert.equal(result.code, null);
    assert.equal(result.signal, 'SIGKILL');
  });

  it('runs in the given directory with the given environment', async () => {
    const result = await sh('pwd; echo "$GREETING"', { cwd: dir, env: { PATH: process.env.PATH, GREETING: 'hello' } });
    assert.deepEqual(result.tail, [dir, 'hello']);
  });

  it('rejects when the program cannot be started', async () => {
    await assert.rejects(runProcess(join(dir, 'no-such-program'), []), { code: 'ENOENT' });
  });

  it('does not start anything when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const marker = join(dir, 'started');
    await assert.rejects(sh(`touch '${marker}'`, { signal: controller.signal }), { name: 'AbortError' });
    assert.equal(existsSync(marker), false);
  });

  it('on abort, ends the whole process group and rejects with an AbortError', async () => {
    const { controller, running, ready } = startGroup('sleep 30 & sleep 30; wait', 3);
    const pgid = await ready;
    assert.ok(liveMembersOf(pgid).length >= 3, 'the shell and both sleeps run in their own group');
    assert.notEqual(pgid, process.pid);

    controller.abort();
    await assert.rejects(running, { name: 'AbortError' });
    await eventually(() => liveMembersOf(pgid).length === 0);
    assert.deepEqual(liveMembersOf(pgid), [], 'no process of the group survives');
  });

  it('kills a group that ignores SIGTERM once the grace period is over', async () => {
    const { controller, running, ready } = startGroup("trap '' TERM; sleep 30 & sleep 30; wait", 3, { killGraceMs: 100 });
    const pgid = await ready;
    controller.abort(new Error('stopped by a client'));
    await assert.rejects(running, { name: 'AbortError' });
    await eventually(() => liveMembersOf(pgid).length === 0);
    assert.deepEqual(liveMembersOf(pgid), [], 'no process of the group survives');
  });
});
