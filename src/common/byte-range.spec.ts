import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRange } from './byte-range.js';

describe('parseRange', () => {
  it('serves the whole resource without a Range header', () => {
    assert.deepEqual(parseRange(undefined, 100), { kind: 'whole' });
  });

  it('reads a closed, an open and a suffix range', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'range', start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'range', start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'range', start: 90, end: 99 });
    assert.deepEqual(parseRange('BYTES = 5 - 5', 100), { kind: 'range', start: 5, end: 5 });
  });

  it('cuts an end past the resource to its last byte, and a suffix longer than it to the whole', () => {
    assert.deepEqual(parseRange('bytes=50-1000', 100), { kind: 'range', start: 50, end: 99 });
    assert.deepEqual(parseRange('bytes=-1000', 100), { kind: 'range', start: 0, end: 99 });
  });

  it('refuses a start at or past the end, and an empty suffix', () => {
    assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=100-200', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=150-', 100), { kind: 'unsatisfiable' });
  });

  it('ignores what it does not serve: several ranges, other units, bad syntax, an end before the start', () => {
    for (const header of ['bytes=0-1,5-6', 'items=0-1', 'bytes=a-b', 'bytes=-', 'bytes=9-3', '']) {
      assert.deepEqual(parseRange(header, 100), { kind: 'whole' }, header);
    }
  });
});
