import { ErrorCode } from '../common/error-codes.js';
import { PermanentError } from './http-error.js';

/** A failure that ends a task with a specific `errorCode` on its download-failed event. */
export class CodedTaskError extends PermanentError {
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CodedTaskError';
  }
}

/** A tool the task needs is not installed: download-failed says `dependency_missing` and names the tool. */
export class DependencyMissingError extends CodedTaskError {
  constructor(
    readonly dependency: 'ffmpeg' | 'ffprobe' | 'yt-dlp',
    message: string,
  ) {
    super(ErrorCode.DependencyMissing, message);
    this.name = 'DependencyMissingError';
  }
}

/** The errorCode (and the missing tool, if any) a failed task's event carries. */
export function failureCode(error: unknown): { errorCode: ErrorCode; dependency?: string } {
  if (error instanceof DependencyMissingError) return { errorCode: error.errorCode, dependency: error.dependency };
  if (error instanceof CodedTaskError) return { errorCode: error.errorCode };
  return { errorCode: ErrorCode.DownloadFailed };
}
