import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiEnvelope } from '../common/api-envelope.decorator.js';
import { Public } from '../common/public.decorator.js';
import { DownloaderRegistry } from '../downloaders/downloader.registry.js';
import { ToolsService, type ToolStatus } from '../engine/tools.service.js';

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
  @ApiOperation({ summary: 'Health probe (never needs a key); also says which task types and optional tools are available' })
  @ApiEnvelope('empty', { description: '{ status: "ok", types, tools }' })
  healthy(): Health {
    return { status: 'ok', types: this.registry.types(), tools: this.tools.status() };
  }
}
