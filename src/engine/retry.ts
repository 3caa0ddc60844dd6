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

/** Runs fn until it succeeds, a failure is not transient, or the tries are used up. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (isAbortError(error) || hooks.signal?.aborted) throw error;
      if (!isTransient(error) || attempt >= policy.attempts) throw error;
      const delay = backoffDelay(policy, attempt, error);
      hooks.onRetry?.(attempt, error, delay);
      await sleep(delay, hooks.signal);
    }
  }
}

/** "after 5 tries: <reason>" for a final error message. */
export function explainFinalFailure(error: unknown, attempts: number): string {
  return isTransient(error) ? `${describeError(error)} after ${attempts} tries` : describeError(error);
}
