import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { type LimiterClock, RateLimiter, currentSpeedLimits, throttled, withSpeedLimits } from './rate-limiter.js';

/** Virtual time: sleeping advances the clock at once, so the waits are computed, not measured. */
function virtualClock(): LimiterClock & { elapsed: number } {
  const clock = {
    elapsed: 0,
    now: () => clock.elapsed,
    async sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      clock.elapsed += ms;
    },
  };
  return clock;
}

const KiB = 1024;

describe('RateLimiter', () => {
  it('lets bytes through at its rate after a quarter-second burst', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(400 * KiB, clock);
    for (let i = 0; i < 10; i++) await limiter.take(40 * KiB);
    // 400 KiB at 400 KiB/s, the first 100 KiB (the burst) at once: 0.75 s, give or take a chunk's rounding
    assert.ok(clock.elapsed >= 740 && clock.elapsed <= 760, `${clock.elapsed} ms`);
  });

  it('holds its average rate over a long transfer, chunks larger than the bucket included', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(4 * 1024 * KiB, clock);
    for (let i = 0; i < 80; i++) await limiter.take(256 * KiB);
    // 20 MiB at 4 MiB/s: 5 s less the 1 MiB burst and the last chunk's unpaid debt
    assert.ok(clock.elapsed >= 4700 && clock.elapsed <= 5000, `${clock.elapsed} ms`);
  });

  it('passes everything at once with a rate of 0, and a new rate applies to the next take', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(0, clock);
    await limiter.take(100 * 1024 * KiB);
    assert.equal(clock.elapsed, 0);
    limiter.setRate(64 * KiB);
    for (let i = 0; i < 9; i++) await limiter.take(16 * KiB);
    // 144 KiB at 64 KiB/s with a 16 KiB burst: 2 s
    assert.ok(clock.elapsed >= 1990 && clock.elapsed <= 2010, `${clock.elapsed} ms`);
  });

  it('serves transfers sharing one limit in arrival order', async () => {
    const limiter = new RateLimiter(256 * KiB, virtualClock());
    const order: string[] = [];
    await Promise.all(
      ['a', 'b'].map(async (name) => {
        for (let i = 0; i < 3; i++) {
          await limiter.take(32 * KiB);
          order.push(name);
        }
      }),
    );
    assert.deepEqual(order, ['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('stops waiting when its signal aborts', async () => {
    const limiter = new RateLimiter(KiB, virtualClock());
    await limiter.take(16 * KiB);
    await assert.rejects(limiter.take(16 * KiB, AbortSignal.abort()), { name: 'AbortError' });
  });
});

describe('throttled and withSpeedLimits', () => {
  it('takes every chunk from each limit and keeps every byte', async () => {
    const fast = virtualClock();
    const slow = virtualClock();
    const data = Buffer.alloc(512 * KiB, 7);
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from([0, 1, 2, 3].map((part) => data.subarray(part * 128 * KiB, (part + 1) * 128 * KiB))),
      throttled([new RateLimiter(10 * 1024 * KiB, fast), new RateLimiter(256 * KiB, slow)]),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) chunks.push(chunk);
      },
    );
    assert.deepEqual(Buffer.concat(chunks), data);
    assert.ok(slow.elapsed >= 1490, `the tighter limit waited ${slow.elapsed} ms`);
    assert.equal(fast.elapsed, 0, 'the looser one never had to');
  });

  it('carries the limits through the async work of a task, and only there', async () => {
    const limiter = new RateLimiter(1000);
    assert.deepEqual(currentSpeedLimits(), []);
    const seen = await withSpeedLimits([limiter], async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return currentSpeedLimits();
    });
    assert.deepEqual(seen, [limiter]);
    assert.deepEqual(currentSpeedLimits(), []);
  });
});
