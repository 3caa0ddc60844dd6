import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { localPathProblem } from '../common/local-path.js';
import { describeError } from '../engine/http-error.js';
import { DATABASE_FILE } from './data-source-options.js';

function reason(error: unknown): string {
  const { code } = error as { code?: string };
  const text = describeError(error).replace(/^SQLITE_\w+: /, '');
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/** Opens the database file and takes the write lock once: a corrupt, locked or read-only store fails here. */
function probeDatabase(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE, (openError) => {
      if (openError) return reject(openError);
      db.exec('PRAGMA schema_version; BEGIN IMMEDIATE; ROLLBACK;', (execError) => {
        db.close(() => (execError ? reject(execError) : resolve()));
      });
    });
  });
}

/**
 * Why the service cannot keep its data in dataDir, in one line for the console, or null when it can:
 * the directory must be creatable and writable and the database must open. Checked before the app is built,
 * so that a bad DATA_DIR gives one clear line instead of the ORM's retries and stack traces.
 */
export async function dataDirProblem(dataDir: string): Promise<string | null> {
  // checked before mkdir: a recursive mkdir inside /proc never returns
  const unusable = await localPathProblem(dataDir);
  if (unusable) return `DATA_DIR (${dataDir}) ${unusable}`;
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (error) {
    return `DATA_DIR (${dataDir}) cannot be created: ${reason(error)}`;
  }
  const probe = join(dataDir, `.write-test-${process.pid}`);
  try {
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    return `DATA_DIR (${dataDir}) is not writable: ${reason(error)}`;
  }
  try {
    await probeDatabase(join(dataDir, DATABASE_FILE));
  } catch (error) {
    return `the database in DATA_DIR (${join(dataDir, DATABASE_FILE)}) cannot be opened: ${reason(error)}`;
  }
  return null;
}

/** Why files cannot go to the download directory, or null. */
export async function downloadDirProblem(downloadDir: string): Promise<string | null> {
  const unusable = await localPathProblem(downloadDir);
  if (unusable) return `DOWNLOAD_DIR (${downloadDir}) ${unusable}`;
  try {
    await mkdir(downloadDir, { recursive: true });
    return null;
  } catch (error) {
    return `DOWNLOAD_DIR (${downloadDir}) cannot be created: ${reason(error)}`;
  }
}
