import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inTurn } from './in-turn.js';

describe('inTurn', () => {
  it('runs jobs in the order given, serving the event loop between them, and passes results and failures through', async () => {
    const order: string[] = [];
    const first = inTurn(() => {
      order.push('first');
      // what arrives while a job runs (a /healthy request, say) is served before the next job
      setImmediate(() => order.push('event loop'));
      return 1;
    });
    const failing = inTurn(() => {
      order.push('failing');
      throw new Error('bad manifest');
    });
    const third = inTurn(() => (order.push('third'), 3));
    assert.equal(await first, 1);
    await assert.rejects(failing, /bad manifest/);
    assert.equal(await third, 3);
    assert.deepEqual(order, ['first', 'event loop', 'failing', 'third']);
  });
});
