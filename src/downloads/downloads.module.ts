import { Module } from '@nestjs/common';
import { LifecycleModule } from '../lifecycle/lifecycle.module.js';
import { DownloadsController } from './downloads.controller.js';
import { DownloadsService } from './downloads.service.js';
import { MediaStreamService } from './media-stream.service.js';

@Module({
  imports: [LifecycleModule],
  controllers: [DownloadsController],
  providers: [DownloadsService, MediaStreamService],
})
export class DownloadsModule {}
