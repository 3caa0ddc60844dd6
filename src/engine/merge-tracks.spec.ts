import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildMuxArgs, concatList, groupByDiscontinuity, groupFileSequence, mergeTracks } from './merge-tracks.js';
import { mergeWebVtt } from './webvtt.js';

describe('groupByDiscontinuity', () => {
  it('splits at discontinuities and ignores one on the first segment', () => {
    const segments = [true, false, true, false, false].map((discontinuity, index) => ({ discontinuity, index }));
    assert.deepEqual(groupByDiscontinuity(segments).map((group) => group.map((segment) => segment.index)), [[0, 1], [2, 3, 4]]);
  });
});

describe('groupFileSequence', () => {
  it('puts each fMP4 init section before the fragments it applies to', () => {
    const files = groupFileSequence([
      { file: 'f0', init: 'i1', discontinuity: false },
      { file: 'f1', init: 'i1', discontinuity: false },
      { file: 'f2', init: 'i2', discontinuity: false },
    ]);
    assert.deepEqual(files, ['i1', 'f0', 'f1', 'i2', 'f2']);
  });
});

describe('concatList', () => {
  it('quotes paths for the concat demuxer', () => {
    assert.equal(concatList(['/w/a.ts', "/w/it's.ts"]), "ffconcat version 1.0\nfile '/w/a.ts'\nfile '/w/it'\\''s.ts'\n");
  });
});

describe('buildMuxArgs', () => {
  it('maps the alternate audio and the subtitles, copying every stream but the text', () => {
    const args = buildMuxArgs({ path: 'v.ffconcat', concat: true }, { path: 'a.ts', concat: false }, 's.vtt', 'out.mp4').join(' ');
    assert.match(args, /-f concat -safe 0 -i v\.ffconcat/);
    assert.match(args, /-map 0:v\? -map 1:a:0 -map 2:s:0 -c:v copy -c:a copy -c:s mov_text/);
    assert.ok(args.endsWith('-f mp4 out.mp4'));
  });

  it('keeps the sound alone for quality "audio": no video mapped, the audio of the second input or the first', () => {
    const separate = buildMuxArgs({ path: 'v.ts', concat: false, format: 'mpegts' }, { path: 'a.ts', concat: false, format: 'mpegts' }, null, 'o.m4a', true).join(' ');
    assert.match(separate, /-vn -map 1:a:0 /);
    assert.ok(!separate.includes('0:v'));
    assert.match(buildMuxArgs({ path: 'a.ts', concat: false, format: 'mpegts' }, null, null, 'o.m4a', true).join(' '), /-vn -map 0:a\? /);
  });

  it('names each input’s format and lets ffmpeg open local files only', () => {
    const args = buildMuxArgs({ path: 'v.ts', concat: false, format: 'mpegts' }, { path: 'a.aac', concat: false, format: 'aac' }, 's.vtt', 'o.mp4').join(' ');
    assert.match(args, /-protocol_whitelist file -f mpegts -i v\.ts/);
    assert.match(args, /-protocol_whitelist file -f aac -i a\.aac/);
    assert.match(args, /-protocol_whitelist file -f webvtt -i s\.vtt/);
  });

  it('refuses to hand ffmpeg a joined track that is not media', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hls-merge-'));
    try {
      const file = join(dir, '0.ts');
      writeFileSync(file, '#EXTM3U\n#EXTINF:10,\n/etc/hostname.ts\n');
      const merging = mergeTracks({ ffmpeg: 'ffmpeg', workDir: dir, baseName: 'out', video: { kind: 'video', segments: [{ file, init: null, discontinuity: false }] }, audio: null, subtitles: null, log: () => undefined });
      await assert.rejects(merging, /the joined video track is not media: it starts with '#EXTM3U'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the variant’s own audio when there is no alternate track', () => {
    assert.match(buildMuxArgs({ path: 'v.ts', concat: false }, null, null, 'o.mp4').join(' '), /-map 0:v\? -map 0:a\?/);
  });
});

describe('mergeWebVtt', () => {
  it('keeps one header and each cue once', () => {
    const merged = mergeWebVtt([
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n1\n00:00:01.000 --> 00:00:02.000\nHello\n',
      'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n\n00:00:03.000 --> 00:00:04.000\nWorld\n',
    ]);
    assert.equal(merged, 'WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nHello\n\n00:00:03.000 --> 00:00:04.000\nWorld\n');
  });
});
