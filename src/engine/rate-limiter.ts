import { AsyncLocalStorage } from 'node:async_hooks';
import { Transform, type TransformCallback } from 'node:stream';
import { sleep } from './abort.js';

/**
 * A token bucket shared by every transfer it limits: bytes wait their turn in arrival order, so the tasks under
 * one limit share it fairly (each chunk queues behind those that came first). A rate of 0 means "no limit".
 */
export interface LimiterClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const REAL_CLOCK: LimiterClock = { now: () => performance.now(), sleep };

export class RateLimiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private bytesPerSecond: number,
    private readonly clock: LimiterClock = REAL_CLOCK,
  ) {
    this.tokens = this.burst;
    this.last = clock.now();
  }

  get rate(): number {
    return this.bytesPerSecond;
  }

  /** A new rate applies to the next chunk (a settings change while tasks run). */
  setRate(bytesPerSecond: number): void {
    this.refill();
    this.bytesPerSecond = bytesPerSecond;
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** Resolves once `bytes` may pass; rejects if the signal aborts while waiting. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(bytes, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** A quarter second of traffic may pass at once, so that small chunks do not wait on timer granularity. */
  private get burst(): number {
    return Math.max(16 * 1024, this.bytesPerSecond / 4);
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }

  private async wait(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSecond <= 0) return;
    this.refill();
    // a chunk larger than the bucket goes once the bucket is full: it borrows, and the debt delays the next ones
    while (this.tokens < Math.min(bytes, this.burst)) {
      await this.clock.sleep(Math.max(1, ((Math.min(bytes, this.burst) - this.tokens) / this.bytesPerSecond) * 1000), signal);
      if (this.bytesPerSecond <= 0) return;
      this.refill();
    }
    this.tokens -= bytes;
  }
}

/** A stream stage that lets each chunk through once every limiter has let it pass. */
export function throttled(limiters: RateLimiter[], signal?: AbortSignal): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      // no limit in force (a global limit can be set later, while the task runs): no wait, no promise
      if (limiters.every((limiter) => limiter.rate <= 0)) return done(null, chunk);
      limiters
        .reduce((turn, limiter) => turn.then(() => limiter.take(chunk.length, signal)), Promise.resolve())
        .then(
          () => done(null, chunk),
          (error: unknown) => done(error as Error),
        );
    },
  });
}

const activeLimits = new AsyncLocalStorage<RateLimiter[]>();

/**
 * Runs a task's work with its speed limits in force: every response body the shared HTTP client opens inside
 * `work` (whatever engine opens it) flows through them. Limits are carried by the async context, so no engine
 * has to pass them along.
 */
export function withSpeedLimits<T>(limiters: RateLimiter[], work: () => Promise<T>): Promise<T> {
  return activeLimits.run(limiters, work);
}

/** The limits in force for the current task, if any. */
export function currentSpeedLimits(): RateLimiter[] {
  return activeLimits.getStore() ?? [];
}
