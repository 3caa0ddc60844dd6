import { HttpException } from '@nestjs/common';

/**
 * The stable `errorCode` words of the contract. Clients switch on them: add new ones, never rename one,
 * and list each in the OpenAPI document and docs/api.md.
 */
export const ErrorCode = {
  InvalidId: 'invalid_id',
  DownloadNotFound: 'download_not_found',
  ValidationFailed: 'validation_failed',
  MalformedBody: 'malformed_body',
  PayloadTooLarge: 'payload_too_large',
  Unauthorized: 'unauthorized',
  RouteNotFound: 'route_not_found',
  TaskRunning: 'task_running',
  InvalidTransition: 'invalid_transition',
  HostNotAllowed: 'host_not_allowed',
  /** 403: a browser page from an origin not listed in CORS_ORIGINS */
  OriginNotAllowed: 'origin_not_allowed',
  AddressNotAllowed: 'address_not_allowed',
  InsufficientSpace: 'insufficient_space',
  InternalError: 'internal_error',
  DatabaseUnavailable: 'database_unavailable',
  /** 400 from the HTTP parser itself: a request that is not valid HTTP */
  MalformedRequest: 'malformed_request',
  /** 431: the request's headers exceed the server's limit */
  HeadersTooLarge: 'headers_too_large',
  /** 408: the request did not arrive in time */
  RequestTimeout: 'request_timeout',
  /** download-failed events: a tool the task needs (ffmpeg, yt-dlp) is not installed */
  DependencyMissing: 'dependency_missing',
  /** download-failed events: any other failure of the download itself */
  DownloadFailed: 'download_failed',
  /** download-failed events: the task was running when the process died twice in a row */
  CrashLoop: 'crash_loop',
  /** 409: the task has nothing playable in the form asked (yet), or its type cannot be played while it downloads */
  StreamNotReady: 'stream_not_ready',
  /** 404: a segment of the local playlist that is not listed or not on disk */
  SegmentNotFound: 'segment_not_found',
  /** 416: a Range that starts past what can be served */
  RangeNotSatisfiable: 'range_not_satisfiable',
  /** 400: a link given to resolve (or to create with expand) could not be read: unsupported, or its origin refused */
  ResolveFailed: 'resolve_failed',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One field's problem in a validation error. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** An HTTP error with its contract `errorCode` (and, for validation, the fields at fault). */
export class ApiError extends HttpException {
  constructor(
    status: number,
    override readonly errorCode: ErrorCode,
    message: string,
    readonly fields?: FieldProblem[],
  ) {
    super(message, status);
    this.name = 'ApiError';
  }
}
