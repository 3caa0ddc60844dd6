import { ErrorCode } from '../common/error-codes.js';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { describeError } from '../engine/http-error.js';
import { failureCode } from '../engine/task-errors.js';

/**
 * Where the service's own code lives (its build, sources and packages under its folder): no message a user reads
 * names it. Only those folders: with the default DOWNLOAD_DIR (./downloads) a user's files are in the same folder.
 */
const SERVICE_CODE = new RegExp(`${escapeForRegExp(PACKAGE_ROOT.replace(/\/+$/, ''))}/(?:dist|build|src|node_modules|scripts)/[^\\s'":)]*`, 'g');

const DISK_FULL = /\bENOSPC\b|\bEDQUOT\b|No space left on device|Disk quota exceeded|\[Errno 28\]/i;
const STORE_FULL = /\bSQLITE_FULL\b|database or disk is full/i;
/** Error types JavaScript raises for mistakes in code (ours or a library's), not for bad media or networks. */
const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

/** Where a failure's details are: its message, its code, its cause's, and a wrapped driver error's (TypeORM). */
function traits(error: unknown): string[] {
  const found: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const item = current as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof item.code === 'string') found.push(item.code);
    if (typeof item.message === 'string') found.push(item.message);
    if (item.driverError) found.push(...traits(item.driverError));
    current = item.cause;
  }
  return found;
}

/** 'disk' when the download's disk is full, 'store' when the database could not grow, else null. */
export function diskFullKind(error: unknown): 'disk' | 'store' | null {
  const all = traits(error);
  if (all.some((text) => STORE_FULL.test(text))) return 'store';
  if (all.some((text) => DISK_FULL.test(text))) return 'disk';
  return null;
}

/** A bug rather than a property of the download: a TypeError reading undefined, a RangeError, … */
export function isInternalError(error: unknown): boolean {
  if (!PROGRAMMING_ERRORS.some((type) => error instanceof type)) return false;
  const { code, message } = error as { code?: string; message: string };
  // TypeErrors that describe the input or the network, not our code
  return code !== 'ERR_INVALID_URL' && message !== 'fetch failed';
}

function escapeForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Directories whose paths mean nothing to a user, and what they read instead. */
export interface PrivatePaths {
  /** The task's hidden working directory: files in it are named by their own name. */
  workDir?: string | null;
  dataDir?: string;
}

/** The message without the service's own paths: work-dir files by their name, DATA_DIR and the install by name. */
export function withoutPrivatePaths(message: string, paths: PrivatePaths): string {
  let text = message;
  if (paths.workDir) {
    text = text.replace(new RegExp(`${escapeForRegExp(paths.workDir)}(/?)`, 'g'), (_match, slash: string) => (slash ? '' : "the task's working directory"));
  }
  if (paths.dataDir) text = text.replace(new RegExp(escapeForRegExp(paths.dataDir), 'g'), 'DATA_DIR');
  return text.replace(SERVICE_CODE, '(the service)');
}

export interface TaskFailure {
  message: string;
  errorCode: ErrorCode;
  dependency?: string;
  /** Details for the service log only (a bug's stack). */
  internal?: string;
}

/** A failed run as the user sees it: a sentence about the task, its errorCode, and details for the service log. */
export function describeFailure(error: unknown, task: { type: string; outputDir?: string | null }, paths: PrivatePaths): TaskFailure {
  const full = diskFullKind(error);
  if (full === 'disk') {
    const where = task.outputDir ? ` in ${task.outputDir}` : '';
    return { message: `the disk is full: no space was left to save this download${where}; the partial data is kept, so it resumes once space is freed`, errorCode: ErrorCode.InsufficientSpace };
  }
  if (full === 'store') {
    return { message: "the disk holding the service's database (DATA_DIR) is full; the download resumes once space is freed", errorCode: ErrorCode.InsufficientSpace };
  }
  if (isInternalError(error)) {
    const details = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    return {
      message: `the download failed because of an internal error in the ${task.type} engine (details in the service log)`,
      errorCode: ErrorCode.DownloadFailed,
      internal: details,
    };
  }
  return { message: withoutPrivatePaths(describeError(error), paths), ...failureCode(error) };
}
