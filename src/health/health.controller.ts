import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_REQUEST, ApiEnvelope, ApiErrors, ApiOpenRoute } from '../common/api-envelope.decorator.js';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { Public } from '../common/public.decorator.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DownloaderRegistry } from '../downloaders/downloader.registry.js';
import { ToolsService, type ToolStatus } from '../engine/tools.service.js';
import { DatabaseCheck, DiskSpaceCheck, degradedReasons } from './health-checks.js';
import { HealthDto, ToolStatusDto } from './health.dto.js';

interface Health {
  /** "degraded" (still HTTP 200) when a tool is missing or a disk is below MIN_FREE_SPACE; `reasons` says why. */
  status: 'ok' | 'degraded';
  reasons: string[];
  types: string[];
  tools: Record<string, ToolStatus>;
  node: string;
  database: 'sqlite' | 'postgres';
}

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly tools: ToolsService,
    private readonly registry: DownloaderRegistry,
    private readonly space: DiskSpaceCheck,
    private readonly database: DatabaseCheck,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('healthy')
  @Public()
  @ApiOperation({
    operationId: 'healthy',
    summary: 'Health probe (never needs a key): ok, or degraded with reasons (a tool missing, low disk space), or 503 database_unavailable; also the task types and tools available',
  })
  @ApiOpenRoute()
  @ApiExtraModels(ToolStatusDto)
  @ApiEnvelope(HealthDto)
  @ApiErrors(ANY_REQUEST, { 503: [ErrorCode.DatabaseUnavailable] })
  async healthy(): Promise<Health> {
    if (!(await this.database.answers())) throw new ApiError(503, ErrorCode.DatabaseUnavailable, 'The database does not answer: tasks cannot be read or saved');
    const tools = await this.tools.status();
    const reasons = degradedReasons(tools, await this.space.free(), this.space.floor);
    return {
      status: reasons.length ? 'degraded' : 'ok',
      reasons,
      types: this.registry.types(),
      tools,
      node: this.config.nodeId,
      database: this.config.databaseUrl ? 'postgres' : 'sqlite',
    };
  }
}
