import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../config/app-config.js';
import { TaskLogService } from './task-log.service.js';

/** Collects unhandled rejections while a block runs: a failed log write must never become one. */
async function withoutUnhandledRejections(block: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await block();
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

describe('TaskLogService on a disk that refuses writes', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'task-log-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('drops lines it cannot write instead of rejecting (logs/ is a file)', async () => {
    const dataDir = join(root, 'blocked');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'logs'), 'not a directory');
    const logs = new TaskLogService(loadConfig({ DATA_DIR: dataDir }));
    const unhandled = await withoutUnhandledRejections(async () => {
      logs.append(1, 'a line that cannot be written');
      // nobody reads the log meanwhile: the failed write happens with no one awaiting it, as in a running task
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await logs.read(1), '');
      await logs.onApplicationShutdown();
    });
    assert.deepEqual(unhandled, []);
  });

  it('survives ENOSPC on a full tmpfs and writes again once space is freed', { skip: process.getuid?.() === 0 ? false : 'mounting a tmpfs needs root' }, async () => {
    const disk = join(root, 'disk');
    await mkdir(disk);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]).status, 0);
    try {
      const logs = new TaskLogService(loadConfig({ DATA_DIR: disk }));
      logs.append(1, 'before the disk filled up');
      assert.match(await logs.read(1), /before the disk filled up/);
      await writeFile(join(disk, 'ballast'), Buffer.alloc(1024 * 1024)).catch(() => undefined);
      const unhandled = await withoutUnhandledRejections(async () => {
        logs.append(1, `a long line ${'x'.repeat(64 * 1024)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        await logs.read(1);
      });
      assert.deepEqual(unhandled, []);
      await rm(join(disk, 'ballast'));
      logs.append(1, 'after space was freed');
      assert.match(await logs.read(1), /after space was freed/);
    } finally {
      spawnSync('umount', ['-l', disk]);
    }
  });
});

describe('TaskLogService.appendToEach', () => {
  it("writes one line into each task's log, one file after another, before the lines that come later", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'task-log-each-'));
    try {
      const logs = new TaskLogService(loadConfig({ DATA_DIR: dataDir }));
      const ids = Array.from({ length: 300 }, (_, index) => index + 1);
      logs.appendToEach(ids, 'queued again: the service restarted');
      logs.append(150, 'run started');
      // deleted while the lines are still being written: its file goes, and none comes back
      await logs.remove(300);
      await logs.onApplicationShutdown();
      assert.equal(readdirSync(join(dataDir, 'logs')).length, 299);
      assert.match(await logs.read(1), /^\S+ queued again: the service restarted\n$/);
      assert.match(await logs.read(150), /queued again: the service restarted\n\S+ run started\n$/);
      assert.equal(await logs.read(300), '');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
