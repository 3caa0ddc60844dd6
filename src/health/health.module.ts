import { Module } from '@nestjs/common';
import { DownloadersModule } from '../downloaders/downloaders.module.js';
import { DiskSpaceCheck } from './health-checks.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [DownloadersModule],
  controllers: [HealthController],
  providers: [DiskSpaceCheck],
})
export class HealthModule {}
