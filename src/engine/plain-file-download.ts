import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type HttpClient, type HttpResponse, headerValue } from './http-client.js';
import { redactUrl } from './http-error.js';
import { type RangedState, completedPrefix, downloadRanged } from './ranged-download.js';
import { readStateFile } from './task-workspace.js';
import type { DownloadContext, DownloadJob, DownloadOutput } from './download-job.js';
import { fileNameFromUrl, pickExtension, titleFromResponse } from './file-naming.js';

/** Media and archive extensions: a link to one that answers with a web page has expired or needs a login. */
const BINARY_EXTENSION = /\.(mp4|m4v|m4a|mkv|webm|mov|avi|flv|ts|mp3|aac|flac|wav|ogg|opus|zip|7z|rar|gz|tar|iso|exe|dmg|pdf)$/i;

/** An HTML answer where the URL names a media or archive file is an error page, not the file. */
export function refuseErrorPage(response: Pick<HttpResponse, 'headers'>, url: string): string | null {
  const contentType = headerValue(response.headers, 'content-type') ?? '';
  if (!/^text\/html\b/i.test(contentType) || !BINARY_EXTENSION.test(fileNameFromUrl(url) ?? '')) return null;
  return `${redactUrl(url)} answered a web page instead of the file: the link may have expired or need a login (add a Cookie or Referer header)`;
}

const PART_FILE = 'download.part';
const STATE_FILE = 'download.state.json';

/** How far a plain-file download in a workspace has come: its part file and the bytes complete from its start. */
export interface PlainFileProgress {
  partPath: string;
  /** Bytes from 0 without a gap, as of the last checkpoint (at most a couple of seconds old). */
  prefixBytes: number;
  /** The whole file's size, when the server said. */
  totalBytes: number | null;
  /** The URL it came from (its file name hints at the media type). */
  url: string;
}

/** The progress of the plain-file download kept in workDir, or null when there is none (or it has just been moved into place). */
export async function readPlainFileProgress(workDir: string): Promise<PlainFileProgress | null> {
  const state = await readStateFile<RangedState>(join(workDir, STATE_FILE));
  if (state?.version !== 1 || !Array.isArray(state.ranges)) return null;
  return { partPath: join(workDir, PART_FILE), prefixBytes: completedPrefix(state.ranges), totalBytes: state.total, url: state.url };
}

/**
 * One plain file into job.workDir with our segmented, resumable downloader, named from what the
 * server says (Content-Disposition, URL, Content-Type). Shared by the direct and mediago types.
 */
export async function downloadPlainFile(http: HttpClient, connections: number, job: DownloadJob, context: DownloadContext): Promise<DownloadOutput> {
  const partPath = join(job.workDir, PART_FILE);
  const statePath = join(job.workDir, STATE_FILE);
  const result = await downloadRanged({
    http,
    url: job.url,
    headers: job.headers,
    partPath,
    statePath,
    connections,
    signal: context.signal,
    onProgress: (downloadedBytes, totalBytes) => context.progress({ downloadedBytes, totalBytes }),
    log: context.log,
    refuse: (response) => refuseErrorPage(response, job.url),
    ensureSpace: context.ensureSpace,
  });
  await rm(statePath, { force: true });
  context.log(`downloaded ${result.totalBytes} bytes`);
  const title = job.nameIsDerived ? titleFromResponse(result.headers) : undefined;
  return { path: partPath, extension: pickExtension(result.headers, result.finalUrl, job.url), ...(title ? { title } : {}) };
}
