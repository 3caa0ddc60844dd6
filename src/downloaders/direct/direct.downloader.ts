import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DownloadType } from '../../common/download-type.enum.js';
import { HttpClient } from '../../engine/http-client.js';
import type { DownloadContext, DownloadJob, DownloadOutput } from '../../engine/download-job.js';
import type { Downloader } from '../downloader.interface.js';
import { downloadPlainFile } from '../../engine/plain-file-download.js';

/** A plain file over HTTP(S): several ranged connections when the server allows, resumable, streamed to disk. */
@Injectable()
export class DirectDownloader implements Downloader {
  readonly type = DownloadType.Direct;

  constructor(
    private readonly http: HttpClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  run(job: DownloadJob, context: DownloadContext): Promise<DownloadOutput> {
    return downloadPlainFile(this.http, this.config.directConnections, job, context);
  }
}
