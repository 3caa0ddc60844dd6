import { Module } from '@nestjs/common';
import { DownloadersModule } from '../downloaders/downloaders.module.js';
import { LifecycleModule } from '../lifecycle/lifecycle.module.js';
import { DownloadsController } from './downloads.controller.js';
import { DownloadsService } from './downloads.service.js';
import { LinkResolutionService } from './link-resolution.service.js';
import { MediaStreamService } from './media-stream.service.js';

@Module({
  imports: [LifecycleModule, DownloadersModule],
  controllers: [DownloadsController],
  providers: [DownloadsService, LinkResolutionService, MediaStreamService],
})
export class DownloadsModule {}
