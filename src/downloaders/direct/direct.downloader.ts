import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DownloadType } from '../../downloads/download-status.enum.js';
import { HttpClient } from '../../engine/http-client.js';
import { downloadRanged } from '../../engine/ranged-download.js';
import type { DownloadContext, DownloadJob, DownloadOutput, Downloader } from '../downloader.interface.js';
import { pickExtension, titleFromResponse } from './file-naming.js';

/** A plain file over HTTP(S): several ranged connections when the server allows, resumable, streamed to disk. */
@Injectable()
export class DirectDownloader implements Downloader {
  readonly type = DownloadType.Direct;

  constructor(
    private readonly http: HttpClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(job: DownloadJob, context: DownloadContext): Promise<DownloadOutput> {
    const partPath = join(job.workDir, 'download.part');
    const statePath = join(job.workDir, 'download.state.json');
    const result = await downloadRanged({
      http: this.http,
      url: job.url,
      headers: job.headers,
      partPath,
      statePath,
      connections: this.config.directConnections,
      signal: context.signal,
      onProgress: (downloadedBytes, totalBytes) => context.progress({ downloadedBytes, totalBytes }),
      log: context.log,
    });
    await rm(statePath, { force: true });
    context.log(`downloaded ${result.totalBytes} bytes`);
    return {
      path: partPath,
      extension: pickExtension(result.headers, result.finalUrl, job.url),
      title: job.nameIsDerived ? titleFromResponse(result.headers) : undefined,
    };
  }
}
