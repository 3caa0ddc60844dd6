import { Controller, Get, Header, Inject, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { statfs } from 'node:fs/promises';
import { ANY_API_ROUTE, ApiEnvelope, ApiErrors } from '../common/api-envelope.decorator.js';
import { Public } from '../common/public.decorator.js';
import { RawResponse } from '../common/raw-response.decorator.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsAccessGuard } from './metrics-access.guard.js';
import { MetricsService } from './metrics.service.js';
import { type DiskSpaceDto, StatsDto } from './stats.dto.js';

@ApiTags('metrics')
@Controller()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('metrics')
  @Public()
  @UseGuards(MetricsAccessGuard)
  @RawResponse()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ operationId: 'scrapeMetrics', summary: 'Prometheus metrics (text format); needs the API key when one is set, unless METRICS_PUBLIC=true' })
  @ApiResponse({ status: 200, description: 'The Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiErrors(ANY_API_ROUTE)
  scrape(): Promise<string> {
    return this.metrics.text();
  }

  @Get('stats')
  @ApiOperation({ operationId: 'getStats', summary: 'Counts by status, total speed and free space of the download directory, for dashboards' })
  @ApiEnvelope(StatsDto)
  @ApiErrors(ANY_API_ROUTE)
  async stats(): Promise<StatsDto> {
    const byStatus = await this.metrics.countsByStatus();
    const total = Object.values(byStatus).reduce((sum, count) => sum + count, 0);
    return { counts: { ...byStatus, total }, speed: this.metrics.totalSpeed(), running: this.metrics.runningCount(), disk: await this.disk() };
  }

  private async disk(): Promise<DiskSpaceDto | null> {
    try {
      const fs = await statfs(this.config.downloadDir);
      return { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
    } catch {
      return null;
    }
  }
}
