import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiError, ErrorCode, type FieldProblem } from './error-codes.js';
import { errorEnvelope } from './envelope.js';

interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Fastify's own errors (bad JSON, body too large, bad URL…) in the words a user can act on. */
const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON: 'The request body is not valid JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty but Content-Type is application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The request body must be JSON (Content-Type: application/json)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body',
  FST_ERR_BAD_URL: 'The URL is malformed (a bad % escape?)',
};

/** The errorCode of an error raised without one (by Nest or a plain HttpException), from its status. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthorized,
  404: ErrorCode.RouteNotFound,
  409: ErrorCode.InvalidTransition,
  413: ErrorCode.PayloadTooLarge,
  421: ErrorCode.HostNotAllowed,
};

export interface RenderedError {
  status: number;
  message: string;
  errorCode: ErrorCode;
  fields?: FieldProblem[];
}

/** Turns anything thrown into the error envelope, with the HTTP status set and no internals in the message. */
export function renderError(thrown: unknown): RenderedError {
  // Nest wraps Fastify's own 4xx errors (body parsing) in an HttpException: judge them by their Fastify code
  const error = thrown instanceof HttpException && isFrameworkError(thrown.cause) ? thrown.cause : thrown;
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : error.message;
    const status = error.getStatus();
    if (error instanceof ApiError) return { status, message, errorCode: error.errorCode, fields: error.fields };
    return { status, message, errorCode: CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.InternalError : ErrorCode.ValidationFailed) };
  }
  const framework = error as FrameworkError;
  if (framework && typeof framework.statusCode === 'number' && framework.statusCode >= 400 && framework.statusCode < 500) {
    const known = framework.code ? FRAMEWORK_MESSAGES[framework.code] : undefined;
    const errorCode = framework.statusCode === 413 ? ErrorCode.PayloadTooLarge : ErrorCode.MalformedBody;
    return { status: framework.statusCode, message: known ?? 'The request could not be read', errorCode };
  }
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error; the service log has the details', errorCode: ErrorCode.InternalError };
}

function isFrameworkError(value: unknown): value is FrameworkError {
  return value instanceof Error && typeof (value as FrameworkError).code === 'string' && (value as FrameworkError).code!.startsWith('FST_');
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, message, errorCode, fields } = renderError(error);
    if (status >= 500) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    if (reply.sent || reply.raw.headersSent) return;
    reply.status(status).header('content-type', 'application/json; charset=utf-8').send(errorEnvelope(status, message, errorCode, fields));
  }
}
