import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { pathExists } from '../common/file-system.js';
import { redactHeaderLines } from '../common/secret-redaction.js';
import { APP_CONFIG, type AppConfig, WEBHOOK_EVENTS } from '../config/app-config.js';
import { DownloadRepository } from '../tasks/download.repository.js';
import { toDownloadTaskDto } from '../downloads/download.mapper.js';
import type { DownloadTaskDto } from '../downloads/dto/download-task.dto.js';
import { DownloadEvent, type DownloadEventMap, type DownloadEventName, SSE_EVENT_NAMES, toSseMessage } from '../events/download-events.js';
import { SETTINGS_CHANGED, type SettingsChangedPayload } from '../config/config-events.js';
import { type DeliveryOutcome, WebhookTarget, type WebhookTargetStatus } from './webhook-dispatcher.js';

const DELIVERY_TIMEOUT_MS = 10_000;
const DELIVERY_ATTEMPTS = 6;
const MAX_PENDING = 1000;

export interface WebhookPayload {
  event: string;
  /** the task as GET /api/downloads/:id shows it, credentials in its headers redacted; null when the event has no single task */
  task: DownloadTaskDto | null;
  /** the event's own payload, as on the SSE stream */
  data: unknown;
  timestamp: string;
}

/** POSTs chosen lifecycle events to the receivers in WEBHOOK_URLS, signed with WEBHOOK_SECRET. */
@Injectable()
export class WebhooksService {
  private targets: WebhookTarget[] = [];
  private events = new Set<string>();

  constructor(
    private readonly repository: DownloadRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    emitter: EventEmitter2,
  ) {
    this.configure();
    for (const name of Object.values(DownloadEvent)) {
      if (!WEBHOOK_EVENTS.includes(SSE_EVENT_NAMES[name])) continue;
      emitter.on(name, (payload: DownloadEventMap[typeof name]) => {
        if (this.targets.length > 0 && this.events.has(SSE_EVENT_NAMES[name])) void this.publish(name, payload);
      });
    }
    emitter.on(SETTINGS_CHANGED, ({ keys }: SettingsChangedPayload) => {
      if (keys.some((key) => key.startsWith('webhook'))) this.configure();
    });
  }

  /** Receivers from the live configuration; one whose URL and secret stay keeps its queue and its history. */
  private configure(): void {
    const policy = { attempts: DELIVERY_ATTEMPTS, baseDelayMs: this.config.retryBaseDelayMs, timeoutMs: DELIVERY_TIMEOUT_MS, maxPending: MAX_PENDING, secret: this.config.webhookSecret };
    const kept = new Map(this.targets.filter((target) => target.secret === policy.secret).map((target) => [target.url, target]));
    this.targets = this.config.webhookUrls.map((url) => kept.get(url) ?? new WebhookTarget(url, policy));
    this.events = new Set(this.config.webhookEvents);
  }

  overview(): { events: string[]; signed: boolean; targets: WebhookTargetStatus[] } {
    return { events: [...this.events], signed: this.config.webhookSecret !== null, targets: this.targets.map((target) => target.status()) };
  }

  /** Sends a `test` event to every receiver, once, and reports how each answered. */
  sendTest(): Promise<DeliveryOutcome[]> {
    const body = JSON.stringify({ event: 'test', task: null, data: { message: 'a test event from the download service' }, timestamp: new Date().toISOString() } satisfies WebhookPayload);
    return Promise.all(this.targets.map((target) => target.tryOnce('test', body)));
  }

  private async publish<K extends DownloadEventName>(name: K, payload: DownloadEventMap[K]): Promise<void> {
    const { type, data } = toSseMessage(name, payload);
    const task = 'id' in payload ? await this.taskView(payload.id) : null;
    const body = JSON.stringify({ event: type, task, data: JSON.parse(data), timestamp: new Date().toISOString() } satisfies WebhookPayload);
    for (const target of this.targets) target.enqueue(type, body);
  }

  private async taskView(id: number): Promise<DownloadTaskDto | null> {
    const task = await this.repository.findById(id).catch(() => null);
    if (!task) return null;
    const view = toDownloadTaskDto(task, this.config.downloadDir, null, task.file !== null && (await pathExists(task.file)));
    return { ...view, headers: redactHeaderLines(view.headers) };
  }
}
