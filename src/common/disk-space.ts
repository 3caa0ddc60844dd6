import { stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** The deepest part of path that exists (path itself when it does); "/" at worst. */
export async function nearestExisting(path: string): Promise<string> {
  let current = resolve(path);
  for (;;) {
    try {
      await stat(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/** Bytes an unprivileged writer may still use on the file system that holds path (or would hold it). */
export async function freeBytes(path: string): Promise<number> {
  const info = await statfs(await nearestExisting(path));
  return Number(info.bavail) * Number(info.bsize);
}

/** DATA_DIR holds only the database and the task logs: it needs MIN_FREE_SPACE, but never more than this. */
export function dataDirFloor(minFreeSpace: number): number {
  return Math.min(minFreeSpace, 64 * 1024 * 1024);
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** "1 TiB", "30 GiB", "1.5 MiB", "512 bytes": sizes in messages people read. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 100 || Number.isInteger(Math.round(value * 10) / 10) ? Math.round(value) : Math.round(value * 10) / 10;
  return `${shown} ${UNITS[unit]}`;
}
