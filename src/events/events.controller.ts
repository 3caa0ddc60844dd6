import { Controller, Sse } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ANY_API_ROUTE, ApiErrors } from '../common/api-envelope.decorator.js';
import { EVENT_FRAME_SCHEMA } from '../common/openapi-schemas.js';
import type { Observable } from 'rxjs';
import { RawResponse } from '../common/raw-response.decorator.js';
import { EventStreamService, type SseFrame } from './event-stream.service.js';

/** What a reader of /docs needs to write an SSE client. */
const EVENTS_DESCRIPTION = `A Server-Sent Events stream: one frame per event, \`event: <name>\` then \`data: <JSON>\` and a blank line.

| event | data | when |
|---|---|---|
| \`download-create\` | \`{ "ids": number[], "count": number }\` (DownloadCreatePayload) | tasks were created by \`POST /api/downloads\` |
| \`download-start\` | \`{ "id": string }\` (DownloadIdPayload) | a task began running |
| \`download-progress\` | \`{ "id": string, "percent": number or null, "speed": number, "downloadedBytes": number, "totalBytes": number or null, "eta": number or null }\` (DownloadProgressPayload) | while running, at most twice a second per task |
| \`download-success\` | \`{ "id": string }\` | a task finished; its file is complete |
| \`download-failed\` | \`{ "id": string, "error": string, "errorCode": string, "dependency"?: string }\` (DownloadFailedPayload) | a task gave up; errorCode is dependency_missing (then dependency names the tool: ffmpeg, yt-dlp), download_failed, crash_loop, insufficient_space or address_not_allowed |
| \`download-stop\` | \`{ "id": string }\` | a task was stopped |
| \`download-update\` | \`{ "id": string }\` | any other change of a task (edit, live flag, marked status, requeued, file moved): refetch it |
| \`download-delete\` | \`{ "id": string }\` | a task was deleted |

Mind the types: a single task's \`id\` is a **string**, the \`ids\` of download-create are **numbers**.
A comment line \`: ping\` comes every 15 s (SSE_PING_INTERVAL_MS) to keep proxies from closing the stream; clients ignore comments.
There is no replay: a client that reconnects refetches the tasks it shows.
With API_KEY set, a browser EventSource (which cannot send headers) passes the key as \`?token=<key>\`; other clients may use a header.

Example frame:

    event: download-start
    data: {"id":"123"}
`;

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly eventStream: EventStreamService) {}

  @Sse()
  @RawResponse()
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'Live task events (Server-Sent Events)',
    description: EVENTS_DESCRIPTION,
  })
  @ApiResponse({
    status: 200,
    description: 'A long-lived text/event-stream; the head is sent at once, frames follow as tasks change',
    content: { 'text/event-stream': { schema: EVENT_FRAME_SCHEMA } },
  })
  @ApiErrors(ANY_API_ROUTE)
  events(): Observable<SseFrame> {
    return this.eventStream.stream();
  }
}
