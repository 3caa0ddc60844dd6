import { Controller, Sse } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Observable } from 'rxjs';
import { RawResponse } from '../common/raw-response.decorator.js';
import { EventStreamService, type SseFrame } from './event-stream.service.js';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly eventStream: EventStreamService) {}

  @Sse()
  @RawResponse()
  @ApiOperation({
    summary: 'Live task events (Server-Sent Events)',
    description:
      'Events: download-create {ids:number[],count}, download-start {id:string}, download-success {id}, ' +
      'download-failed {id,error,errorCode,dependency?}, download-stop {id}, download-progress {id,percent,speed,downloadedBytes,totalBytes,eta} ' +
      '(at most 2 per second per task), download-update {id} (edit, live flag, mark, requeue, file moved), download-delete {id}. A ": ping" comment every 15 s. With API_KEY set, browsers pass ?token=<key>.',
  })
  @ApiProduces('text/event-stream')
  @ApiResponse({ status: 200, description: 'A long-lived text/event-stream' })
  events(): Observable<SseFrame> {
    return this.eventStream.stream();
  }
}
