import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { SchedulerModule } from '../scheduler/scheduler.module.js';
import { TaskLifecycleService } from './task-lifecycle.service.js';

/** The owner of every task's state, above the scheduler that runs them. */
@Module({
  imports: [SchedulerModule, ClusterModule],
  providers: [TaskLifecycleService],
  exports: [TaskLifecycleService, SchedulerModule],
})
export class LifecycleModule {}
