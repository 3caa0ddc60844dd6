import { isAbortError, sleep } from './abort.js';
import { HttpError, describeError, isTransient } from './http-error.js';

export interface RetryPolicy {
  /** Total tries, the first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs?: number;
}

export interface RetryHooks {
  signal?: AbortSignal;
  /** what is being retried, for the retry counters (default: a download's request) */
  source?: 'download' | 'webhook';
  /** Called before each new try with the failure that caused it. */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

/** Delay before try n+1: exponential, capped, with jitter; a server's Retry-After wins when larger. */
export function backoffDelay(policy: RetryPolicy, attempt: number, error: unknown): number {
  const max = policy.maxDelayMs ?? 30_000;
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  const jittered = Math.min(max, exponential * (0.75 + Math.random() * 0.5));
  const serverAsked = error instanceof HttpError && error.retryAfterMs !== null ? Math.min(max, error.retryAfterMs) : 0;
  return Math.round(Math.max(jittered, serverAsked));
}

export type RetryReason = 'http_5xx' | 'http_429' | 'http_other' | 'timeout' | 'connection';
type RetryListener = (reason: RetryReason, source: 'download' | 'webhook') => void;
const retryListeners = new Set<RetryListener>();

/** Tells the listener of every retry anywhere in the process (the metrics count them); returns the unsubscribe. */
export function onRetry(listener: RetryListener): () => void {
  retryListeners.add(listener);
  return () => retryListeners.delete(listener);
}

/** Why a try failed, in a few words a dashboard can group by. */
export function retryReason(error: unknown): RetryReason {
  if (error instanceof HttpError) return error.status === 429 ? 'http_429' : error.status >= 500 ? 'http_5xx' : 'http_other';
  const text = `${(error as { code?: string })?.code ?? ''} ${(error as Error)?.message ?? ''} ${(error as { cause?: { code?: string } })?.cause?.code ?? ''}`;
  return /TIMEOUT|TIMEDOUT|stall|deadline|timed out/i.test(text) ? 'timeout' : 'connection';
}

/** The delay before the next try of a failed request, and the retry counted for every listener. */
export function retryDelay(policy: RetryPolicy, attempt: number, error: unknown, source: 'download' | 'webhook' = 'download'): number {
  for (const listener of retryListeners) listener(retryReason(error), source);
  return backoffDelay(policy, attempt, error);
}

/** Runs fn until it succeeds, a failure is not transient, or the tries are used up. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (isAbortError(error) || hooks.signal?.aborted) throw error;
      if (!isTransient(error) || attempt >= policy.attempts) throw error;
      const delay = retryDelay(policy, attempt, error, hooks.source);
      hooks.onRetry?.(attempt, error, delay);
      await sleep(delay, hooks.signal);
    }
  }
}

/** "after 5 tries: <reason>" for a final error message. */
export function explainFinalFailure(error: unknown, attempts: number): string {
  return isTransient(error) ? `${describeError(error)} after ${attempts} tries` : describeError(error);
}
