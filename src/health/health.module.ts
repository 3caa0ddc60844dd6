import { Module } from '@nestjs/common';
import { DownloadersModule } from '../downloaders/downloaders.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [DownloadersModule],
  controllers: [HealthController],
})
export class HealthModule {}
