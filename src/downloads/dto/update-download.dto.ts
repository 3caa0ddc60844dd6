import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { IsHeaderLines, IsSafeFolder, IsTaskName } from './validators.js';
import { SpeedLimitProperty } from './speed-limit.property.js';
import { LanguagesProperty, QualityProperty } from './media-choice.property.js';

export class UpdateDownloadDto {
  @ApiPropertyOptional({ example: 'New name' })
  @IsOptional()
  @IsTaskName()
  name?: string;

  @ApiPropertyOptional({ example: 'https://example.com/other.mp4', description: 'Checked against the task type' })
  @IsOptional()
  url?: string;

  @ApiPropertyOptional({ description: '"Name: value" lines, a JSON array of lines, or an object', oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'object' }] })
  @IsOptional()
  @IsHeaderLines()
  headers?: string | string[] | Record<string, string>;

  @ApiPropertyOptional({ example: 'my-folder' })
  @IsOptional()
  @IsSafeFolder()
  folder?: string;

  @SpeedLimitProperty()
  speedLimit?: number | null;

  @ApiPropertyOptional({
    description:
      'When the task\'s link holds several entries (parts, episodes, a playlist): this task becomes the first and one new task is made for each other, ' +
      'after it, in order (see POST /api/downloads/resolve); a link that is one thing changes nothing',
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

export class SetLiveDto {
  @ApiProperty({ example: true })
  @IsBoolean()
  isLive: boolean;
}
