import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprint } from './hls-state.js';
import type { MediaSegment } from './playlist.js';

function segments(query: string): MediaSegment[] {
  return [0, 1, 2].map((position) => ({
    position,
    sequence: position,
    url: `https://cdn.example/v/seg${position}.ts${query}`,
    range: null,
    duration: 1,
    discontinuity: false,
    discontinuitySequence: 0,
    key: null,
    init: null,
  }));
}

describe('HLS state fingerprint', () => {
  it('keeps the segments of an earlier run when only the query strings (tokens) changed, as after a URL edit', () => {
    assert.equal(fingerprint([{ kind: 'video', segments: segments('?token=old') }]), fingerprint([{ kind: 'video', segments: segments('?token=new&exp=2') }]));
    assert.equal(fingerprint([{ kind: 'live video', url: 'https://cdn.example/live.m3u8?t=1' }]), fingerprint([{ kind: 'live video', url: 'https://cdn.example/live.m3u8?t=2' }]));
  });

  it('tells another stream apart', () => {
    const other = segments('').map((segment) => ({ ...segment, url: segment.url.replace('/v/', '/w/') }));
    assert.notEqual(fingerprint([{ kind: 'video', segments: segments('') }]), fingerprint([{ kind: 'video', segments: other }]));
  });
});
