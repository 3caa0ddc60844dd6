import type { DownloadType } from '../common/download-type.enum.js';
import type { DownloadContext, DownloadJob, DownloadOutput } from '../engine/download-job.js';

/** One per task type; implementations are collected under DOWNLOADERS and picked by type. */
export interface Downloader {
  readonly type: DownloadType;
  /**
   * Downloads the job. Must honour ctx.signal promptly: on abort it either rejects
   * (partial data stays in workDir for a resume) or, for a live recording, resolves
   * with what was recorded so far.
   */
  run(job: DownloadJob, ctx: DownloadContext): Promise<DownloadOutput>;
}

export const DOWNLOADERS = Symbol('DOWNLOADERS');
