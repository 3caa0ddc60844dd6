import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ApiError, ErrorCode } from '../common/error-codes.js';
import { KEY_REQUIRED_MESSAGE, keysMatch, offeredKey } from '../common/api-key.guard.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** /metrics needs the API key when one is set, unless METRICS_PUBLIC=true opens it for a scraper. */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.apiKey || this.config.metricsPublic) return true;
    const offered = offeredKey(context.switchToHttp().getRequest());
    if (offered !== null && keysMatch(offered, this.config.apiKey)) return true;
    throw new ApiError(401, ErrorCode.Unauthorized, offered === null ? KEY_REQUIRED_MESSAGE : 'The API key is not valid');
  }
}
