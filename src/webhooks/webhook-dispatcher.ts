import { Logger } from '@nestjs/common';
import { HttpError, describeError, redactUrl } from '../engine/http-error.js';
import { withRetry } from '../engine/retry.js';
import { signWebhookBody } from './webhook-signature.js';
import type { WebhookTargetStatusDto } from './webhooks.dto.js';

/** What GET /api/webhooks shows of one receiver. */
export type WebhookTargetStatus = WebhookTargetStatusDto;

export interface WebhookDeliveryPolicy {
  attempts: number;
  baseDelayMs: number;
  timeoutMs: number;
  /** deliveries waiting per receiver before the oldest is dropped */
  maxPending: number;
  secret: string | null;
}

interface Delivery {
  event: string;
  body: string;
  /** tries for this delivery (a test delivery reports after one) */
  attempts: number;
}

/** How one delivery ended. */
export interface DeliveryOutcome {
  url: string;
  delivered: boolean;
  status: number | null;
  error: string | null;
}

/**
 * One receiver's deliveries, in order, one at a time, each retried with backoff. Nothing here is awaited by a
 * download: a slow or dead receiver only grows its own bounded queue.
 */
export class WebhookTarget {
  private readonly logger = new Logger('Webhooks');
  private readonly queue: Delivery[] = [];
  private sending = false;
  private readonly state: WebhookTargetStatus;

  constructor(
    readonly url: string,
    private readonly policy: WebhookDeliveryPolicy,
  ) {
    this.state = { url: redactUrl(url), pending: 0, delivered: 0, failed: 0, lastEvent: null, lastStatus: null, lastError: null, lastAttemptAt: null, lastSuccessAt: null };
  }

  get secret(): string | null {
    return this.policy.secret;
  }

  status(): WebhookTargetStatus {
    return { ...this.state, pending: this.queue.length + (this.sending ? 1 : 0) };
  }

  /** Queues a delivery, tried until it succeeds or its tries are used up. */
  enqueue(event: string, body: string): void {
    if (this.queue.length >= this.policy.maxPending) {
      const dropped = this.queue.shift()!;
      this.state.failed++;
      this.logger.warn(`${this.state.url}: ${this.policy.maxPending} deliveries waiting; the oldest (${dropped.event}) was dropped`);
    }
    this.queue.push({ event, body, attempts: this.policy.attempts });
    void this.drain();
  }

  /** One try now, beside the queue (a test event must not wait behind another event's retries). */
  async tryOnce(event: string, body: string): Promise<DeliveryOutcome> {
    const delivered = await this.deliver({ event, body, attempts: 1 });
    return { url: this.state.url, delivered, status: this.state.lastStatus, error: delivered ? null : this.state.lastError };
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      for (let delivery = this.queue.shift(); delivery; delivery = this.queue.shift()) await this.deliver(delivery);
    } finally {
      this.sending = false;
    }
  }

  private async deliver(delivery: Delivery): Promise<boolean> {
    this.state.lastEvent = delivery.event;
    try {
      await withRetry(() => this.post(delivery), { attempts: delivery.attempts, baseDelayMs: this.policy.baseDelayMs, maxDelayMs: 60_000 }, {
        source: 'webhook',
        onRetry: (attempt, error, delayMs) => this.logger.warn(`${this.state.url}: ${delivery.event} try ${attempt} failed (${describeError(error)}); again in ${delayMs} ms`),
      });
      this.state.delivered++;
      this.state.lastError = null;
      this.state.lastSuccessAt = new Date().toISOString();
      return true;
    } catch (error) {
      this.state.failed++;
      this.state.lastError = describeError(error);
      this.logger.warn(`${this.state.url}: ${delivery.event} was not delivered: ${this.state.lastError}`);
      return false;
    }
  }

  private async post(delivery: Delivery): Promise<void> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'mediago-service-webhook/1',
      'x-mediago-event': delivery.event,
      'x-webhook-timestamp': timestamp,
    };
    if (this.policy.secret) headers['x-signature-256'] = signWebhookBody(delivery.body, this.policy.secret);
    this.state.lastAttemptAt = new Date().toISOString();
    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', headers, body: delivery.body, redirect: 'manual', signal: AbortSignal.timeout(this.policy.timeoutMs) });
    } catch (error) {
      this.state.lastStatus = null;
      // a receiver that does not answer in time is retried like a refused connection
      if ((error as Error).name === 'TimeoutError') throw Object.assign(new Error(`no answer within ${this.policy.timeoutMs} ms`), { code: 'ETIMEDOUT' });
      throw error;
    }
    this.state.lastStatus = response.status;
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new HttpError(response.status, this.url, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null);
    }
  }
}
