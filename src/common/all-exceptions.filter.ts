import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { errorEnvelope } from './envelope.js';

interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Fastify's own errors (bad JSON, body too large, bad URL…) in the words a user can act on. */
const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON: 'The request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty but Content-Type is application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The request body must be JSON (Content-Type: application/json)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body',
  FST_ERR_BAD_URL: 'The URL is malformed (a bad % escape?)',
};

/** Turns anything thrown into the error envelope, with the HTTP status set and no internals in the message. */
export function renderError(error: unknown): { status: number; message: string } {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : error.message;
    return { status: error.getStatus(), message };
  }
  const framework = error as FrameworkError;
  if (framework && typeof framework.statusCode === 'number' && framework.statusCode >= 400 && framework.statusCode < 500) {
    const known = framework.code ? FRAMEWORK_MESSAGES[framework.code] : undefined;
    return { status: framework.statusCode, message: known ?? 'The request could not be read' };
  }
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error; the service log has the details' };
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, message } = renderError(error);
    if (status >= 500) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    if (reply.sent || reply.raw.headersSent) return;
    reply.status(status).header('content-type', 'application/json; charset=utf-8').send(errorEnvelope(status, message));
  }
}
