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

/** No list in this API takes more (tasks, ids): a longer one is refused before validation walks every item. */
export const MAX_JSON_ITEMS = 1000;

/** The path (as `tasks`, `tasks[0].headers`) of the first array longer than `limit`, or null. Depth is already bounded. */
export function oversizedArrayPath(value: unknown, limit = MAX_JSON_ITEMS, path = ''): { path: string; length: number } | null {
  if (Array.isArray(value)) {
    if (value.length > limit) return { path: path || 'body', length: value.length };
    for (let index = 0; index < value.length; index++) {
      const found = oversizedArrayPath(value[index], limit, `${path}[${index}]`);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const found = oversizedArrayPath(child, limit, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}

type Done = (error: Error | null, body?: unknown) => void;

/**
 * The JSON body parser for every route. An empty body is no body (MediaGo's SDK sends
 * `Content-Type: application/json` on stop and DELETE without one); a body nested deeper than
 * MAX_JSON_DEPTH is a 400 before anything walks it, and one with a list over MAX_JSON_ITEMS a 400
 * before validation visits each item; the rest is Fastify's own parser, which keeps its protection
 * against `__proto__`/`constructor` keys.
 */
export function useLenientJsonParser(app: NestFastifyApplication, bodyLimit: number): void {
  const strictParser = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit }, (request: FastifyRequest, body: Buffer, done: Done) => {
    const text = body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonNestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return done(new ApiError(400, ErrorCode.MalformedBody, `The request body is nested more than ${MAX_JSON_DEPTH} levels deep`));
    }
    strictParser(request, text, (error: Error | null, parsed?: unknown) => {
      if (error) return done(error);
      const oversized = oversizedArrayPath(parsed);
      if (oversized) {
        const message = `${oversized.path} must contain no more than ${MAX_JSON_ITEMS} elements (it has ${oversized.length})`;
        return done(new ApiError(400, ErrorCode.ValidationFailed, `Invalid request: ${message}`, [{ path: oversized.path, message }]));
      }
      done(null, parsed);
    });
  });
}
