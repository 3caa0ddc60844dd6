import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillerArgs, fillerProblem } from './gap-filler.js';

describe('gap fillers', () => {
  it('pads AAC and H.264 tracks of periods with a known length, and says why not otherwise', () => {
    assert.equal(fillerProblem('audio', 'mp4a.40.2', 2), null);
    assert.equal(fillerProblem('video', 'avc1.64001f', 2), null);
    assert.equal(fillerProblem('audio', null, 2), null);
    assert.match(fillerProblem('audio', 'mp4a.40.2', null)!, /no known duration/);
    assert.match(fillerProblem('audio', 'opus', 2)!, /opus, not AAC/);
    assert.match(fillerProblem('video', 'hvc1.1.6.L93.B0', 2)!, /not H\.264/);
  });

  it('makes silence or black from the reference, as long as the period, reading local files only', () => {
    const audio = fillerArgs({ kind: 'audio', path: '/w/p1-filler.mp4', seconds: 2, reference: [] }, '/w/ref.mp4');
    assert.deepEqual(audio.slice(0, 6), ['-protocol_whitelist', 'file', '-f', 'mp4', '-i', '/w/ref.mp4']);
    assert.ok(audio.join(' ').includes('volume=0,apad=whole_dur=2.000'));
    assert.equal(audio.at(-1), '/w/p1-filler.mp4');
    const video = fillerArgs({ kind: 'video', path: '/w/p1-filler.mp4', seconds: 1.5, reference: [] }, '/w/ref.mp4');
    assert.ok(video.join(' ').includes('drawbox=color=black:t=fill,tpad=stop_mode=clone:stop_duration=1.500'));
  });
});
