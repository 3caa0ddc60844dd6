import { ApiProperty } from '@nestjs/swagger';
import { DownloadType } from '../../common/download-type.enum.js';
import { DownloadStatus } from '../../tasks/download-status.enum.js';

export class DownloadTaskDto {
  @ApiProperty({ type: 'integer', example: 123 }) id: number;
  @ApiProperty({ example: 'My Video', description: 'The file name without extension' }) name: string;
  @ApiProperty({ enum: DownloadType }) type: DownloadType;
  @ApiProperty({ example: 'https://example.com/video.m3u8' }) url: string;
  @ApiProperty({ example: 'my-folder', description: '"" when none' }) folder: string;
  @ApiProperty({ example: 'User-Agent: ...\nReferer: ...', description: '"" when none' }) headers: string;
  @ApiProperty({ description: 'A live stream, recorded until stopped' }) isLive: boolean;
  @ApiProperty({ enum: DownloadStatus }) status: DownloadStatus;
  @ApiProperty({ type: String, nullable: true, description: 'Absolute path of the saved file once the task succeeded, null before' }) file: string | null;
  @ApiProperty({ format: 'date-time', example: '2026-04-23T10:00:00.000Z' }) createdDate: string;
  @ApiProperty({ format: 'date-time', example: '2026-04-23T10:05:30.000Z' }) updatedDate: string;
  @ApiProperty({ description: 'True when the task succeeded and its file is on disk now (checked at most every few seconds)' }) exists: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-04-23T10:00:01.000Z', description: 'When the task was queued for a download slot; null while it is idle' }) queuedAt: string | null;
  @ApiProperty({ example: '/home/me/Downloads', description: 'Directory the task saves into' }) localPath: string;
  @ApiProperty({ description: 'Temporary segment files are removed after a successful merge' }) deleteSegments: boolean;
  @ApiProperty({ type: Number, nullable: true, description: '0–100, null while the total is unknown' }) percent: number | null;
  @ApiProperty({ description: 'Bytes per second' }) speed: number;
  @ApiProperty({ type: 'integer' }) downloadedBytes: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'null while unknown' }) totalBytes: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds left, null when unknown' }) eta: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The last failure, null otherwise' }) error: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: "This task's own speed limit in bytes per second; null: none (the global SPEED_LIMIT still applies)" }) speedLimit: number | null;
  @ApiProperty({ type: String, nullable: true, example: '1080', description: 'This task\'s own quality: "best", "audio" or a maximum picture height ("1080"); null: the installation\'s default' }) quality: string | null;
  @ApiProperty({ type: [String], nullable: true, example: ['zh', 'en'], description: "This task's own audio languages, best first; null: the installation's default" }) audioLanguage: string[] | null;
  @ApiProperty({ type: [String], nullable: true, example: ['zh', 'en'], description: "This task's own subtitle languages ([] none); null: the installation's default" }) subtitleLanguages: string[] | null;
  @ApiProperty({ type: [String], example: ['/home/me/Downloads/My Video.mp4', '/home/me/Downloads/My Video.en.vtt'], description: 'Every file the task saved: the file, its subtitles (<name>.<language>.vtt) and the parts of a live recording; deleteFile=true removes them all' }) outputs: string[];
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'media-1-3f9a2c',
    description: "Several nodes on one database: the node running the task, else the node that saved its file (on that node's disk unless DOWNLOAD_DIR is shared); null when neither",
  })
  node: string | null;
}

export class DownloadPageDto {
  @ApiProperty({ type: 'integer', description: 'Tasks matching the query, on all pages' }) total: number;
  @ApiProperty({ type: [DownloadTaskDto] }) list: DownloadTaskDto[];
}

export class DownloadLogDto {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty({ description: "What the task's runs did, oldest first (the last 256 KiB)" }) log: string;
}
