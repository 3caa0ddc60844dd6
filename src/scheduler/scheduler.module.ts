import { Module } from '@nestjs/common';
import { DownloadersModule } from '../downloaders/downloaders.module.js';
import { SchedulerService } from './scheduler.service.js';
import { TaskLogService } from './task-log.service.js';

@Module({
  imports: [DownloadersModule],
  providers: [SchedulerService, TaskLogService],
  exports: [SchedulerService, TaskLogService],
})
export class SchedulerModule {}
