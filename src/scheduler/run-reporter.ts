import type { ErrorCode } from '../common/error-codes.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import type { LiveProgress } from './speed-meter.js';

/** How a run failed, in the words a client sees. */
export interface RunFailure {
  message: string;
  errorCode: ErrorCode;
  /** The missing tool, when that is why. */
  dependency?: string;
}

export interface SucceededRunReport {
  file: string;
  /** Every file the task has now: the file, its subtitles, the parts earlier runs of a live recording saved. */
  outputs: string[];
  name: string;
  nameIsDerived: boolean;
  /** The figures the run ended on. */
  progress: LiveProgress;
}

/**
 * What the scheduler tells the lifecycle about each run: the only way a run's result reaches a task's row.
 * The lifecycle implements it and attaches itself, so that the scheduler imports nothing above it.
 */
export interface RunReporter {
  /** The run may begin: the task as stored, now marked started, or null when it no longer runs (stopped, marked or deleted meanwhile). */
  started(id: number): Promise<DownloadEntity | null>;
  /** `publish`: the figures changed since the last report; `persist`: they are due to be written down. */
  progress(id: number, progress: LiveProgress, due: { publish: boolean; persist: boolean }): Promise<void>;
  succeeded(id: number, report: SucceededRunReport): Promise<void>;
  /** Aborted by a client's stop or its task's delete; `saved`: a live recording's part, saved as the task's file, and all its files. */
  stopped(id: number, cause: 'client' | 'delete', progress: LiveProgress, saved?: { file: string; outputs: string[] }): Promise<void>;
  /** Cut short by a shutdown: it runs again at the next boot. Null progress: a recording, whose part is saved apart (`outputs`: all the task's files). */
  interrupted(id: number, progress: LiveProgress | null, outputs?: string[]): Promise<void>;
  failed(id: number, failure: RunFailure, progress: LiveProgress): Promise<void>;
}
