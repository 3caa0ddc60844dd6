import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { DOWNLOAD_TYPES, DownloadType } from '../../common/download-type.enum.js';
import { IsHeaderLines, IsTaskUrl } from './validators.js';

export class ResolveLinkDto {
  @ApiProperty({ enum: DownloadType, example: DownloadType.Youtube })
  @IsIn(DOWNLOAD_TYPES, { message: `type must be one of ${DOWNLOAD_TYPES.join(', ')}` })
  type: DownloadType;

  @ApiProperty({ example: 'https://www.youtube.com/playlist?list=PL…', description: 'http(s) URL; for bilibili also a bare BV…/av… id' })
  @IsTaskUrl()
  url: string;

  @ApiPropertyOptional({
    example: 'Cookie: SESSDATA=…',
    description: '"Name: value" lines (also a JSON array of lines or an object), sent with every request resolving makes',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'object', additionalProperties: { type: 'string' } }],
  })
  @IsOptional()
  @IsHeaderLines()
  headers?: string | string[] | Record<string, string>;
}

export class ResolvedEntryDto {
  @ApiProperty({ example: 1, description: '1-based: the part number, the episode’s place in its season, the playlist index' })
  number: number;

  @ApiProperty({ type: String, nullable: true, example: 'Introduction' })
  title: string | null;

  @ApiProperty({ example: 'https://www.bilibili.com/video/BV1L9Uoa9EUx?p=1', description: 'What a task of the same type downloads to get this entry alone' })
  url: string;

  @ApiProperty({ type: Number, nullable: true, example: 184.5, description: 'Seconds, when the origin says' })
  duration: number | null;
}

export class ResolvedLinkDto {
  @ApiProperty({ enum: DownloadType })
  type: DownloadType;

  @ApiProperty({ example: 'https://www.bilibili.com/video/BV1L9Uoa9EUx', description: 'The URL as given' })
  url: string;

  @ApiProperty({ enum: ['single', 'parts', 'season', 'playlist'], description: 'One thing; the parts of a multi-part video; the episodes of a season; a playlist or channel' })
  kind: 'single' | 'parts' | 'season' | 'playlist';

  @ApiProperty({ type: String, nullable: true, example: 'Two Part Lecture' })
  title: string | null;

  @ApiProperty({ type: [ResolvedEntryDto], description: 'In the origin’s order, at most `limit`' })
  entries: ResolvedEntryDto[];

  @ApiProperty({ type: Number, nullable: true, example: 2, description: 'How many entries the link holds, when known (may exceed entries.length)' })
  total: number | null;

  @ApiProperty({ example: 1000, description: 'The most entries one answer lists (and one expand creates)' })
  limit: number;

  @ApiProperty({ example: false, description: 'True when the link holds more entries than were listed' })
  truncated: boolean;
}
