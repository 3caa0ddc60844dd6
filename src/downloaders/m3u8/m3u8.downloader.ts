import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DownloadType } from '../../common/download-type.enum.js';
import { HttpClient } from '../../engine/http-client.js';
import { ToolsService } from '../../engine/tools.service.js';
import type { DownloadContext, DownloadJob, DownloadOutput } from '../../engine/download-job.js';
import type { Downloader } from '../downloader.interface.js';
import { HlsSession } from '../../engine/hls/hls-session.js';

/** The `m3u8` type: our own HLS engine (master/media playlists, AES-128, fMP4, live recording). */
@Injectable()
export class M3u8Downloader implements Downloader {
  readonly type = DownloadType.M3u8;

  constructor(
    private readonly http: HttpClient,
    private readonly tools: ToolsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  run(job: DownloadJob, ctx: DownloadContext): Promise<DownloadOutput> {
    return new HlsSession({ http: this.http, ffmpeg: this.tools.ffmpeg, config: this.config }, job, ctx).run();
  }
}
