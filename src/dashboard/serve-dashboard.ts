import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import type { AppConfig } from '../config/app-config.js';
import { DASHBOARD_CSP, cacheControlFor, findDashboardDir } from './dashboard-assets.js';

const NOT_BUILT_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Downloads</title><p>The dashboard has not been built: run <code>npm run build:web</code> ' +
  '(<code>npm start</code> does it) and reload. The API is at <a href="/docs">/docs</a>.</p>';

/** The dashboard at `/`: the built web/ app as static files; only files that exist get routes, so /api stays the API's. */
export function serveDashboard(app: NestFastifyApplication, config: AppConfig): void {
  const root = findDashboardDir(config.webDir);
  if (!root) {
    app
      .getHttpAdapter()
      .getInstance()
      .get('/', (_request, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT_PAGE));
    return;
  }
  app.useStaticAssets({
    root,
    prefix: '/',
    wildcard: false,
    decorateReply: false,
    index: ['index.html'],
    // @fastify/static 10 passes the Fastify reply; Nest's option type still describes an older, raw response
    setHeaders: (response, path) => {
      const reply = response as unknown as FastifyReply;
      reply.header('cache-control', cacheControlFor(path));
      reply.header('x-content-type-options', 'nosniff');
      if (path.endsWith('.html')) reply.header('content-security-policy', DASHBOARD_CSP);
    },
  });
}
