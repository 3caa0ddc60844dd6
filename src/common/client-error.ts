import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorEnvelope } from './envelope.js';
import { ErrorCode } from './error-codes.js';

/** Node's HTTP parser errors, before any route runs, as the status, errorCode and sentence of the envelope. */
function describeClientError(code: string | undefined): { status: number; errorCode: ErrorCode; message: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, errorCode: ErrorCode.RequestTimeout, message: 'The request did not arrive in time' };
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, errorCode: ErrorCode.HeadersTooLarge, message: 'The request headers are too large' };
  return { status: 400, errorCode: ErrorCode.MalformedRequest, message: 'The request is not valid HTTP' };
}

/**
 * Fastify's clientErrorHandler: the same answer as its default (status, close), but in the envelope
 * with an errorCode, so that even a request the HTTP parser refuses gets the contract's error shape.
 */
export function envelopeClientError(error: Error & { code?: string }, socket: Socket): void {
  // a reset connection has no one left to answer
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, errorCode, message } = describeClientError(error.code);
  const body = JSON.stringify(errorEnvelope(status, message, errorCode));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
