import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ToolStatusDto {
  @ApiProperty() found: boolean;
  @ApiProperty({ type: String, nullable: true, example: '6.1.1' }) version: string | null;
  @ApiPropertyOptional({ description: 'yt-dlp only: a version with a known security flaw' }) outdated?: boolean;
  @ApiPropertyOptional({ description: 'With outdated: which flaw, and what to do', example: 'yt-dlp 2023.03.04 sends cookies to other hosts on redirect (CVE-2023-35934); update it' }) warning?: string;
}

/** What GET /healthy answers in `data`; fields beyond `status` are additive. */
export class HealthDto {
  @ApiProperty({ enum: ['ok', 'degraded'], description: 'ok, or degraded (still HTTP 200) when a tool is missing or space is low' }) status: 'ok' | 'degraded';
  @ApiProperty({ type: [String], example: ['m3u8', 'bilibili', 'direct', 'youtube', 'mediago'], description: 'The task types this service runs' }) types: string[];
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ToolStatusDto' },
    description: 'The optional tools by name (ffmpeg, ffprobe, yt-dlp): found, and their version',
  })
  tools: Record<string, ToolStatusDto>;
  @ApiProperty({ example: 'media-1-3f9a2c', description: "This node's NODE_ID (several nodes can share one PostgreSQL database)" }) node: string;
  @ApiProperty({ enum: ['sqlite', 'postgres'], description: 'Where the tasks are kept: the embedded SQLite file, or the PostgreSQL database of DATABASE_URL' }) database: 'sqlite' | 'postgres';
  @ApiProperty({ type: [String], description: 'Why the service is degraded (a missing tool, a disk below MIN_FREE_SPACE); empty when ok' }) reasons: string[];
}
