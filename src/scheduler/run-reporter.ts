import type { ErrorCode } from '../common/error-codes.js';
import type { DownloadEntity } from '../tasks/download.entity.js';
import type { RunLease } from '../tasks/download.repository.js';
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
 * What the scheduler asks of and tells the lifecycle about each run: the only way a run touches a task's row.
 * The lifecycle implements it and attaches itself, so that the scheduler imports nothing above it.
 */
export interface RunReporter {
  /** Claims the oldest queued task for this node (marked started under a new lease), or null when none is queued. */
  claim(): Promise<DownloadEntity | null>;
  /** Renews the leases of this node's runs; answers the tokens of the leases that are gone (another node took them). */
  heartbeat(leases: RunLease[]): Promise<string[]>;
  /** `publish`: the figures changed since the last report; `persist`: they are due to be written down. */
  progress(lease: RunLease, progress: LiveProgress, due: { publish: boolean; persist: boolean }): Promise<void>;
  succeeded(lease: RunLease, report: SucceededRunReport): Promise<void>;
  /** Aborted by a client's stop or its task's delete; `saved`: a live recording's part, saved as the task's file, and all the task's files. */
  stopped(lease: RunLease, cause: 'client' | 'delete', progress: LiveProgress, saved?: { file: string; outputs: string[] }): Promise<void>;
  /** Cut short by a shutdown: it runs again later, here or on another node. Null progress: a recording, whose part is saved apart (`outputs`: all the task's files). */
  interrupted(lease: RunLease, progress: LiveProgress | null, outputs?: string[]): Promise<void>;
  failed(lease: RunLease, failure: RunFailure, progress: LiveProgress): Promise<void>;
}
