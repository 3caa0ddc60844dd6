import { Inject, Injectable } from '@nestjs/common';
import type { DownloadType } from '../common/download-type.enum.js';
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
}
