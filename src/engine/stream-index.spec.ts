import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type StreamTrackIndex, availableSegmentCount, readStreamIndex, renderMasterPlaylist, renderMediaPlaylist, segmentExtension, trackIndex, workspaceFile, writeStreamIndex } from './stream-index.js';

const root = mkdtempSync(join(tmpdir(), 'stream-index-'));
after(() => rmSync(root, { recursive: true, force: true }));

const uris = { segment: (position: number) => `s/${position}.ts`, init: (index: number) => `s/init-${index}.mp4` };

function aTrack(overrides: Partial<StreamTrackIndex> = {}): StreamTrackIndex {
  return {
    kind: 'video',
    inits: [],
    segments: [
      { file: 'segments/video/0.ts', duration: 2.002, init: null, discontinuity: false },
      { file: 'segments/video/1.ts', duration: 4.5, init: null, discontinuity: false },
      { file: 'segments/video/2.ts', duration: 1, init: null, discontinuity: true },
    ],
    ...overrides,
  };
}

describe('renderMediaPlaylist', () => {
  it('lists the first segments with their durations as an EVENT playlist, without an end while it grows', () => {
    const text = renderMediaPlaylist(aTrack(), 2, false, uris);
    assert.equal(text, '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:5\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.002,\ns/0.ts\n#EXTINF:4.5,\ns/1.ts\n');
  });

  it('marks discontinuities and the end', () => {
    const text = renderMediaPlaylist(aTrack(), 3, true, uris);
    assert.match(text, /s\/1\.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:1,\ns\/2\.ts\n#EXT-X-ENDLIST\n$/);
  });

  it('puts an EXT-X-MAP before the first segment of each init section', () => {
    const track = aTrack({
      inits: ['a.mp4', 'b.mp4'],
      segments: [
        { file: '0.m4s', duration: 1, init: 0, discontinuity: false },
        { file: '1.m4s', duration: 1, init: 0, discontinuity: false },
        { file: '2.m4s', duration: 1, init: 1, discontinuity: true },
      ],
    });
    const maps = renderMediaPlaylist(track, 3, true, uris).split('\n').filter((line) => line.startsWith('#EXT-X-MAP'));
    assert.deepEqual(maps, ['#EXT-X-MAP:URI="s/init-0.mp4"', '#EXT-X-MAP:URI="s/init-1.mp4"']);
  });
});

describe('renderMasterPlaylist', () => {
  it('joins a video track with its alternate audio, adding bandwidths and codecs', () => {
    const text = renderMasterPlaylist(aTrack({ bandwidth: 300_000, codecs: 'avc1.42c00d' }), aTrack({ kind: 'audio', bandwidth: 64_000, codecs: 'mp4a.40.2' }), 'v.m3u8', 'a.m3u8');
    assert.match(text, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",.*URI="a\.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=364000,CODECS="avc1\.42c00d,mp4a\.40\.2",AUDIO="audio"\nv\.m3u8\n$/);
  });
});

describe('trackIndex and segmentExtension', () => {
  it('keeps paths relative to the workspace and numbers distinct init sections', () => {
    const track = trackIndex('/w', 'video', [
      { file: '/w/segments/video/0.m4s', init: '/w/segments/video/init-a.mp4', duration: 1, discontinuity: false },
      { file: '/w/segments/video/1.seg', init: '/w/segments/video/init-a.mp4', duration: 1, discontinuity: false },
      { file: '/w/segments/video/2.seg', init: null, duration: 1, discontinuity: true },
    ]);
    assert.deepEqual(track.inits, ['segments/video/init-a.mp4']);
    assert.deepEqual(track.segments.map((segment) => [segment.file, segment.init]), [['segments/video/0.m4s', 0], ['segments/video/1.seg', 0], ['segments/video/2.seg', null]]);
    assert.deepEqual([0, 1, 2].map((position) => segmentExtension(track, position)), ['m4s', 'm4s', 'ts']);
  });
});

describe('workspaceFile', () => {
  it('refuses names that would leave the workspace', () => {
    assert.equal(workspaceFile('/w', 'segments/video/0.ts'), '/w/segments/video/0.ts');
    for (const name of ['', '../x', 'a/../../x', '/etc/passwd', 'a\0b', '.']) assert.equal(workspaceFile('/w', name), null, JSON.stringify(name));
  });
});

describe('availableSegmentCount', () => {
  it('counts segments on disk from the first, stopping at the first gap or a missing init section', async () => {
    const workDir = join(root, 'count');
    mkdirSync(join(workDir, 'segments'), { recursive: true });
    const track = trackIndex(workDir, 'video', [0, 1, 2, 3].map((n) => ({ file: join(workDir, 'segments', `${n}.m4s`), init: join(workDir, 'segments', n < 3 ? 'init.mp4' : 'init2.mp4'), duration: 1, discontinuity: false })));
    for (const n of [0, 1, 3]) writeFileSync(join(workDir, 'segments', `${n}.m4s`), 'x');
    assert.equal(await availableSegmentCount(workDir, track), 0, 'nothing plays without its init section');
    writeFileSync(join(workDir, 'segments', 'init.mp4'), 'i');
    assert.equal(await availableSegmentCount(workDir, track), 2, 'segment 2 is missing: 3 waits behind it');
    writeFileSync(join(workDir, 'segments', '2.m4s'), 'x');
    assert.equal(await availableSegmentCount(workDir, track), 3, 'segment 3 waits for its own init section');
  });

  it('reads back what was written, and nothing from a foreign file', async () => {
    const workDir = join(root, 'roundtrip');
    mkdirSync(workDir);
    assert.equal(await readStreamIndex(workDir), null);
    await writeStreamIndex(workDir, { version: 1, live: false, tracks: [aTrack()] });
    assert.deepEqual((await readStreamIndex(workDir))?.tracks[0].segments.length, 3);
    writeFileSync(join(workDir, 'stream-index.json'), '{"version":2}');
    assert.equal(await readStreamIndex(workDir), null);
  });
});
