import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTimestamp, mergeWebVtt, parseTimestamp, timestampMap } from './webvtt.js';

const segment = (map: string | null, ...cues: string[]) => `WEBVTT${map ? `\nX-TIMESTAMP-MAP=${map}` : ''}\n\n${cues.join('\n\n')}\n`;

describe('mergeWebVtt', () => {
  it('keeps one header and every cue once, times as written when there is no X-TIMESTAMP-MAP', () => {
    const merged = mergeWebVtt([segment(null, '1\n00:00:01.000 --> 00:00:03.000\nA'), segment(null, '00:00:01.000 --> 00:00:03.000\nA', '00:00:04.000 --> 00:00:05.000\nB')]);
    assert.equal(merged, 'WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.000\nA\n\n00:00:04.000 --> 00:00:05.000\nB\n');
  });

  it('moves cues by MPEGTS - LOCAL and counts from where the media begins', () => {
    // the media begins at 10 s; MPEGTS 900000 = 10 s at LOCAL 0: cue 2 s plays at 2 s into the file
    const merged = mergeWebVtt([segment('MPEGTS:900000,LOCAL:00:00:00.000', '00:00:02.000 --> 00:00:03.000 align:start\nA')], { streamStart: 10 });
    assert.match(merged, /^00:00:02\.000 --> 00:00:03\.000 align:start$/m);
    // a packager writing local times one minute on: LOCAL 60 s
    const shifted = mergeWebVtt([segment('LOCAL:00:01:00.000,MPEGTS:1800000', '00:01:05.000 --> 00:01:06.500\nB')], { streamStart: 10 });
    assert.match(shifted, /^00:00:15\.000 --> 00:00:16\.500$/m);
  });

  it('takes the first map as the start when the media start is unknown, drops cues that end before it, and survives the 33-bit wrap', () => {
    const merged = mergeWebVtt([segment('MPEGTS:180000,LOCAL:00:00:00.000', '00:00:00.500 --> 00:00:01.000\nA'), segment('MPEGTS:360000,LOCAL:00:00:00.000', '00:00:00.000 --> 00:00:01.000\nB')]);
    assert.deepEqual(merged.split('\n').filter((line) => line.includes('-->')), ['00:00:00.500 --> 00:00:01.000', '00:00:02.000 --> 00:00:03.000']);
    const early = mergeWebVtt([segment('MPEGTS:0,LOCAL:00:00:00.000', '00:00:01.000 --> 00:00:02.000\nGone', '00:00:04.000 --> 00:00:06.000\nKept')], { streamStart: 3 });
    assert.deepEqual(early.split('\n').filter((line) => line.includes('-->')), ['00:00:01.000 --> 00:00:03.000']);
    const wrapped = mergeWebVtt([segment('MPEGTS:900,LOCAL:00:00:00.000', '00:00:00.000 --> 00:00:01.000\nW')], { streamStart: (2 ** 33 - 900) / 90_000 });
    assert.match(wrapped, /^00:00:00\.020 --> 00:00:01\.020$/m);
  });

  it('reads maps and timestamps', () => {
    assert.deepEqual(timestampMap('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:01.500\n\n00:00:01.000 --> 00:00:02.000\nx'), { mpegts: 126000, local: 1.5 });
    assert.equal(timestampMap('WEBVTT\n\nX-TIMESTAMP-MAP=MPEGTS:1,LOCAL:00:00.000\n'), null, 'only the header counts');
    assert.equal(parseTimestamp('01:02.5'), 62.5);
    assert.equal(parseTimestamp('1:00:00.000'), 3600);
    assert.equal(parseTimestamp('x'), null);
    assert.equal(formatTimestamp(3725.0456), '01:02:05.046');
  });
});
