import { Inject, Injectable } from '@nestjs/common';
import type { DownloadType } from '../common/download-type.enum.js';
import { type ResolveContext, type ResolveRequest, type ResolvedLink, singleEntryLink } from '../engine/resolved-link.js';
import { DOWNLOADERS, type Downloader } from './downloader.interface.js';

/** Picks the strategy for a task type among the providers collected under DOWNLOADERS. */
@Injectable()
export class DownloaderRegistry {
  private readonly byType = new Map<DownloadType, Downloader>();

  constructor(@Inject(DOWNLOADERS) downloaders: Downloader[]) {
    for (const downloader of downloaders) this.byType.set(downloader.type, downloader);
  }

  find(type: DownloadType): Downloader | null {
    return this.byType.get(type) ?? null;
  }

  types(): DownloadType[] {
    return [...this.byType.keys()];
  }

  /** What a link holds, asked of its type's strategy; a strategy that cannot tell holds one entry: the link. */
  resolve(request: ResolveRequest, ctx: ResolveContext): Promise<ResolvedLink> {
    const downloader = this.find(request.type);
    if (downloader?.resolve) return downloader.resolve(request, ctx);
    return Promise.resolve(singleEntryLink(request.url));
  }
}
