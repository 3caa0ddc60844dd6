import { type Type, applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorCode } from './error-codes.js';
import { ERROR_CODE_DOCS } from './openapi-schemas.js';

/** Marks an operation that never needs the API key; the document builder turns it into `security: []`. */
export const OPEN_ROUTE_EXTENSION = 'x-open-route';
export const ApiOpenRoute = () => ApiExtension(OPEN_ROUTE_EXTENSION, true);

/** The schema of a success envelope around `data`'s schema. */
export function successEnvelopeSchema(data: Record<string, unknown>) {
  return {
    type: 'object',
    required: ['success', 'code', 'message', 'data'],
    properties: {
      success: { type: 'boolean', enum: [true] },
      code: { type: 'integer', enum: [0] },
      message: { type: 'string', example: 'ok' },
      data,
    },
  };
}

/** Documents a 200 answer as the envelope around `model` (or an array of it, {} or string[]). */
export function ApiEnvelope(model: Type<unknown> | 'empty' | 'strings', options: { isArray?: boolean; status?: number; description?: string } = {}) {
  const data =
    model === 'empty'
      ? { type: 'object', additionalProperties: false, example: {}, description: 'Always {}' }
      : model === 'strings'
        ? { type: 'array', items: { type: 'string' } }
        : options.isArray
          ? { type: 'array', items: { $ref: getSchemaPath(model) } }
          : { $ref: getSchemaPath(model) };
  const decorators = [
    ApiResponse({
      status: options.status ?? 200,
      description: options.description ?? 'Success, in the envelope',
      schema: successEnvelopeSchema(data),
    }),
  ];
  return applyDecorators(...(typeof model === 'string' ? [] : [ApiExtraModels(model)]), ...decorators);
}

const REASONS: Record<number, string> = {
  400: 'Bad request',
  401: 'API key missing or wrong',
  403: 'Origin not allowed',
  404: 'Not found',
  409: 'Conflict with the task state',
  413: 'Body too large',
  416: 'Range not satisfiable',
  421: 'Host not allowed',
  500: 'Internal error',
  503: 'Store unavailable',
};

/** Error answers by status, each with the errorCodes it can carry: `{ 404: ['download_not_found'] }`. */
export type ErrorAnswers = Partial<Record<number, ErrorCode[]>>;

/** What any request can be refused with before it reaches a route: a malformed URL escape, a web page of another origin, a Host the service does not go by. */
export const ANY_REQUEST: ErrorAnswers = { 400: [ErrorCode.MalformedBody], 403: [ErrorCode.OriginNotAllowed], 421: [ErrorCode.HostNotAllowed] };
/** What any /api route can answer: those, no key, a fault. */
export const ANY_API_ROUTE: ErrorAnswers = { 401: [ErrorCode.Unauthorized], ...ANY_REQUEST, 500: [ErrorCode.InternalError] };
/** A route with `:id`. */
export const ID_ROUTE: ErrorAnswers = { 400: [ErrorCode.InvalidId], 404: [ErrorCode.DownloadNotFound] };
/** A command that takes no body: one sent anyway is still parsed, so it can be malformed or too large. */
export const BODYLESS_COMMAND: ErrorAnswers = { 400: [ErrorCode.MalformedBody], 413: [ErrorCode.PayloadTooLarge] };
/** A route that reads a JSON body. */
export const BODY_ROUTE: ErrorAnswers = { 400: [ErrorCode.ValidationFailed, ErrorCode.MalformedBody], 413: [ErrorCode.PayloadTooLarge] };
/** A route with validated query parameters. */
export const QUERY_ROUTE: ErrorAnswers = { 400: [ErrorCode.ValidationFailed] };

/** Merges error answers; the codes of a status named by several parts are joined. */
function mergeAnswers(parts: ErrorAnswers[]): Map<number, ErrorCode[]> {
  const merged = new Map<number, ErrorCode[]>();
  for (const part of parts) {
    for (const [status, codes = []] of Object.entries(part)) {
      const known = merged.get(Number(status)) ?? [];
      merged.set(Number(status), [...known, ...codes.filter((code) => !known.includes(code))]);
    }
  }
  // the codes particular to the route first: the example shows the first one
  const generic = new Set(Object.values(ANY_API_ROUTE).flat());
  for (const [status, codes] of merged) merged.set(status, [...codes.filter((code) => !generic.has(code)), ...codes.filter((code) => generic.has(code))]);
  return merged;
}

/** Documents each error answer as the error envelope, narrowed to its status and errorCodes, with what each code means. */
export function ApiErrors(...parts: ErrorAnswers[]) {
  return applyDecorators(
    ...[...mergeAnswers(parts)].map(([status, codes]) => {
      const meanings = codes.map((code) => `- \`${code}\`: ${ERROR_CODE_DOCS[code].meaning}`).join('\n');
      return ApiResponse({
        status,
        description: `${REASONS[status] ?? 'Error'}, in the error envelope. errorCode:\n${meanings}`,
        example: { success: false, code: status, message: ERROR_CODE_DOCS[codes[0]]?.example ?? `${REASONS[status] ?? 'Error'}`, data: null, errorCode: codes[0] },
        schema: {
          allOf: [
            { $ref: '#/components/schemas/ErrorEnvelope' },
            {
              type: 'object',
              required: ['code', 'errorCode'],
              properties: { code: { type: 'integer', enum: [status] }, errorCode: { type: 'string', enum: codes } },
            },
          ],
        },
      });
    }),
  );
}
