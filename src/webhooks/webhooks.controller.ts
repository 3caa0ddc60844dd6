import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_API_ROUTE, ApiEnvelope, ApiErrors, BODYLESS_COMMAND } from '../common/api-envelope.decorator.js';
import type { DeliveryOutcome } from './webhook-dispatcher.js';
import { WebhookTestOutcomeDto, WebhooksOverviewDto } from './webhooks.dto.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @ApiOperation({ operationId: 'getWebhooks', summary: 'The webhook receivers, the events sent to them, and how the last deliveries went' })
  @ApiEnvelope(WebhooksOverviewDto)
  @ApiErrors(ANY_API_ROUTE)
  overview(): WebhooksOverviewDto {
    return this.webhooks.overview();
  }

  @Post('test')
  @HttpCode(200)
  @ApiOperation({ operationId: 'testWebhooks', summary: 'Send a "test" event to every receiver once and report how each answered' })
  @ApiEnvelope(WebhookTestOutcomeDto, { isArray: true })
  @ApiErrors(ANY_API_ROUTE, BODYLESS_COMMAND)
  test(): Promise<DeliveryOutcome[]> {
    return this.webhooks.sendTest();
  }
}
