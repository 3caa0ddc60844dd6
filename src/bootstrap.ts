import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppModule } from './app.module.js';
import { renderError } from './common/all-exceptions.filter.js';
import { KEY_REQUIRED_MESSAGE, keysMatch, offeredKey } from './common/api-key.guard.js';
import { envelopeClientError } from './common/client-error.js';
import { errorEnvelope } from './common/envelope.js';
import { serveDashboard } from './dashboard/serve-dashboard.js';
import { ErrorCode } from './common/error-codes.js';
import { useLenientJsonParser } from './common/json-body-parser.js';
import { corsOptions, registerOriginCheck } from './common/cors-policy.js';
import { registerHostCheck } from './common/host-check.js';
import { serializeJsonReply } from './common/json-reply.js';
import { setupOpenApi } from './common/openapi-document.js';
import { createValidationPipe } from './common/validation.js';
import { type AppConfig, NODE_ID_FILE } from './config/app-config.js';
import { NestLoggerAdapter } from './logging/nest-logger.adapter.js';
import { logRequests } from './logging/request-logging.js';
import { createServiceLogger } from './logging/service-logger.js';

function sendFrameworkError(error: unknown, reply: FastifyReply): void {
  const { status, message, errorCode } = renderError(error);
  reply.status(status).header('content-type', 'application/json; charset=utf-8').send(errorEnvelope(status, message, errorCode));
}

/**
 * The guard protects every route Nest knows; a path under /api that matches none is answered by the
 * 404 handler without a guard, so the key is checked here first: a client without it learns nothing.
 */
function requireKeyOnUnknownRoutes(app: NestFastifyApplication, apiKey: string): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const path = request.url.split('?')[0];
      if (request.routeOptions.url !== undefined || !(path === '/api' || path.startsWith('/api/'))) return done();
      const query = Object.fromEntries(new URLSearchParams(request.url.split('?')[1] ?? ''));
      const offered = offeredKey({ headers: request.headers, query });
      if (offered !== null && keysMatch(offered, apiKey)) return done();
      reply.status(401).header('content-type', 'application/json; charset=utf-8').send(errorEnvelope(401, KEY_REQUIRED_MESSAGE, ErrorCode.Unauthorized));
    });
}

/** Builds the whole application (used by serve.ts and by the tests): Fastify, /api prefix, pipes, CORS, Swagger. */
export async function createApp(config: AppConfig, options: { logger?: boolean } = {}): Promise<NestFastifyApplication> {
  await mkdir(config.dataDir, { recursive: true });
  await mkdir(config.downloadDir, { recursive: true });
  // a generated node id is kept, so that this node finds its own tasks again after a restart
  if (config.nodeIdIsNew) {
    await writeFile(join(config.dataDir, NODE_ID_FILE), `${config.nodeId}\n`);
    config.nodeIdIsNew = false;
  }
  const serviceLogger = createServiceLogger({
    level: options.logger === false ? 'silent' : config.logLevel,
    format: config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
  });
  const adapter = new FastifyAdapter({
    loggerInstance: serviceLogger,
    // one line per request from logRequests instead of Fastify's two
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: config.bodyLimitBytes,
    // at shutdown, keep-alive and event-stream connections are closed rather than waited for
    forceCloseConnections: true,
    // a malformed URL escape is answered in the envelope, like every other error
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => sendFrameworkError(error, reply),
    // so are requests the HTTP parser refuses (headers too large, not HTTP at all)
    clientErrorHandler: envelopeClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    logger: new NestLoggerAdapter(serviceLogger),
  });
  logRequests(app.getHttpAdapter().getInstance());
  app.getHttpAdapter().getInstance().setReplySerializer(serializeJsonReply);
  app.setGlobalPrefix('api', { exclude: ['healthy', 'metrics'] });
  useLenientJsonParser(app, config.bodyLimitBytes);
  app.useGlobalPipes(createValidationPipe());
  // against DNS rebinding and cross-site requests: Host first (421), then a web page's Origin (403)
  registerHostCheck(app.getHttpAdapter().getInstance(), config);
  registerOriginCheck(app.getHttpAdapter().getInstance(), config);
  app.enableCors(corsOptions(config));
  app.enableShutdownHooks();
  if (config.apiKey) requireKeyOnUnknownRoutes(app, config.apiKey);

  setupOpenApi(app);
  serveDashboard(app, config);
  return app;
}
