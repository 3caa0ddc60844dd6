import { Module } from '@nestjs/common';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { TaskLifecycleService } from './task-lifecycle.service.js';

/** The owner of every task's state, above the scheduler that runs them. */
@Module({
  imports: [SchedulerModule],
  providers: [TaskLifecycleService],
  exports: [TaskLifecycleService, SchedulerModule],
})
export class LifecycleModule {}
