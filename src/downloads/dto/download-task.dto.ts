import { ApiProperty } from '@nestjs/swagger';
import { DownloadStatus, DownloadType } from '../download-status.enum.js';

export class DownloadTaskDto {
  @ApiProperty({ example: 123 }) id: number;
  @ApiProperty({ example: 'My Video' }) name: string;
  @ApiProperty({ enum: DownloadType }) type: DownloadType;
  @ApiProperty({ example: 'https://example.com/video.m3u8' }) url: string;
  @ApiProperty({ example: 'my-folder', description: '"" when none' }) folder: string;
  @ApiProperty({ example: 'User-Agent: ...\nReferer: ...', description: '"" when none' }) headers: string;
  @ApiProperty() isLive: boolean;
  @ApiProperty({ enum: DownloadStatus }) status: DownloadStatus;
  @ApiProperty({ type: String, nullable: true, description: 'Absolute path once the task succeeded' }) file: string | null;
  @ApiProperty({ example: '2026-04-23T10:00:00.000Z' }) createdDate: string;
  @ApiProperty({ example: '2026-04-23T10:05:30.000Z' }) updatedDate: string;
  @ApiProperty({ description: 'True when the task succeeded and its file is on disk now (checked at most every few seconds)' }) exists: boolean;
  @ApiProperty({ type: String, nullable: true, example: '2026-04-23T10:00:01.000Z', description: 'When the task was queued for a download slot; null while it is idle' }) queuedAt: string | null;
  @ApiProperty({ example: '/home/me/Downloads', description: 'Directory the task saves into' }) localPath: string;
  @ApiProperty() deleteSegments: boolean;
  @ApiProperty({ type: Number, nullable: true, description: '0–100, null while the total is unknown' }) percent: number | null;
  @ApiProperty({ description: 'Bytes per second' }) speed: number;
  @ApiProperty() downloadedBytes: number;
  @ApiProperty({ type: Number, nullable: true }) totalBytes: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds left, null when unknown' }) eta: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The last failure, null otherwise' }) error: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: "This task's own speed limit in bytes per second; null: none (the global SPEED_LIMIT still applies)" }) speedLimit: number | null;
}

export class DownloadPageDto {
  @ApiProperty() total: number;
  @ApiProperty({ type: [DownloadTaskDto] }) list: DownloadTaskDto[];
}

export class DownloadLogDto {
  @ApiProperty() id: number;
  @ApiProperty({ description: 'What the task runs did, oldest first' }) log: string;
}
