import { Module } from '@nestjs/common';
import { DownloadersModule } from '../downloaders/downloaders.module.js';
import { DatabaseCheck, DiskSpaceCheck } from './health-checks.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [DownloadersModule],
  controllers: [HealthController],
  providers: [DiskSpaceCheck, DatabaseCheck],
})
export class HealthModule {}
