import { ApiProperty } from '@nestjs/swagger';

export class TaskCountsDto {
  @ApiProperty({ example: 2 }) waiting!: number;
  @ApiProperty({ example: 1 }) downloading!: number;
  @ApiProperty({ example: 40 }) success!: number;
  @ApiProperty({ example: 0 }) failed!: number;
  @ApiProperty({ example: 3 }) stopped!: number;
  @ApiProperty({ example: 46, description: 'all tasks' }) total!: number;
}

export class DiskSpaceDto {
  @ApiProperty({ example: 32_212_254_720, description: 'bytes free for the service in the download directory' }) freeBytes!: number;
  @ApiProperty({ example: 107_374_182_400, description: 'size of the file system holding the download directory' }) totalBytes!: number;
}

/** What a dashboard widget (Homepage, Grafana) shows at a glance. */
export class StatsDto {
  @ApiProperty({ type: TaskCountsDto }) counts!: TaskCountsDto;
  @ApiProperty({ example: 1_048_576, description: 'bytes per second of all running tasks together' }) speed!: number;
  @ApiProperty({ example: 1, description: 'tasks holding a download slot now' }) running!: number;
  @ApiProperty({ type: DiskSpaceDto, nullable: true, description: 'null when the file system cannot be read' }) disk!: DiskSpaceDto | null;
}
