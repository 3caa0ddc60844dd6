import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { IsAbsoluteDirectory } from './validators.js';
import { SpeedLimitProperty } from './speed-limit.property.js';
import { LanguagesProperty, QualityProperty } from './media-choice.property.js';

export class StartDownloadDto {
  @ApiPropertyOptional({ example: '/home/me/Videos', description: 'Absolute directory for this task (default DOWNLOAD_DIR)' })
  @IsOptional()
  @IsAbsoluteDirectory()
  localPath?: string;

  @ApiPropertyOptional({ description: 'Remove temporary segment files after a successful merge (default true)' })
  @IsOptional()
  @IsBoolean()
  deleteSegments?: boolean;

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
