import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, IsUrl, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';
import { WEBHOOK_EVENTS } from '../config/app-config.js';
import { MAX_SPEED_LIMIT } from '../downloads/dto/speed-limit.property.js';
import { IsAbsoluteDirectory } from '../downloads/dto/validators.js';
import { LanguagesProperty, QualityProperty } from '../downloads/dto/media-choice.property.js';

/** A value given (not undefined, not null) is validated; null returns the setting to the environment's value. */
const Given = () => ValidateIf((_object, value) => value !== undefined && value !== null);
const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** PUT /api/settings: any subset; null returns a setting to the environment's value. */
export class UpdateSettingsDto {
  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: 64, example: 5, description: 'Tasks running at once (MAX_CONCURRENT_DOWNLOADS)' })
  @Given()
  @IsInt()
  @Min(1)
  @Max(64)
  maxConcurrentDownloads?: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '/srv/media', description: 'Where tasks created from now on save when a start gives no localPath (DOWNLOAD_DIR)' })
  @Given()
  @IsAbsoluteDirectory()
  downloadDir?: string | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: 20, example: 5, description: 'Tries per request before a task fails (RETRY_ATTEMPTS)' })
  @Given()
  @IsInt()
  @Min(1)
  @Max(20)
  retryAttempts?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: MAX_SPEED_LIMIT, example: 10 * 1024 * 1024, description: 'Bytes per second for all downloads together, 0 for none (SPEED_LIMIT)' })
  @Given()
  @IsInt()
  @Min(0)
  @Max(MAX_SPEED_LIMIT)
  speedLimit?: number | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    writeOnly: true,
    example: 'http://user:password@proxy.lan:3128',
    description: 'Proxy for every download request (DOWNLOAD_PROXY); "" for none; its credentials are never shown again',
  })
  @ValidateIf((_object, value) => value !== undefined && value !== null && value !== '')
  @IsUrl({ ...URL_OPTIONS, require_port: false }, { message: 'proxy must be an http:// or https:// URL, or "" for none' })
  proxy?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true, example: ['https://hooks.example.com/mediago'], description: 'Webhook receivers (WEBHOOK_URLS)' })
  @Given()
  @IsArray()
  @ArrayMaxSize(20)
  @IsUrl(URL_OPTIONS, { each: true, message: 'webhookUrls must hold http(s):// URLs' })
  webhookUrls?: string[] | null;

  @ApiPropertyOptional({ type: String, nullable: true, writeOnly: true, description: 'Signs webhook bodies (WEBHOOK_SECRET); never shown again' })
  @Given()
  @IsString()
  @MinLength(8)
  @MaxLength(512)
  webhookSecret?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true, enum: WEBHOOK_EVENTS, example: ['download-success', 'download-failed'], description: 'Events sent to webhooks (WEBHOOK_EVENTS)' })
  @Given()
  @IsArray()
  @IsIn(WEBHOOK_EVENTS, { each: true })
  webhookEvents?: string[] | null;

  @QualityProperty("the environment's value (DEFAULT_QUALITY)")
  defaultQuality?: string | number | null;

  @LanguagesProperty('audio', "the environment's value (DEFAULT_AUDIO_LANGUAGE)")
  defaultAudioLanguage?: string | string[] | null;

  @LanguagesProperty('subtitles', "the environment's value (DEFAULT_SUBTITLE_LANGUAGES)")
  defaultSubtitleLanguages?: string | string[] | null;
}
