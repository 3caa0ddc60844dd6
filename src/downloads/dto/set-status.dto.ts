import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, Min } from 'class-validator';
import { DownloadStatus } from '../../tasks/download-status.enum.js';

export const SETTABLE_STATUSES = [DownloadStatus.Waiting, DownloadStatus.Stopped, DownloadStatus.Success, DownloadStatus.Failed];

export class SetStatusDto {
  @ApiProperty({ type: [Number], example: [1, 2] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsInt({ each: true, message: 'ids must contain only positive integers' })
  @Min(1, { each: true, message: 'ids must contain only positive integers' })
  ids: number[];

  @ApiProperty({ enum: SETTABLE_STATUSES, description: 'waiting queues, stopped stops, success/failed mark idle tasks; downloading is refused' })
  @IsIn(SETTABLE_STATUSES, { message: `status must be one of ${SETTABLE_STATUSES.join(', ')} (only the service sets downloading)` })
  status: DownloadStatus;
}
