import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Observable, Subject, defer, finalize, interval, map, merge, startWith, takeUntil } from 'rxjs';
import { DownloadEvent, type DownloadEventMap, type DownloadEventName, REMOTE_DOWNLOAD_EVENT, type RemoteDownloadEvent, SSE_EVENT_NAMES, type SseMessage, toSseMessage } from './download-events.js';

export interface SseFrame {
  type?: string;
  data?: string;
  comment?: string;
}

/** One hot stream of contract events that every SSE client subscribes to; nothing is kept per client here. */
@Injectable()
export class EventStreamService implements OnModuleDestroy {
  private readonly events = new Subject<SseMessage>();
  private readonly destroyed = new Subject<void>();
  private clients = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    emitter: EventEmitter2,
  ) {
    for (const name of Object.values(DownloadEvent)) {
      emitter.on(name, (payload: DownloadEventMap[typeof name]) => this.publish(name, payload));
    }
    // what the other nodes sharing the database run reaches this node's clients too
    emitter.on(REMOTE_DOWNLOAD_EVENT, (event: RemoteDownloadEvent) => {
      if (event.name in SSE_EVENT_NAMES) this.publish(event.name, event.payload);
    });
  }

  /** A client's view: a comment at once (so the head goes out on connect), the events, and a ping every SSE_PING_INTERVAL_MS (15 s). */
  stream(): Observable<SseFrame> {
    const pings = interval(this.config.ssePingIntervalMs).pipe(map((): SseFrame => ({ comment: 'ping' })));
    // every stream ends at shutdown, so that open event streams never hold the process
    const frames = merge(this.events, pings).pipe(startWith<SseFrame>({ comment: 'connected' }), takeUntil(this.destroyed));
    return defer(() => {
      this.clients++;
      return frames.pipe(finalize(() => this.clients--));
    });
  }

  /** Event streams open now (for the metrics). */
  clientCount(): number {
    return this.clients;
  }

  onModuleDestroy() {
    this.destroyed.next();
    this.destroyed.complete();
    this.events.complete();
  }

  private publish<K extends DownloadEventName>(name: K, payload: DownloadEventMap[K]) {
    this.events.next(toSseMessage(name, payload));
  }
}
