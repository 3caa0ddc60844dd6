import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortedError } from './abort.js';
import { HttpError, PermanentError } from './http-error.js';
import { type RetryPolicy, backoffDelay, explainFinalFailure, onRetry, retryReason, withRetry } from './retry.js';

const aPolicy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({ attempts: 4, baseDelayMs: 1, maxDelayMs: 5, ...overrides });
const transient = () => Object.assign(new Error('read failed'), { code: 'ECONNRESET' });
const SAMPLES = 300;
const delays = (policy: RetryPolicy, attempt: number, error: unknown = transient()) => Array.from({ length: SAMPLES }, () => backoffDelay(policy, attempt, error));

/** A function that fails with the given errors in turn, then answers `value`; it counts its calls. */
function failingThen<T>(errors: unknown[], value: T) {
  const calls: number[] = [];
  const fn = async (attempt: number) => {
    calls.push(attempt);
    if (calls.length <= errors.length) throw errors[calls.length - 1];
    return value;
  };
  return { fn, calls };
}

describe('backoffDelay', () => {
  const policy = aPolicy({ baseDelayMs: 100, maxDelayMs: 1_000 });

  it('grows exponentially, within ±25 % jitter', () => {
    for (const [attempt, nominal] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
    ]) {
      for (const delay of delays(policy, attempt)) assert.ok(delay >= nominal * 0.75 && delay <= nominal * 1.25, `try ${attempt}: ${delay} ms`);
    }
  });

  it('is never above maxDelayMs', () => {
    const over = [5, 6, 10, 30].flatMap((attempt) => delays(policy, attempt)).filter((delay) => delay > 1_000);
    assert.deepEqual(over.slice(0, 5), [], `${over.length} of ${4 * SAMPLES} delays exceed maxDelayMs`);
  });

  it('stays near maxDelayMs for late tries', () => {
    for (const delay of delays(policy, 30)) assert.ok(delay >= 750, `${delay} ms`);
  });

  it('defaults maxDelayMs to 30 s', () => {
    const askedForAMinute = new HttpError(429, 'https://example.com/x', 60_000);
    assert.equal(backoffDelay({ attempts: 5, baseDelayMs: 1_000 }, 1, askedForAMinute), 30_000);
    for (const delay of delays({ attempts: 5, baseDelayMs: 1_000 }, 20)) assert.ok(delay >= 22_500, `${delay} ms`);
  });

  it("honours a server's Retry-After when it is longer, capped at maxDelayMs", () => {
    const asked = (ms: number) => new HttpError(503, 'https://example.com/x', ms);
    for (const delay of delays(policy, 1, asked(700))) assert.equal(delay, 700);
    for (const delay of delays(policy, 1, asked(60_000))) assert.equal(delay, 1_000);
    for (const delay of delays(policy, 1, asked(10))) assert.ok(delay >= 75 && delay <= 125, 'a shorter Retry-After does not shorten the backoff');
  });

  it('is a whole number of milliseconds', () => {
    for (const delay of delays(aPolicy({ baseDelayMs: 3 }), 2)) assert.ok(Number.isInteger(delay));
  });
});

describe('withRetry', () => {
  it('returns at once when the first try succeeds', async () => {
    const { fn, calls } = failingThen([], 'ok');
    assert.equal(await withRetry(fn, aPolicy()), 'ok');
    assert.deepEqual(calls, [1]);
  });

  it('retries transient failures and returns the later success', async () => {
    const { fn, calls } = failingThen([transient(), new HttpError(503, 'https://example.com/x')], 'ok');
    const retries: Array<[number, string]> = [];
    const result = await withRetry(fn, aPolicy(), { onRetry: (attempt, error, delayMs) => {
      assert.ok(delayMs >= 0 && delayMs <= 5);
      retries.push([attempt, (error as Error).message]);
    } });
    assert.equal(result, 'ok');
    assert.deepEqual(calls, [1, 2, 3]);
    assert.deepEqual(retries, [
      [1, 'read failed'],
      [2, 'https://example.com/x answered HTTP 503'],
    ]);
  });

  it('stops at once on a failure that is not transient', async () => {
    for (const error of [new PermanentError('not a playlist'), new HttpError(404, 'https://example.com/x'), new Error('bad')]) {
      const { fn, calls } = failingThen([error], 'never');
      await assert.rejects(withRetry(fn, aPolicy()), error);
      assert.deepEqual(calls, [1]);
    }
  });

  it('stops after `attempts` tries and throws the last failure', async () => {
    const errors = Array.from({ length: 10 }, (_, index) => Object.assign(new Error(`failure ${index + 1}`), { code: 'ETIMEDOUT' }));
    const { fn, calls } = failingThen(errors, 'never');
    await assert.rejects(withRetry(fn, aPolicy({ attempts: 3 })), { message: 'failure 3' });
    assert.deepEqual(calls, [1, 2, 3]);
  });

  it('tries once with attempts = 1', async () => {
    const { fn, calls } = failingThen([transient()], 'never');
    await assert.rejects(withRetry(fn, aPolicy({ attempts: 1 })), { message: 'read failed' });
    assert.deepEqual(calls, [1]);
  });

  it('stops at once when the failure is an abort', async () => {
    const { fn, calls } = failingThen([new AbortedError()], 'never');
    await assert.rejects(withRetry(fn, aPolicy()), { name: 'AbortError' });
    assert.deepEqual(calls, [1]);
  });

  it('stops at once when the signal has fired, even for a transient failure', async () => {
    const controller = new AbortController();
    controller.abort();
    const { fn, calls } = failingThen([transient(), transient()], 'never');
    await assert.rejects(withRetry(fn, aPolicy(), { signal: controller.signal }), { message: 'read failed' });
    assert.deepEqual(calls, [1]);
  });

  it('stops waiting for the next try when the signal fires', async () => {
    const controller = new AbortController();
    const { fn, calls } = failingThen([transient(), transient()], 'never');
    // an hour of backoff: only the abort can end this wait
    const retrying = withRetry(fn, aPolicy({ baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 }), { signal: controller.signal, onRetry: () => controller.abort() });
    await assert.rejects(retrying, { name: 'AbortError' });
    assert.deepEqual(calls, [1]);
  });
});

describe('explainFinalFailure', () => {
  it('says how many tries a transient failure got', () => {
    assert.equal(explainFinalFailure(new HttpError(503, 'https://example.com/seg17.ts?k=1'), 5), 'https://example.com/seg17.ts answered HTTP 503 after 5 tries');
  });

  it('leaves a permanent failure as it is', () => {
    assert.equal(explainFinalFailure(new HttpError(404, 'https://example.com/x'), 5), 'https://example.com/x answered HTTP 404');
  });
});

describe('retryReason', () => {
  it('groups failures the way a dashboard shows them', () => {
    assert.equal(retryReason(new HttpError(503, 'https://example.com/a')), 'http_5xx');
    assert.equal(retryReason(new HttpError(429, 'https://example.com/a')), 'http_429');
    assert.equal(retryReason(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })), 'timeout');
    assert.equal(retryReason(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 'connection');
  });

  it('is told to every listener with the source of the retry', async () => {
    const seen: string[] = [];
    const stop = onRetry((reason, source) => seen.push(`${reason}/${source}`));
    let tries = 0;
    await withRetry(async () => {
      if (++tries < 3) throw new HttpError(502, 'https://example.com/a');
    }, { attempts: 3, baseDelayMs: 1 }, { source: 'webhook' });
    stop();
    assert.deepEqual(seen, ['http_5xx/webhook', 'http_5xx/webhook']);
  });
});
