import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { HttpClient } from '../../engine/http-client.js';
import { downloadRanged } from '../../engine/ranged-download.js';
import type { DownloadContext, DownloadJob, DownloadOutput } from '../downloader.interface.js';
import { pickExtension, titleFromResponse } from './file-naming.js';

/**
 * One plain file into job.workDir with our segmented, resumable downloader, named from what the
 * server says (Content-Disposition, URL, Content-Type). Shared by the direct and mediago types.
 */
export async function downloadPlainFile(http: HttpClient, connections: number, job: DownloadJob, context: DownloadContext): Promise<DownloadOutput> {
  const partPath = join(job.workDir, 'download.part');
  const statePath = join(job.workDir, 'download.state.json');
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
  });
  await rm(statePath, { force: true });
  context.log(`downloaded ${result.totalBytes} bytes`);
  const title = job.nameIsDerived ? titleFromResponse(result.headers) : undefined;
  return { path: partPath, extension: pickExtension(result.headers, result.finalUrl, job.url), ...(title ? { title } : {}) };
}
