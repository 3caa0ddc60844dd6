import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FilePresence } from './file-presence.js';

describe('FilePresence', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-presence-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says true for a regular file, false for a missing path or a directory', async () => {
    const file = join(dir, 'a.mp4');
    await writeFile(file, 'x');
    await mkdir(join(dir, 'sub'));
    const answers = await new FilePresence().check([file, join(dir, 'missing.mp4'), join(dir, 'sub'), file]);
    assert.deepEqual([...answers], [
      [file, true],
      [join(dir, 'missing.mp4'), false],
      [join(dir, 'sub'), false],
    ]);
  });

  it('reuses an answer within the TTL and asks the disk again after it, or after forget()', async () => {
    let clock = 1_000;
    const presence = new FilePresence(3_000, () => clock);
    const file = join(dir, 'b.mp4');
    await writeFile(file, 'x');
    assert.equal(await presence.exists(file), true);
    await rm(file);
    clock += 2_999;
    assert.equal(await presence.exists(file), true, 'still cached');
    clock += 1;
    assert.equal(await presence.exists(file), false, 'expired: asked again');
    await writeFile(file, 'x');
    assert.equal(await presence.exists(file), false, 'cached again');
    presence.forget(file);
    assert.equal(await presence.exists(file), true);
  });

  it('keeps at most its bound of paths', async () => {
    let clock = 0;
    const presence = new FilePresence(10, () => clock);
    for (let index = 0; index < 10_050; index++) {
      if (index === 10_000) clock += 10;
      await presence.exists(join(dir, `none-${index}`));
    }
    const size = (presence as unknown as { known: Map<string, unknown> }).known.size;
    assert.ok(size <= 10_000, String(size));
  });
});
