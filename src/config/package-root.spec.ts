import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT, packageRootOf } from './package-root.js';

describe('packageRootOf', () => {
  it('finds the nearest folder with a package.json, from the folder itself or any below it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'package-root-'));
    try {
      await writeFile(join(root, 'package.json'), '{}');
      await mkdir(join(root, 'build', 'src', 'config'), { recursive: true });
      assert.equal(packageRootOf(root), root);
      assert.equal(packageRootOf(join(root, 'build', 'src', 'config')), root);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("is the service's own folder for its code", () => {
    assert.match(PACKAGE_ROOT, /[\\/][^\\/]+$/);
    assert.ok(!/[\\/](build|dist|src)$/.test(PACKAGE_ROOT), PACKAGE_ROOT);
  });
});
