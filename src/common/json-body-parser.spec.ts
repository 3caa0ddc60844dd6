import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_JSON_DEPTH, jsonNestingDepth, oversizedArrayPath } from './json-body-parser.js';

describe('jsonNestingDepth', () => {
  it('counts arrays and objects, flat values are depth 0', () => {
    assert.equal(jsonNestingDepth('1'), 0);
    assert.equal(jsonNestingDepth('"text"'), 0);
    assert.equal(jsonNestingDepth('{}'), 1);
    assert.equal(jsonNestingDepth('{"tasks":[{"type":"direct"}]}'), 3);
    assert.equal(jsonNestingDepth('[[],[[]],{}]'), 3);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    assert.equal(jsonNestingDepth('{"name":"[[[{{{"}'), 1);
    assert.equal(jsonNestingDepth('{"name":"a\\"[[[[\\\\"}'), 1);
    assert.equal(jsonNestingDepth('["\\\\",[1]]'), 2);
  });

  it('stops as soon as the limit is passed, without recursion, for any depth', () => {
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    assert.equal(jsonNestingDepth(deep, MAX_JSON_DEPTH), MAX_JSON_DEPTH + 1);
    assert.equal(jsonNestingDepth(deep), 1_000_000);
    assert.equal(jsonNestingDepth('{"a":'.repeat(MAX_JSON_DEPTH) + '1' + '}'.repeat(MAX_JSON_DEPTH), MAX_JSON_DEPTH), MAX_JSON_DEPTH);
  });
});

describe('oversizedArrayPath', () => {
  const items = (count: number) => Array.from({ length: count }, () => ({ type: 'direct' }));

  it('accepts lists up to the limit', () => {
    assert.equal(oversizedArrayPath({ tasks: items(1000), ids: [1, 2] }), null);
    assert.equal(oversizedArrayPath('text'), null);
    assert.equal(oversizedArrayPath(null), null);
  });

  it('names the first list over the limit by its path', () => {
    assert.deepEqual(oversizedArrayPath({ tasks: items(1001) }), { path: 'tasks', length: 1001 });
    assert.deepEqual(oversizedArrayPath({ tasks: [{ headers: Array(5).fill('A: 1') }] }, 4), { path: 'tasks[0].headers', length: 5 });
    assert.deepEqual(oversizedArrayPath(Array(3).fill(1), 2), { path: 'body', length: 3 });
  });
});
