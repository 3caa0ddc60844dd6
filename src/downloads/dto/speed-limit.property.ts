import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';

/** Ten GiB per second: more than any link, so a larger number is a mistake, not a limit. */
export const MAX_SPEED_LIMIT = 10 * 1024 ** 3;

/** A task's `speedLimit` on create, edit and start: bytes per second; 0 or null removes it. */
export function SpeedLimitProperty() {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      nullable: true,
      minimum: 0,
      maximum: MAX_SPEED_LIMIT,
      example: 4 * 1024 * 1024,
      description: "This task's speed limit in bytes per second (the global SPEED_LIMIT applies too); 0 or null removes it",
    }),
    ValidateIf((_object, value) => value !== undefined && value !== null),
    IsInt({ message: 'speedLimit must be a whole number of bytes per second' }),
    Min(0),
    Max(MAX_SPEED_LIMIT),
  );
}
