import { Inject, Injectable } from '@nestjs/common';
import { mkdir } from 'node:fs/promises';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DownloadType } from '../../common/download-type.enum.js';
import { HttpClient } from '../../engine/http-client.js';
import { PermanentError, redactUrl } from '../../engine/http-error.js';
import { ToolsService } from '../../engine/tools.service.js';
import type { DownloadContext, DownloadJob, DownloadOutput } from '../../engine/download-job.js';
import { type ResolveContext, type ResolveRequest, type ResolvedLink, singleEntryLink } from '../../engine/resolved-link.js';
import type { Downloader } from '../downloader.interface.js';
import { downloadPlainFile } from '../../engine/plain-file-download.js';
import { HlsSession } from '../../engine/hls/hls-session.js';
import { DashSession } from './dash/dash-session.js';
import { type UrlProbe, probeUrl } from './url-probe.js';

const KIND_NAMES = { hls: 'an HLS playlist', dash: 'a DASH manifest', file: 'a plain file', html: 'a web page', unknown: 'unrecognised content' } as const;

/** The `mediago` type: probes the URL, then downloads an HLS stream, a DASH presentation or a plain file. */
@Injectable()
export class MediagoDownloader implements Downloader {
  readonly type = DownloadType.Mediago;

  constructor(
    private readonly http: HttpClient,
    private readonly tools: ToolsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(job: DownloadJob, ctx: DownloadContext): Promise<DownloadOutput> {
    const probe = await probeUrl(this.http, job.url, { headers: job.headers, signal: ctx.signal, log: ctx.log });
    const { kind, by } = probe.decision;
    ctx.log(`probe: ${redactUrl(probe.url)} is ${KIND_NAMES[kind]} (by its ${by}${probe.contentType ? `; Content-Type ${probe.contentType}` : ''})`);
    const deps = { http: this.http, ffmpeg: this.tools.ffmpeg, config: this.config };
    const prefetched = probe.whole ? { text: probe.whole.toString('utf8'), url: probe.url } : undefined;
    switch (kind) {
      case 'hls':
        return new HlsSession(deps, job, ctx).run(prefetched);
      case 'dash':
        return new DashSession(deps, job, ctx).run(prefetched);
      case 'file':
        return this.downloadFile(job, ctx);
      default:
        throw unsupported(probe);
    }
  }

  /** One entry: the link itself, once its first bytes show a stream or file this type downloads (no media is read beyond them). */
  async resolve(request: ResolveRequest, ctx: ResolveContext): Promise<ResolvedLink> {
    const probe = await probeUrl(this.http, request.url, { headers: request.headers, signal: ctx.signal, log: ctx.log });
    const { kind, by } = probe.decision;
    ctx.log(`probe: ${redactUrl(probe.url)} is ${KIND_NAMES[kind]} (by its ${by})`);
    if (kind !== 'hls' && kind !== 'dash' && kind !== 'file') throw unsupported(probe);
    return singleEntryLink(request.url);
  }

  /** The same segmented, resumable downloader as the `direct` type. */
  private async downloadFile(job: DownloadJob, ctx: DownloadContext): Promise<DownloadOutput> {
    await mkdir(job.workDir, { recursive: true });
    return downloadPlainFile(this.http, this.config.directConnections, job, ctx);
  }
}

function unsupported(probe: UrlProbe): PermanentError {
  const where = redactUrl(probe.url);
  const type = probe.contentType ? ` (${probe.contentType.split(';')[0].trim()})` : '';
  if (probe.decision.kind === 'html') {
    return new PermanentError(`${where} is a web page${type}, not a media stream or file; to download the video shown on a site page, create the task with type "youtube"`);
  }
  return new PermanentError(`${where} answered content${type} that is neither an HLS playlist, a DASH manifest nor a media file; for a video on a site page use type "youtube"`);
}
