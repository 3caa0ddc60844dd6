import { link, rename, unlink } from 'node:fs/promises';
import { pathExists } from '../common/file-system.js';
import { join } from 'node:path';
import { sanitizeFileName } from '../common/path-safety.js';

function safeExtension(extension: string): string {
  const clean = extension.replace(/^\.+/, '').replace(/[^A-Za-z0-9]/g, '').slice(0, 10).toLowerCase();
  return clean || 'bin';
}

/**
 * Moves a finished file from the working directory to "<dir>/<name>.<ext>", or "<name> (n).<ext>"
 * when another file holds that name: the file appears whole (hard link, then the temporary name goes),
 * and never replaces another task's file. The task's own earlier files (a re-download) are replaced.
 */
export async function placeOutput(outputDir: string, name: string, extension: string, source: string, ownPreviousFiles: string | readonly string[] | null): Promise<string> {
  const base = sanitizeFileName(name);
  const ext = safeExtension(extension);
  const own = new Set(typeof ownPreviousFiles === 'string' ? [ownPreviousFiles] : (ownPreviousFiles ?? []));
  for (let n = 0; n < 10_000; n++) {
    const candidate = join(outputDir, n === 0 ? `${base}.${ext}` : `${base} (${n}).${ext}`);
    if (own.has(candidate)) {
      await rename(source, candidate);
      return candidate;
    }
    try {
      await link(source, candidate);
      await unlink(source);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw error;
      // a file system without hard links: check, then rename
      if (await pathExists(candidate)) continue;
      await rename(source, candidate);
      return candidate;
    }
  }
  throw new Error(`no free file name for "${base}.${ext}" in the target directory`);
}
