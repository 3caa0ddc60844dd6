import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DOWNLOAD_STATUSES } from '../../tasks/download-status.enum.js';
import { IsAbsoluteDirectory } from './validators.js';

export const LIST_FILTERS = [...DOWNLOAD_STATUSES, 'done', 'list'] as const;
export type ListFilter = (typeof LIST_FILTERS)[number];

/** A query number: empty means not given (clients send "current=&pageSize="), anything else is converted. */
function optionalNumber({ value }: { value: unknown }): number | undefined {
  return value === '' || value === undefined || value === null ? undefined : Number(value);
}

/** Accepts the API key as ?token= on any route (see the auth guard), so the query whitelist lets it through. */
class TokenQuery {
  @ApiPropertyOptional({ description: 'The API key, for clients that cannot send headers' })
  @IsOptional()
  @IsString()
  token?: string;
}

export class ListDownloadsQueryDto extends TokenQuery {
  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 1_000_000_000 })
  @IsOptional()
  @Transform(optionalNumber)
  @IsInt({ message: 'current must be an integer from 1 to 1000000000' })
  @Min(1, { message: 'current must be an integer from 1 to 1000000000' })
  @Max(1_000_000_000, { message: 'current must be an integer from 1 to 1000000000' })
  current?: number;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @Transform(optionalNumber)
  @IsInt({ message: 'pageSize must be an integer from 1 to 100' })
  @Min(1, { message: 'pageSize must be an integer from 1 to 100' })
  @Max(100, { message: 'pageSize must be an integer from 1 to 100' })
  pageSize?: number;

  @ApiPropertyOptional({ enum: LIST_FILTERS, description: 'A status; done = success; list = everything but success' })
  @IsOptional()
  @Transform(({ value }) => (value === '' ? undefined : value))
  @IsIn(LIST_FILTERS, { message: `filter must be one of ${LIST_FILTERS.join(', ')}` })
  filter?: ListFilter;

  @ApiPropertyOptional({ description: 'Only tasks saved under this absolute directory' })
  @IsOptional()
  @Transform(({ value }) => (value === '' ? undefined : value))
  @IsAbsoluteDirectory()
  localPath?: string;

  @ApiPropertyOptional({ description: 'Only tasks whose name or URL contains this text (ASCII letters in any case)', maxLength: 1000 })
  @IsOptional()
  @Transform(({ value }) => (value === '' ? undefined : value))
  @IsString({ message: 'search must be a single text value' })
  @MaxLength(1000, { message: 'search must be at most 1000 characters' })
  search?: string;
}

export class DeleteDownloadQueryDto extends TokenQuery {
  @ApiPropertyOptional({ default: false, description: 'Also remove the file and partial data' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'deleteFile must be true or false' })
  deleteFile?: boolean;
}

export class TokenOnlyQueryDto extends TokenQuery {}
