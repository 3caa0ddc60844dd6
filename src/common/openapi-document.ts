import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, type OperationObject, SwaggerModule } from '@nestjs/swagger';
import { OPEN_ROUTE_EXTENSION } from './api-envelope.decorator.js';
import { SHARED_SCHEMAS } from './openapi-schemas.js';

const DESCRIPTION = [
  'Create, watch and control downloads (m3u8, bilibili, direct, youtube, mediago); compatible with MediaGo\'s Download API.',
  '',
  'Every JSON answer under `/api` is wrapped: `{ success, code, message, data }`. An error has `success: false`, `code` = the HTTP status,',
  '`data: null` and an `errorCode` (see the `ErrorCode` schema) that programs switch on. Two answers are not wrapped: the event stream',
  '`GET /api/events` and `GET /api/downloads/export` when the client prefers text/plain.',
  '',
  'Authentication: when the service runs with `API_KEY` set, every `/api` request needs the key, by any one of the three schemes',
  '(`Authorization: Bearer <key>`, `X-API-Key: <key>`, or `?token=<key>` for a browser `EventSource`). Without `API_KEY` the API is open.',
  '`GET /healthy` never needs a key.',
].join('\n');

/** The schemes by which a request can carry the API key; any one is enough. */
const SECURITY_SCHEMES = ['bearer', 'X-API-Key', 'token'] as const;

/** The OpenAPI document of the running app, as /docs-json serves it. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('MediaGo-compatible Download API')
    .setDescription(DESCRIPTION)
    .setVersion('1.0.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    // relative: the document is served by the service it describes, on whatever address it is bound to
    .addServer('/', 'This service')
    .addTag('downloads', 'Download tasks: create, list, start, stop, edit, delete')
    .addTag('events', 'Live task events as Server-Sent Events')
    .addTag('health', 'Health probe')
    .addTag('metrics', 'Counts for dashboards and Prometheus metrics')
    .addTag('webhooks', 'Webhook receivers and a test delivery')
    .addTag('settings', 'Settings that change at run time, for the whole installation')
    // the key is an opaque string (API_KEY), not a JWT, so no bearerFormat
    .addSecurity('bearer', { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API_KEY>' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'X-API-Key: <API_KEY>' }, 'X-API-Key')
    .addApiKey({ type: 'apiKey', in: 'query', name: 'token', description: '?token=<API_KEY>, for clients that cannot send headers (EventSource)' }, 'token')
    .build();
  config.security = SECURITY_SCHEMES.map((scheme) => ({ [scheme]: [] }));
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...SHARED_SCHEMAS, ...document.components?.schemas } };
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const operation = item[method] as (OperationObject & Record<string, unknown>) | undefined;
      if (!operation?.[OPEN_ROUTE_EXTENSION]) continue;
      delete operation[OPEN_ROUTE_EXTENSION];
      operation.security = [];
    }
  }
  return document;
}

/**
 * Serves Swagger UI at /docs and the document at /docs-json. The document is built on the first
 * request for it, not at start-up: most runs never ask, and it would stay in memory for nothing.
 */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
