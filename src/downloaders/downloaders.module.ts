import { Module } from '@nestjs/common';
import { DOWNLOADERS, type Downloader } from './downloader.interface.js';
import { DownloaderRegistry } from './downloader.registry.js';
import { BilibiliDownloader } from './bilibili/bilibili.downloader.js';
import { DirectDownloader } from './direct/direct.downloader.js';
import { M3u8Downloader } from './m3u8/m3u8.downloader.js';
import { MediagoDownloader } from './mediago/mediago.downloader.js';
import { YoutubeDownloader } from './youtube/youtube.downloader.js';

/** Every strategy, one line each; the registry receives them all under the DOWNLOADERS token. */
const STRATEGIES = [DirectDownloader, M3u8Downloader, BilibiliDownloader, YoutubeDownloader, MediagoDownloader];

@Module({
  providers: [
    ...STRATEGIES,
    { provide: DOWNLOADERS, useFactory: (...downloaders: Downloader[]) => downloaders, inject: STRATEGIES },
    DownloaderRegistry,
  ],
  exports: [DownloaderRegistry],
})
export class DownloadersModule {}
