import { constants } from 'node:fs';
import { access, realpath, stat, statfs } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { nearestExisting } from './disk-space.js';
import { ApiError, ErrorCode } from './error-codes.js';

/** Kernel interfaces, not storage: a recursive mkdir there can spin forever (/proc/self loops back). */
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'];
/** statfs magic numbers of file systems that hold no files of their own (proc, sysfs, cgroup, devpts, …). */
const SYSTEM_FILE_SYSTEMS = new Set([
  0x9fa0, 0x62656572, 0x64626720, 0x27e0eb, 0x63677270, 0x73636673, 0x1cd1, 0x6e736673, 0x42494e4d, 0xcafe4a11, 0x74726163, 0x19800202, 0x50495045,
  0x534f434b,
]);

function insideSystemRoot(path: string): boolean {
  return SYSTEM_ROOTS.some((root) => isSameOrInside(root, path));
}

/**
 * Why a directory cannot take downloads, or null when it can: it must be absolute, and it or its
 * nearest existing ancestor must be a writable directory on a regular file system (never /proc, /sys, /dev).
 * Directories that do not exist yet are fine: they are created under that ancestor.
 */
export async function localPathProblem(path: string): Promise<string | null> {
  if (path.includes('\0')) return 'must not contain a NUL byte';
  if (!isAbsolute(path)) return 'must be an absolute path';
  const target = resolve(path);
  if (insideSystemRoot(target)) return `must not be inside ${SYSTEM_ROOTS.join(', ')}: those hold system interfaces, not files`;
  const existing = await nearestExisting(target);
  const real = await realpath(existing).catch(() => existing);
  if (insideSystemRoot(real)) return `leads into ${SYSTEM_ROOTS.join(', ')} through a symbolic link: those hold system interfaces, not files`;
  try {
    if (!(await stat(existing)).isDirectory()) return `cannot be created: ${existing} is a file, not a directory`;
    if (SYSTEM_FILE_SYSTEMS.has(Number((await statfs(existing)).type))) return `is on a system file system, not a regular one that stores files`;
    await access(existing, constants.W_OK | constants.X_OK);
  } catch {
    return existing === target ? 'is not a directory the service may write to' : `cannot be created: the service may not write to ${existing}`;
  }
  return null;
}

/** True when child is base or below it (purely by name). */
export function isSameOrInside(base: string, child: string): boolean {
  const rest = relative(base, child);
  return rest === '' || (rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
}

/** The start path's check: a 400 validation_failed naming localPath when the directory cannot take downloads. */
export async function assertUsableLocalPath(path: string): Promise<void> {
  const problem = await localPathProblem(path);
  if (problem) throw new ApiError(400, ErrorCode.ValidationFailed, `Invalid request: localPath ${problem}`, [{ path: 'localPath', message: `localPath ${problem}` }]);
}
