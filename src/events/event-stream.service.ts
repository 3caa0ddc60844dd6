import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { OnEvent } from '@nestjs/event-emitter';
import { Observable, Subject, interval, map, merge, startWith, takeUntil } from 'rxjs';
import { DownloadEvent, type DownloadEventMap, type DownloadEventName, type SseMessage, toSseMessage } from './download-events.js';

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

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @OnEvent(DownloadEvent.Created)
  onCreated(payload: DownloadEventMap['download.created']) {
    this.publish(DownloadEvent.Created, payload);
  }

  @OnEvent(DownloadEvent.Started)
  onStarted(payload: DownloadEventMap['download.started']) {
    this.publish(DownloadEvent.Started, payload);
  }

  @OnEvent(DownloadEvent.Succeeded)
  onSucceeded(payload: DownloadEventMap['download.succeeded']) {
    this.publish(DownloadEvent.Succeeded, payload);
  }

  @OnEvent(DownloadEvent.Failed)
  onFailed(payload: DownloadEventMap['download.failed']) {
    this.publish(DownloadEvent.Failed, payload);
  }

  @OnEvent(DownloadEvent.Stopped)
  onStopped(payload: DownloadEventMap['download.stopped']) {
    this.publish(DownloadEvent.Stopped, payload);
  }

  @OnEvent(DownloadEvent.Progress)
  onProgress(payload: DownloadEventMap['download.progress']) {
    this.publish(DownloadEvent.Progress, payload);
  }

  /** A client's view: a comment at once (so the head goes out on connect), the events, and a ping every SSE_PING_INTERVAL_MS (15 s). */
  stream(): Observable<SseFrame> {
    const pings = interval(this.config.ssePingIntervalMs).pipe(map((): SseFrame => ({ comment: 'ping' })));
    // every stream ends at shutdown, so that open event streams never hold the process
    return merge(this.events, pings).pipe(startWith<SseFrame>({ comment: 'connected' }), takeUntil(this.destroyed));
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
