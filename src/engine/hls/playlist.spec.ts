import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MediaPlaylistInfo, countPlaylistUris, parsePlaylist, resolveByteRanges, resolveUri, titleFromUrl } from './playlist.js';

const BASE = 'https://cdn.example/path/to/index.m3u8?token=abc';

function media(text: string, url = BASE): MediaPlaylistInfo {
  const playlist = parsePlaylist(text, url);
  assert.equal(playlist.kind, 'media');
  return playlist as MediaPlaylistInfo;
}

describe('resolveUri', () => {
  it('resolves relative, root-relative and absolute URIs against the final playlist URL', () => {
    assert.equal(resolveUri('seg1.ts', BASE), 'https://cdn.example/path/to/seg1.ts');
    assert.equal(resolveUri('../hd/seg1.ts', BASE), 'https://cdn.example/path/hd/seg1.ts');
    assert.equal(resolveUri('/abs/seg1.ts', BASE), 'https://cdn.example/abs/seg1.ts');
    assert.equal(resolveUri('https://other.example/s.ts', BASE), 'https://other.example/s.ts');
    assert.equal(resolveUri('//edge.example/s.ts', BASE), 'https://edge.example/s.ts');
  });

  it('keeps the query string of a segment URI', () => {
    assert.equal(resolveUri('seg1.ts?sig=x%2By&exp=1', BASE), 'https://cdn.example/path/to/seg1.ts?sig=x%2By&exp=1');
  });
});

describe('resolveByteRanges', () => {
  it('continues from the previous range of the same resource when the offset is missing', () => {
    const ranges = resolveByteRanges([
      { uri: 'a.ts', byterange: { length: 100, offset: 0 } },
      { uri: 'a.ts', byterange: { length: 50, offset: -1 } },
      { uri: 'a.ts', byterange: { length: 70 } },
      { uri: 'b.ts', byterange: { length: 10, offset: -1 } },
      { uri: 'a.ts', byterange: { length: 5, offset: 1000 } },
      { uri: 'c.ts', byterange: null },
    ]);
    assert.deepEqual(ranges, [
      { offset: 0, length: 100 },
      { offset: 100, length: 50 },
      { offset: 150, length: 70 },
      { offset: 0, length: 10 },
      { offset: 1000, length: 5 },
      null,
    ]);
  });
});

describe('parsePlaylist', () => {
  it('numbers segments from EXT-X-MEDIA-SEQUENCE and resolves their URIs', () => {
    const playlist = media('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:42\n#EXTINF:4,\na.ts\n#EXTINF:3.5,\nhttps://x.example/b.ts?t=1\n#EXT-X-ENDLIST\n');
    assert.equal(playlist.endList, true);
    assert.equal(playlist.targetDuration, 4);
    assert.deepEqual(playlist.segments.map((segment) => [segment.position, segment.sequence, segment.url, segment.duration]), [
      [0, 42, 'https://cdn.example/path/to/a.ts', 4],
      [1, 43, 'https://x.example/b.ts?t=1', 3.5],
    ]);
  });

  it('reads byte ranges with and without offsets and an EXT-X-MAP with a range', () => {
    const playlist = media('#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI="all.mp4",BYTERANGE="720@0"\n#EXTINF:1,\n#EXT-X-BYTERANGE:1000@720\nall.mp4\n#EXTINF:1,\n#EXT-X-BYTERANGE:900\nall.mp4\n#EXT-X-ENDLIST\n');
    assert.deepEqual(playlist.segments.map((segment) => segment.range), [{ offset: 720, length: 1000 }, { offset: 1720, length: 900 }]);
    assert.deepEqual(playlist.segments[1].init, { url: 'https://cdn.example/path/to/all.mp4', range: { offset: 0, length: 720 }, key: null, sequence: playlist.segments[1].sequence });
  });

  it('carries keys with explicit IVs, rotation, and METHOD=NONE as no key', () => {
    const playlist = media(
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=AES-128,URI="k1",IV=0x000102030405060708090a0b0c0d0e0f\n#EXTINF:1,\na.ts\n' +
        '#EXT-X-KEY:METHOD=AES-128,URI="k2"\n#EXTINF:1,\nb.ts\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:1,\nc.ts\n#EXT-X-ENDLIST\n',
    );
    const [a, b, c] = playlist.segments;
    assert.equal(a.key?.url, 'https://cdn.example/path/to/k1');
    assert.equal(a.key?.iv?.toString('hex'), '000102030405060708090a0b0c0d0e0f');
    assert.equal(b.key?.url, 'https://cdn.example/path/to/k2');
    assert.equal(b.key?.iv, null);
    assert.equal(c.key, null);
  });

  it('marks discontinuities and a missing ENDLIST', () => {
    const playlist = media('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n');
    assert.equal(playlist.endList, false);
    assert.deepEqual(playlist.segments.map((segment) => [segment.discontinuity, segment.discontinuitySequence]), [[false, 0], [true, 1]]);
  });

  it('reads a master playlist with its rendition groups, skipping I-frame variants', () => {
    const playlist = parsePlaylist(
      '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",DEFAULT=YES,URI="audio/en.m3u8"\n' +
        '#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=640x360,AUDIO="a"\nv1/index.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=99999,URI="iframes.m3u8"\n',
      BASE,
    );
    assert.equal(playlist.kind, 'master');
    if (playlist.kind !== 'master') return;
    assert.equal(playlist.variants.length, 1);
    assert.equal(playlist.variants[0].url, 'https://cdn.example/path/to/v1/index.m3u8');
    assert.equal(playlist.variants[0].audio[0].url, 'https://cdn.example/path/to/audio/en.m3u8');
  });

  it('counts EXT-X-GAP segments in the sequence numbers, skips them, and marks the next one a discontinuity', () => {
    const playlist = media(['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:100', '#EXTINF:2,', 's100.ts', '#EXT-X-GAP', '#EXTINF:2,', 's101.ts', '#EXTINF:2,', 's102.ts', '#EXT-X-ENDLIST'].join('\n'));
    assert.deepEqual(playlist.segments.map((segment) => [segment.sequence, segment.url.split('/').pop(), segment.discontinuity]), [
      [100, 's100.ts', false],
      [102, 's102.ts', true],
    ]);
  });

  it('refuses a document that is not a playlist', () => {
    assert.throws(() => parsePlaylist('<html>Forbidden</html>', BASE), /https:\/\/cdn\.example\/path\/to\/index\.m3u8 is not an HLS playlist/);
  });
});

describe('titleFromUrl', () => {
  it('uses the file name, or the folder when the file is a generic index', () => {
    assert.equal(titleFromUrl('https://x.example/shows/My%20Show.m3u8?t=1'), 'My Show');
    assert.equal(titleFromUrl('https://x.example/shows/episode-4/index.m3u8'), 'episode-4');
    assert.equal(titleFromUrl('https://x.example/master.m3u8'), undefined);
  });
});

describe('playlist size limit', () => {
  it('counts URI lines without parsing, ignoring tags, blanks and CRLF', () => {
    assert.equal(countPlaylistUris('#EXTM3U\r\n#EXTINF:4,\r\na.ts\r\n\r\n  \r\n#EXTINF:4,\r\nb.ts\r\n#EXT-X-ENDLIST\r\n'), 2);
  });

  it('refuses a playlist of more than 30,000 segments, saying the number', () => {
    const text = `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${'#EXTINF:1,\ns.ts\n'.repeat(30_001)}#EXT-X-ENDLIST\n`;
    assert.throws(() => parsePlaylist(text, 'https://cdn.example/big.m3u8'), /the HLS playlist https:\/\/cdn\.example\/big\.m3u8 lists 30,001 segments; at most 30,000 are accepted/);
  });
});

describe('encrypted init sections', () => {
  it('gives an EXT-X-MAP the key declared before it, and leaves a map declared before any key clear', () => {
    const encrypted = media(
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-KEY:METHOD=AES-128,URI="k.bin",IV=0x000102030405060708090a0b0c0d0e0f\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:1,\nf0.m4s\n#EXTINF:1,\nf1.m4s\n#EXT-X-ENDLIST\n',
    );
    const init = encrypted.segments[1].init!;
    assert.equal(init.key?.method, 'AES-128');
    assert.equal(init.key?.url, 'https://cdn.example/path/to/k.bin');
    assert.equal(init.key?.iv?.toString('hex'), '000102030405060708090a0b0c0d0e0f');
    assert.equal(init.sequence, 8);

    const clearInit = media('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI="init.mp4"\n#EXT-X-KEY:METHOD=AES-128,URI="k.bin"\n#EXTINF:1,\nf0.m4s\n#EXT-X-ENDLIST\n');
    assert.equal(clearInit.segments[0].init!.key, null);
    assert.equal(clearInit.segments[0].key?.method, 'AES-128', 'the key still applies to the segment');
  });

  it('follows a key change between two maps', () => {
    const playlist = media(
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=AES-128,URI="a.bin"\n#EXT-X-MAP:URI="i0.mp4"\n#EXTINF:1,\nf0.m4s\n#EXT-X-KEY:METHOD=NONE\n#EXT-X-MAP:URI="i1.mp4"\n#EXTINF:1,\nf1.m4s\n#EXT-X-ENDLIST\n',
    );
    assert.equal(playlist.segments[0].init!.key?.url, 'https://cdn.example/path/to/a.bin');
    assert.equal(playlist.segments[1].init!.url, 'https://cdn.example/path/to/i1.mp4');
    assert.equal(playlist.segments[1].init!.key, null);
  });
});
