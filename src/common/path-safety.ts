import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

const RESERVED_WINDOWS_NAMES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// Characters Windows, macOS or Linux refuse or treat specially in a file name, and control characters.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARACTERS = /[<>:"/\\|?*\u0000-\u001f\u007f]/g;
// Bidi controls (a name can show "gpj.exe" as "exe.jpg") and zero-width characters (invisible look-alikes).
const INVISIBLE_CHARACTERS = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const MAX_NAME_BYTES = 180;

/** Makes a name safe as a single path segment on every common file system; never empty, never hidden. */
export function sanitizeFileName(name: string, fallback = 'download'): string {
  let safe = name.normalize('NFC').replace(INVISIBLE_CHARACTERS, '').replace(UNSAFE_CHARACTERS, '_').replace(/\s+/g, ' ').trim();
  safe = safe.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (RESERVED_WINDOWS_NAMES.test(safe)) safe = `_${safe}`;
  safe = truncateUtf8(safe, MAX_NAME_BYTES).replace(/[.\s]+$/, '');
  return safe || fallback;
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const character of text) {
    if (Buffer.byteLength(out + character) > maxBytes) break;
    out += character;
  }
  return out;
}

/** Why a folder from a request is refused, or null when it is an acceptable relative sub-directory. */
export function folderProblem(folder: string): string | null {
  if (folder.includes('\0')) return 'must not contain a NUL byte';
  if (folder.length > 1024) return 'must be at most 1024 characters';
  if (isAbsolute(folder) || /^[\\/]/.test(folder) || /^[A-Za-z]:/.test(folder)) return 'must be a relative sub-directory, not an absolute path';
  const segments = folder.split(/[\\/]+/);
  if (segments.some((segment) => segment.trim() === '..')) return 'must not contain ".." segments';
  if (segments.filter((segment) => segment.trim() && segment.trim() !== '.').length > 16) return 'must be at most 16 directories deep';
  return null;
}

/** A validated folder with each segment made safe, joined with "/"; "" for none. */
export function normalizeFolder(folder: string | null | undefined): string {
  if (!folder) return '';
  const problem = folderProblem(folder);
  if (problem) throw new Error(`folder ${problem}`);
  return folder
    .split(/[\\/]+/)
    .map((segment) => segment.trim())
    .filter((segment) => segment && segment !== '.')
    .map((segment) => sanitizeFileName(segment, '_'))
    .join('/');
}

/** Joins parts under base and proves the result stays inside base, symbolic links included. */
export async function resolveInside(base: string, ...parts: string[]): Promise<string> {
  const root = resolve(base);
  const target = resolve(root, ...parts);
  if (!isWithin(root, target)) throw new Error('the path leaves the download directory');
  const realRoot = await realpath(root).catch(() => root);
  const realTarget = await realExistingPrefix(target);
  if (!isWithin(realRoot, realTarget)) throw new Error('the path leaves the download directory through a symbolic link');
  return target;
}

function isWithin(root: string, target: string): boolean {
  const path = relative(root, target);
  return path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path);
}

/** realpath of the deepest part of path that exists, with the rest appended; a dangling link is refused. */
async function realExistingPrefix(path: string): Promise<string> {
  let current = path;
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(await realpath(current), ...rest.reverse());
    } catch {
      // a link whose target does not exist yet could still point anywhere once written through
      if (await lstat(current).then((stats) => stats.isSymbolicLink(), () => false)) {
        throw new Error('the path leaves the download directory through a symbolic link');
      }
      const parent = dirname(current);
      if (parent === current) return path;
      rest.push(current.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      current = parent;
    }
  }
}
