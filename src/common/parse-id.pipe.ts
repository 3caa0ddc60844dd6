import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError, ErrorCode } from './error-codes.js';

/** Route ids: a positive integer, else a 400 that says so. */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^\d{1,15}$/.test(value) || Number(value) < 1) {
      throw new ApiError(400, ErrorCode.InvalidId, `Invalid request: id must be a positive integer, got "${String(value).slice(0, 40)}"`);
    }
    return Number(value);
  }
}
