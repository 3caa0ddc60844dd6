import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PUBLIC_ROUTE } from './public.decorator.js';

interface KeyedRequest {
  headers: Record<string, string | string[] | undefined>;
  query?: Record<string, unknown>;
}

export const KEY_REQUIRED_MESSAGE = 'An API key is required: send "Authorization: Bearer <key>", "X-API-Key: <key>" or ?token=<key>';

/** Reads the key a request offers: Bearer token, X-API-Key, or ?token= (what a browser EventSource can send). */
export function offeredKey(request: KeyedRequest): string | null {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1].trim();
  }
  const headerKey = request.headers['x-api-key'];
  if (typeof headerKey === 'string' && headerKey) return headerKey;
  const token = request.query?.token;
  return typeof token === 'string' && token ? token : null;
}

/** Compares through fixed-length digests so that neither length nor content leaks through timing. */
export function keysMatch(offered: string, expected: string): boolean {
  const a = createHash('sha256').update(offered).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.apiKey) return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const offered = offeredKey(context.switchToHttp().getRequest<KeyedRequest>());
    if (offered !== null && keysMatch(offered, this.config.apiKey)) return true;
    throw new UnauthorizedException(
      offered === null ? KEY_REQUIRED_MESSAGE : 'The API key is not valid',
    );
  }
}
