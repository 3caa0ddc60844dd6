import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freeBytes } from '../common/disk-space.js';

const RESERVE_BYTES = 1024 * 1024;

/**
 * A small file of zeros in DATA_DIR, given back when the disk is full: with DATA_DIR and the downloads on
 * one disk, the write that records "failed: the disk is full" would otherwise fail for the same reason.
 */
export class SpaceReserve {
  private readonly path: string;
  private present = false;

  constructor(dataDir: string) {
    this.path = join(dataDir, '.space-reserve');
  }

  /** Puts the reserve back when it is gone and there is room for it several times over. */
  async ensure(): Promise<void> {
    if (this.present) return;
    try {
      if ((await stat(this.path).catch(() => null))?.size === RESERVE_BYTES) {
        this.present = true;
        return;
      }
      if ((await freeBytes(this.path)) < 4 * RESERVE_BYTES) return;
      await writeFile(this.path, Buffer.alloc(RESERVE_BYTES));
      this.present = true;
    } catch {
      await rm(this.path, { force: true }).catch(() => undefined);
    }
  }

  /** Frees the reserve; true when there was one to free. */
  async release(): Promise<boolean> {
    const existed = await stat(this.path).then(
      () => true,
      () => false,
    );
    await rm(this.path, { force: true }).catch(() => undefined);
    this.present = false;
    return existed;
  }
}
