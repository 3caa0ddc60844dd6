import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { MetricsAccessGuard } from './metrics-access.guard.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** GET /metrics (Prometheus) and GET /api/stats (dashboards), fed by the lifecycle events. */
@Module({
  imports: [EventsModule],
  controllers: [MetricsController],
  providers: [MetricsService, MetricsAccessGuard],
})
export class MetricsModule {}
