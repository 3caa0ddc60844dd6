import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatBytes, freeBytes, nearestExisting } from './disk-space.js';
import { isSameOrInside, localPathProblem } from './local-path.js';

describe('localPathProblem', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-path-'));
  });
  after(async () => {
    await chmod(join(root, 'locked'), 0o755).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('accepts an existing writable directory and directories still to be created under one', async () => {
    assert.equal(await localPathProblem(root), null);
    assert.equal(await localPathProblem(join(root, 'new', 'deeper', 'still')), null);
  });

  it('refuses /proc, /sys and /dev and anything below them', async () => {
    for (const path of ['/proc', '/proc/self', '/proc/self/cwd/x', '/sys/kernel', '/dev', '/dev/shm/videos']) {
      assert.match((await localPathProblem(path)) ?? 'accepted', /must not be inside \/proc, \/sys, \/dev/, path);
    }
  });

  it('refuses a symbolic link that leads into /proc', async () => {
    await symlink('/proc/self', join(root, 'sneaky'));
    assert.match((await localPathProblem(join(root, 'sneaky', 'videos'))) ?? 'accepted', /through a symbolic link/);
  });

  it('refuses a path under a file, naming the file', async () => {
    await writeFile(join(root, 'a-file'), 'x');
    assert.match((await localPathProblem(join(root, 'a-file', 'sub'))) ?? 'accepted', /a-file is a file, not a directory/);
  });

  it('refuses relative paths and NUL bytes', async () => {
    assert.equal(await localPathProblem('videos/here'), 'must be an absolute path');
    assert.equal(await localPathProblem('/tmp/a\0b'), 'must not contain a NUL byte');
  });

  it('refuses a directory the service may not write to', { skip: process.getuid?.() === 0 ? 'root may write everywhere' : false }, async () => {
    await mkdir(join(root, 'locked'));
    await chmod(join(root, 'locked'), 0o555);
    assert.match((await localPathProblem(join(root, 'locked', 'sub'))) ?? 'accepted', /may not write to/);
  });
});

describe('disk space helpers', () => {
  it('finds the nearest existing ancestor', async () => {
    assert.equal(await nearestExisting('/tmp/does/not/exist/yet'), '/tmp');
    assert.equal(await nearestExisting('/'), '/');
  });

  it('measures free space even for a directory still to be created', async () => {
    const free = await freeBytes('/tmp/does/not/exist/yet');
    assert.ok(Number.isFinite(free) && free >= 0);
  });

  it('formats sizes the way people read them', () => {
    assert.equal(formatBytes(0), '0 bytes');
    assert.equal(formatBytes(512), '512 bytes');
    assert.equal(formatBytes(1024 ** 4), '1 TiB');
    assert.equal(formatBytes(30 * 1024 ** 3), '30 GiB');
    assert.equal(formatBytes(1.5 * 1024 ** 2), '1.5 MiB');
    assert.equal(formatBytes(123.4 * 1024 ** 2), '123 MiB');
    assert.equal(formatBytes(-5), '0 bytes');
  });

  it('tells inside from beside', () => {
    assert.ok(isSameOrInside('/proc', '/proc'));
    assert.ok(isSameOrInside('/proc', '/proc/self'));
    assert.ok(!isSameOrInside('/proc', '/process'));
    assert.ok(!isSameOrInside('/proc', '/'));
  });
});
