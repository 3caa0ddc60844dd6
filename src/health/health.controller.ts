import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_REQUEST, ApiEnvelope, ApiErrors, ApiOpenRoute } from '../common/api-envelope.decorator.js';
import { ErrorCode } from '../common/error-codes.js';
import { Public } from '../common/public.decorator.js';
import { DownloaderRegistry } from '../downloaders/downloader.registry.js';
import { ToolsService, type ToolStatus } from '../engine/tools.service.js';
import { HealthDto, ToolStatusDto } from './health.dto.js';

interface Health {
  status: 'ok';
  types: string[];
  tools: Record<string, ToolStatus>;
}

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly tools: ToolsService,
    private readonly registry: DownloaderRegistry,
  ) {}

  @Get('healthy')
  @Public()
  @ApiOperation({ operationId: 'healthy', summary: 'Health probe (never needs a key); also says which task types and optional tools are available' })
  @ApiOpenRoute()
  @ApiExtraModels(ToolStatusDto)
  @ApiEnvelope(HealthDto)
  @ApiErrors(ANY_REQUEST, { 503: [ErrorCode.DatabaseUnavailable] })
  healthy(): Health {
    return { status: 'ok', types: this.registry.types(), tools: this.tools.status() };
  }
}
