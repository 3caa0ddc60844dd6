import type { SchemaObject } from '@nestjs/swagger';
import { ErrorCode } from './error-codes.js';

interface ErrorCodeDoc {
  /** The HTTP status it comes with, or 'event' for a code only `download-failed` carries. */
  status: number | 'event';
  meaning: string;
  /** A message as the service words it, for the examples in Swagger UI. */
  example?: string;
}


/** What each errorCode means and the HTTP status it comes with: the OpenAPI document and docs/api.md say the same. */
export const ERROR_CODE_DOCS: Record<ErrorCode, ErrorCodeDoc> = {
  [ErrorCode.InvalidId]: { status: 400, meaning: 'the `:id` in the path is not a positive decimal integer', example: 'Invalid request: id must be a positive integer, got "abc"' },
  [ErrorCode.DownloadNotFound]: { status: 404, meaning: 'no task has that id (for `PUT /api/downloads/status`: one of the ids; nothing was changed)', example: 'No task with id 42' },
  [ErrorCode.ValidationFailed]: { status: 400, meaning: 'a known field or query parameter has a wrong type or value; `fields` lists each one', example: 'Invalid request: tasks[0].url must be an http(s):// URL' },
  [ErrorCode.MalformedBody]: { status: 400, meaning: 'the body is not valid JSON, or its Content-Type or Content-Length is wrong', example: 'The request body is not valid JSON' },
  [ErrorCode.PayloadTooLarge]: { status: 413, meaning: 'the body is larger than `BODY_LIMIT_BYTES`', example: 'The request body is too large' },
  [ErrorCode.Unauthorized]: { status: 401, meaning: '`API_KEY` is set and the request carries no key or a wrong one', example: 'An API key is required: send "Authorization: Bearer <key>", "X-API-Key: <key>" or ?token=<key>' },
  [ErrorCode.RouteNotFound]: { status: 404, meaning: 'no route has that method and path' },
  [ErrorCode.TaskRunning]: { status: 409, meaning: 'the command needs a task that is not downloading (edit, mark success/failed): stop it first', example: 'Task 42 is downloading; stop it before editing it' },
  [ErrorCode.InvalidTransition]: { status: 409, meaning: 'any other lifecycle command the task cannot take in its present state' },
  [ErrorCode.OriginNotAllowed]: { status: 403, meaning: 'a web page of an origin not listed in `CORS_ORIGINS` sent the request (browser extensions pass)' },
  [ErrorCode.MalformedRequest]: { status: 400, meaning: 'the request is not valid HTTP (refused by the HTTP parser itself)' },
  [ErrorCode.RequestTimeout]: { status: 408, meaning: 'the request did not arrive in time' },
  [ErrorCode.HeadersTooLarge]: { status: 431, meaning: "the request's headers exceed the server's limit" },
  [ErrorCode.HostNotAllowed]: { status: 421, meaning: 'the `Host` header names neither a loopback address, the bound address nor a name in `ALLOWED_HOSTS` (DNS-rebinding guard)' },
  [ErrorCode.AddressNotAllowed]: { status: 'event', meaning: 'in `download-failed`, and as a 400 from resolving a link (`POST /api/downloads/resolve`, create with `expand`): the URL (or a redirect) leads to a loopback, private or link-local address, which tasks may not reach unless ALLOW_PRIVATE_ADDRESSES=true' },
  [ErrorCode.InsufficientSpace]: { status: 'event', meaning: '`download-failed` only: the disk is full, or the download is known not to fit; the partial data is kept' },
  [ErrorCode.InternalError]: { status: 500, meaning: 'an unexpected fault; the service log has the details, the message never does', example: 'Internal server error; the service log has the details' },
  [ErrorCode.DatabaseUnavailable]: { status: 503, meaning: 'the task store does not answer (also `GET /healthy`)' },
  [ErrorCode.DependencyMissing]: { status: 'event', meaning: '`download-failed` only: a tool the task needs is not installed; `dependency` names it (`ffmpeg`, `yt-dlp`)' },
  [ErrorCode.DownloadFailed]: { status: 'event', meaning: '`download-failed` only: any other failure of the download itself; `error` says what' },
  [ErrorCode.ResolveFailed]: { status: 400, meaning: 'a link to resolve (or a create item with `expand`) could not be read: the type cannot read it, its origin answered an error, or it took longer than `RESOLVE_TIMEOUT_MS`; the message says which', example: 'https://example.com/list could not be resolved: https://example.com/list answered HTTP 404' },
  [ErrorCode.CrashLoop]: { status: 'event', meaning: '`download-failed` only: the task was running when the process died uncleanly twice in a row' },
  [ErrorCode.StreamNotReady]: {
    status: 409,
    meaning: 'the task has nothing to play in the form asked yet (no byte or segment on disk), the other stream route fits it (a segmented download plays through `stream.m3u8`, a plain file through `stream`), or its type cannot be played while it downloads (bilibili, youtube): the message says which',
    example: 'Task 42 (bilibili) cannot be played while it downloads: its video and audio are fetched as two whole files and muxed at the end; play it once it has finished',
  },
  [ErrorCode.SegmentNotFound]: { status: 404, meaning: 'the segment name is not in the task\'s local playlist, or its file is not on disk (any more)', example: 'Task 42 has no segment "video-99.ts" on disk' },
  [ErrorCode.RangeNotSatisfiable]: { status: 416, meaning: 'the Range starts at or past the end of what can be served (the file, or the part of a running download that is complete); `Content-Range: bytes */<size>` says how much there is', example: 'The range starts at byte 5000000, but only 1048576 bytes can be served' },
};

/** The errorCodes a `download-failed` event can carry. */
export const FAILURE_CODES = Object.entries(ERROR_CODE_DOCS)
  .filter(([, doc]) => doc.status === 'event')
  .map(([code]) => code);

export const ALL_ERROR_CODES = Object.values(ErrorCode);

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The event names of `GET /api/events` whose payload is a single task's id. */
export const SINGLE_ID_EVENTS = ['download-start', 'download-success', 'download-stop', 'download-update', 'download-delete'] as const;

/** Named schemas the decorators and the event stream refer to; added to the document's components. */
export const SHARED_SCHEMAS: Record<string, SchemaObject> = {
  ErrorCode: {
    type: 'string',
    enum: ALL_ERROR_CODES,
    description: 'A stable word for the problem; programs switch on it. New values may be added, none is ever renamed.',
  },
  FieldProblem: {
    type: 'object',
    required: ['path', 'message'],
    properties: {
      path: { type: 'string', example: 'tasks[0].url', description: 'Where in the request the problem is' },
      message: { type: 'string', example: 'url must be an http(s):// URL' },
    },
  },
  ErrorEnvelope: {
    type: 'object',
    description: 'Every error under /api, with the HTTP status set to `code` as well.',
    required: ['success', 'code', 'message', 'data', 'errorCode'],
    properties: {
      success: { type: 'boolean', enum: [false] },
      code: { type: 'integer', description: 'The HTTP status of the response', example: 404 },
      message: { type: 'string', description: 'A sentence naming the problem (for validation: every field error)', example: 'No task with id 42' },
      data: { type: 'object', nullable: true, enum: [null], description: 'Always null in an error' },
      errorCode: ref('ErrorCode'),
      fields: { type: 'array', items: ref('FieldProblem'), description: 'Validation errors only: each field at fault' },
    },
  },
  DownloadCreatePayload: {
    type: 'object',
    description: '`download-create`: tasks were created (ids are numbers here).',
    required: ['ids', 'count'],
    properties: {
      ids: { type: 'array', items: { type: 'integer' }, example: [1, 2] },
      count: { type: 'integer', example: 2 },
    },
  },
  DownloadIdPayload: {
    type: 'object',
    description: `${SINGLE_ID_EVENTS.map((name) => `\`${name}\``).join(', ')}: one task (its id as a string).`,
    required: ['id'],
    properties: { id: { type: 'string', example: '123' } },
  },
  DownloadFailedPayload: {
    type: 'object',
    description: '`download-failed`: a task gave up after its retries.',
    required: ['id', 'error', 'errorCode'],
    properties: {
      id: { type: 'string', example: '123' },
      error: { type: 'string', description: 'A sentence saying what went wrong', example: 'segment 17 of the playlist answered 404 after 5 tries' },
      errorCode: { type: 'string', enum: FAILURE_CODES },
      dependency: { type: 'string', description: 'With dependency_missing: the tool that is missing', example: 'ffmpeg' },
    },
  },
  DownloadProgressPayload: {
    type: 'object',
    description: '`download-progress`: live figures of a running task, at most twice a second per task.',
    required: ['id', 'percent', 'speed', 'downloadedBytes', 'totalBytes', 'eta'],
    properties: {
      id: { type: 'string', example: '123' },
      percent: { type: 'number', nullable: true, description: '0–100, null while the total is unknown', example: 42.5 },
      speed: { type: 'number', description: 'Bytes per second', example: 1048576 },
      downloadedBytes: { type: 'integer', example: 22282240 },
      totalBytes: { type: 'integer', nullable: true, example: 52428800 },
      eta: { type: 'number', nullable: true, description: 'Seconds left, null when unknown', example: 29 },
    },
  },
};

/** One parsed frame of the event stream: `event` is the frame's `event:` line, `data` the JSON of its `data:` line. */
function frame(names: readonly string[], payload: string): SchemaObject {
  return {
    type: 'object',
    required: ['event', 'data'],
    properties: { event: { type: 'string', enum: [...names] }, data: ref(payload) },
  };
}

/** The schema of the event stream's body, frame by frame. */
export const EVENT_FRAME_SCHEMA: SchemaObject = {
  description: 'Each frame parsed: `event` is the name on its `event:` line, `data` the JSON on its `data:` line.',
  oneOf: [
    frame(['download-create'], 'DownloadCreatePayload'),
    frame(SINGLE_ID_EVENTS, 'DownloadIdPayload'),
    frame(['download-failed'], 'DownloadFailedPayload'),
    frame(['download-progress'], 'DownloadProgressPayload'),
  ],
};
