import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { ApiError, ErrorCode } from './error-codes.js';

/** Deeper bodies are refused before parsing: no request of this API nests beyond a few levels. */
export const MAX_JSON_DEPTH = 32;

/**
 * The deepest nesting of arrays and objects in a JSON text, counted without parsing (no recursion),
 * stopping as soon as it passes `limit`; brackets inside strings do not count.
 */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c /* \ */) index++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) {
      depth--;
    }
  }
  return deepest;
}

type Done = (error: Error | null, body?: unknown) => void;

/**
 * The JSON body parser for every route. An empty body is no body (MediaGo's SDK sends
 * `Content-Type: application/json` on stop and DELETE without one); a body nested deeper than
 * MAX_JSON_DEPTH is a 400 before anything walks it; the rest is Fastify's own parser, which keeps
 * its protection against `__proto__`/`constructor` keys.
 */
export function useLenientJsonParser(app: NestFastifyApplication, bodyLimit: number): void {
  const strictParser = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit }, (request: FastifyRequest, body: Buffer, done: Done) => {
    const text = body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonNestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return done(new ApiError(400, ErrorCode.MalformedBody, `The request body is nested more than ${MAX_JSON_DEPTH} levels deep`));
    }
    strictParser(request, text, done);
  });
}
