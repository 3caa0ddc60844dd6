import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/app-config.js';
import { errorEnvelope } from './envelope.js';
import { ErrorCode } from './error-codes.js';

/** The CORS answer: only the origins in CORS_ORIGINS ("*": any, allowed only with an API key). */
export function corsOptions(config: Pick<AppConfig, 'corsOrigins'>): { origin: '*' | string[] | false; methods: string[]; allowedHeaders: string[] } {
  const origins = config.corsOrigins;
  return {
    origin: origins.includes('*') ? '*' : origins.length > 0 ? origins : false,
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization', 'X-API-Key'],
  };
}

/**
 * Whether a request with this Origin header may be served. CORS only hides answers: a page can still
 * send a simple POST (start, stop), so a web origin that is neither listed nor this service is refused
 * outright. Browser extensions (chrome-extension://, moz-extension://) are installed by the user, not
 * visited, and MediaGo's extension calls from one: they pass.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, corsOrigins: string[]): boolean {
  if (origin === undefined || corsOrigins.includes('*') || corsOrigins.includes(origin)) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return /-extension:$/.test(parsed.protocol);
  return parsed.host === (host ?? '').trim().toLowerCase();
}

/** Answers 403 to a request a web page of another origin sent; preflights are left to the CORS plugin. */
export function registerOriginCheck(instance: { addHook(name: 'onRequest', hook: (request: FastifyRequest, reply: FastifyReply, done: () => void) => void): unknown }, config: AppConfig): void {
  instance.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (request.method === 'OPTIONS' || originAllowed(origin, request.headers.host, config.corsOrigins)) return done();
    const message = `Requests from the web page origin "${String(origin).slice(0, 100)}" are refused: list it in CORS_ORIGINS to let that page use the API.`;
    reply.status(403).header('content-type', 'application/json; charset=utf-8').send(errorEnvelope(403, message, ErrorCode.OriginNotAllowed));
  });
}
