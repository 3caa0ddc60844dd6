import type { DownloadType } from '../common/download-type.enum.js';
import type { DownloadContext, DownloadJob, DownloadOutput } from '../engine/download-job.js';
import type { ResolveContext, ResolveRequest, ResolvedLink } from '../engine/resolved-link.js';

/** One per task type; implementations are collected under DOWNLOADERS and picked by type. */
export interface Downloader {
  readonly type: DownloadType;
  /**
   * Downloads the job. Must honour ctx.signal promptly: on abort it either rejects
   * (partial data stays in workDir for a resume) or, for a live recording, resolves
   * with what was recorded so far.
   */
  run(job: DownloadJob, ctx: DownloadContext): Promise<DownloadOutput>;
  /**
   * What a link holds (its parts, episodes or playlist entries), without downloading media. Optional: a type
   * without it treats every link as one entry. Rejects with a sentence when the link cannot be read; every
   * request goes through the shared HttpClient (or, for a tool, the same address check its runs get).
   */
  resolve?(request: ResolveRequest, ctx: ResolveContext): Promise<ResolvedLink>;
}

export const DOWNLOADERS = Symbol('DOWNLOADERS');
