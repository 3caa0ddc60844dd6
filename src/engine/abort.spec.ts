import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAbortError, settleAfterAbort } from './abort.js';

describe('settleAfterAbort', () => {
  it('settles with the work while nothing aborts', async () => {
    const controller = new AbortController();
    assert.equal(await settleAfterAbort(Promise.resolve(7), controller.signal, 10), 7);
  });

  it('ends the wait after the grace when the work ignores the abort', async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => undefined);
    const waiting = settleAfterAbort(never, controller.signal, 20);
    controller.abort();
    await assert.rejects(waiting, (error: unknown) => isAbortError(error));
  });

  it('lets work that honours the abort settle in its own way', async () => {
    const controller = new AbortController();
    const work = new Promise<string>((resolve) => controller.signal.addEventListener('abort', () => resolve('cleaned up')));
    const waiting = settleAfterAbort(work, controller.signal, 10_000);
    controller.abort();
    assert.equal(await waiting, 'cleaned up');
  });
});
