import { ApiProperty } from '@nestjs/swagger';

export class WebhookTargetStatusDto {
  @ApiProperty({ example: 'https://hooks.example.com/mediago', description: 'the receiver, without its query string' }) url!: string;
  @ApiProperty({ description: 'deliveries waiting or being tried' }) pending!: number;
  @ApiProperty() delivered!: number;
  @ApiProperty({ description: 'deliveries given up after their tries' }) failed!: number;
  @ApiProperty({ type: String, nullable: true, example: 'download-success' }) lastEvent!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 200, description: 'HTTP status of the last try; null when it got no answer' }) lastStatus!: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastAttemptAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastSuccessAt!: string | null;
}

export class WebhooksOverviewDto {
  @ApiProperty({ type: [String], example: ['download-success', 'download-failed'] }) events!: string[];
  @ApiProperty({ description: 'deliveries carry X-Signature-256 (WEBHOOK_SECRET is set)' }) signed!: boolean;
  @ApiProperty({ type: [WebhookTargetStatusDto] }) targets!: WebhookTargetStatusDto[];
}

export class WebhookTestOutcomeDto {
  @ApiProperty() url!: string;
  @ApiProperty() delivered!: boolean;
  @ApiProperty({ type: Number, nullable: true }) status!: number | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
}
