import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Quiet routes: probes, scrapes and a player fetching segments would drown the rest at info. */
const QUIET_ROUTES = new Set(['/healthy', '/metrics', '/api/downloads/:id/stream/segments/:name']);

/**
 * One line per answered request: request id (bound to the request's logger by Fastify, so not written again
 * here), method, route pattern, path (never the query string: it may carry ?token=<key>), status and duration.
 */
export function logRequests(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions.url ?? null;
    const fields = {
      method: request.method,
      route,
      path: request.url.split('?')[0],
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    };
    const level = reply.statusCode >= 500 ? 'error' : QUIET_ROUTES.has(route ?? '') ? 'debug' : 'info';
    request.log[level](fields, `${request.method} ${fields.path} ${reply.statusCode}`);
    done();
  });
}
