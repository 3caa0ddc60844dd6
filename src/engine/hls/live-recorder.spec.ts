import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickNewSegments, reloadDelayMs } from './live-recorder.js';
import type { MediaPlaylistInfo, MediaSegment } from './playlist.js';

function window(first: number, count: number): MediaSegment[] {
  return Array.from({ length: count }, (_, index) => ({
    position: index,
    sequence: first + index,
    url: `https://x.example/${first + index}.ts`,
    range: null,
    duration: 2,
    discontinuity: false,
    discontinuitySequence: 0,
    key: null,
    init: null,
  }));
}

describe('pickNewSegments', () => {
  it('takes the whole first window', () => {
    assert.deepEqual(pickNewSegments(window(10, 3), null).fresh.map((segment) => segment.sequence), [10, 11, 12]);
  });

  it('takes only what follows the last recorded sequence, each once, across overlapping reloads', () => {
    let last: number | null = null;
    const recorded: number[] = [];
    for (const reload of [window(10, 3), window(10, 3), window(11, 3), window(12, 4), window(14, 3)]) {
      const { fresh, gap } = pickNewSegments(reload, last);
      assert.equal(gap, false);
      recorded.push(...fresh.map((segment) => segment.sequence));
      last = recorded.at(-1) ?? last;
    }
    assert.deepEqual(recorded, [10, 11, 12, 13, 14, 15, 16]);
  });

  it('reports a gap when the window moved past unseen segments', () => {
    const { fresh, gap } = pickNewSegments(window(20, 3), 12);
    assert.equal(gap, true);
    assert.deepEqual(fresh.map((segment) => segment.sequence), [20, 21, 22]);
  });

  it('gives nothing for a window that did not move, or a stale one slightly behind', () => {
    assert.deepEqual(pickNewSegments(window(10, 3), 12), { fresh: [], gap: false });
    assert.deepEqual(pickNewSegments(window(8, 3), 12), { fresh: [], gap: false });
  });

  it('records on after a restarted stream whose numbering began again, marking the gap', () => {
    const { fresh, gap } = pickNewSegments(window(0, 3), 502);
    assert.equal(gap, true);
    assert.deepEqual(fresh.map((segment) => segment.sequence), [0, 1, 2]);
    const next = pickNewSegments(window(1, 3), 2);
    assert.deepEqual(next.fresh.map((segment) => segment.sequence), [3]);
  });
});

describe('reloadDelayMs', () => {
  const playlist = (targetDuration: number): MediaPlaylistInfo => ({ kind: 'media', url: 'u', targetDuration, mediaSequence: 0, endList: false, segments: window(0, 1) });

  it('waits a target duration after a change and half of it otherwise', () => {
    assert.equal(reloadDelayMs(playlist(6), true), 6000);
    assert.equal(reloadDelayMs(playlist(6), false), 3000);
  });
});
