import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, ValidateNested } from 'class-validator';
import { DOWNLOAD_TYPES, DownloadType } from '../../common/download-type.enum.js';
import { IsHeaderLines, IsSafeFolder, IsTaskName, IsTaskUrl } from './validators.js';
import { SpeedLimitProperty } from './speed-limit.property.js';
import { LanguagesProperty, QualityProperty } from './media-choice.property.js';

export class CreateDownloadItemDto {
  @ApiProperty({ enum: DownloadType, example: DownloadType.Direct })
  @IsIn(DOWNLOAD_TYPES, { message: `type must be one of ${DOWNLOAD_TYPES.join(', ')}` })
  type: DownloadType;

  @ApiProperty({ example: 'https://example.com/video.m3u8', description: 'http(s) URL; for bilibili also a bare BV…/av… id' })
  @IsTaskUrl()
  url: string;

  @ApiPropertyOptional({ example: 'My Video', description: 'File name without extension; derived from the media or URL when omitted' })
  @IsOptional()
  @IsTaskName()
  name?: string;

  @ApiPropertyOptional({ example: 'my-folder', description: 'A relative sub-directory of the download directory' })
  @IsOptional()
  @IsSafeFolder()
  folder?: string;

  @ApiPropertyOptional({
    example: 'User-Agent: Mozilla/5.0\nReferer: https://example.com/',
    description: '"Name: value" lines; also a JSON array of such lines or a JSON object',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'object', additionalProperties: { type: 'string' } }],
  })
  @IsOptional()
  @IsHeaderLines()
  headers?: string | string[] | Record<string, string>;

  // no `default` in request bodies: generated clients (openapi-typescript) would make the field required
  @ApiPropertyOptional({ description: 'Record a live stream until stopped (default false; an HLS playlist without EXT-X-ENDLIST is recognised as live anyway)' })
  @IsOptional()
  @IsBoolean()
  isLive?: boolean;

  @SpeedLimitProperty()
  speedLimit?: number | null;

  @ApiPropertyOptional({
    description:
      'Make one task per entry the link holds (the parts of a Bilibili video without ?p=, the episodes of a season, a playlist\'s or channel\'s entries), ' +
      'in order, named "Title - 01 Entry title"; at most 1000 per link. Default false: one task for the link, as given',
  })
  @IsOptional()
  @IsBoolean()
  expand?: boolean;

  @QualityProperty()
  quality?: string | number | null;

  @LanguagesProperty('audio')
  audioLanguage?: string | string[] | null;

  @LanguagesProperty('subtitles')
  subtitleLanguages?: string | string[] | null;
}

export class CreateDownloadsDto {
  @ApiProperty({ type: [CreateDownloadItemDto], minItems: 1, maxItems: 1000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => CreateDownloadItemDto)
  tasks: CreateDownloadItemDto[];

  @ApiPropertyOptional({ description: 'Queue the tasks at once (default false: they wait idle until started)' })
  @IsOptional()
  @IsBoolean()
  startDownload?: boolean;
}
