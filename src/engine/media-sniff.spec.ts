import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { HLS_SEGMENT, MP4_PIECE, NotMediaError, assertMedia, checkedInput, describeHead, mediaCheckStage, sniffContainer } from './media-sniff.js';

const tsPackets = (count: number) => Buffer.concat(Array.from({ length: count }, () => Buffer.concat([Buffer.from([0x47, 0x40, 0x00, 0x10]), Buffer.alloc(184, 0xff)])));
const box = (type: string) => Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from(type, 'latin1'), Buffer.alloc(8)]);

describe('sniffContainer', () => {
  it('knows the media containers by their first bytes', () => {
    assert.equal(sniffContainer(tsPackets(2)), 'mpegts');
    assert.equal(sniffContainer(box('ftyp')), 'mp4');
    assert.equal(sniffContainer(box('moof')), 'mp4');
    assert.equal(sniffContainer(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x01])), 'matroska');
    assert.equal(sniffContainer(Buffer.from([0xff, 0xf1, 0x50, 0x80])), 'aac');
    assert.equal(sniffContainer(Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x3f', 'latin1')), 'id3');
    assert.equal(sniffContainer(Buffer.from([0x0b, 0x77, 0, 0, 0, 8 << 3])), 'ac3');
    assert.equal(sniffContainer(Buffer.from('FLV\x01', 'latin1')), 'flv');
    assert.equal(sniffContainer(Buffer.from('\uFEFFWEBVTT\n\n')), 'webvtt');
  });

  it('knows no playlist, page or stray 0x47 as media', () => {
    assert.equal(sniffContainer(Buffer.from('#EXTM3U\n#EXTINF:1,\nfile:///etc/secret.ts\n')), null);
    assert.equal(sniffContainer(Buffer.from('<html><body>busy</body></html>')), null);
    assert.equal(sniffContainer(Buffer.concat([Buffer.from('G'), Buffer.alloc(300, 0x20)])), null);
  });
});

describe('assertMedia', () => {
  it('names the piece, what it should be and how it starts', () => {
    assert.throws(() => assertMedia(Buffer.from('#EXTM3U\n#EXTINF:1,\nlocal.ts\n'), HLS_SEGMENT, 'segment 17 of http://cdn.example/a.m3u8'), (error: Error) => {
      assert.ok(error instanceof NotMediaError);
      assert.equal(error.message, "segment 17 of http://cdn.example/a.m3u8 is not MPEG-TS: it starts with '#EXTM3U'");
      return true;
    });
    assert.throws(() => assertMedia(tsPackets(2), MP4_PIECE.accepts.has('mpegts') ? { ...MP4_PIECE, accepts: new Set(['mp4']) } : MP4_PIECE, 'init'), /init is not MP4/);
    assert.equal(describeHead(Buffer.from([0, 1, 2, 0xff])), 'the bytes 00 01 02 ff');
  });

  it('checks a stream before any byte reaches the file, whatever the chunking', async () => {
    const chunks = [Buffer.from('#EXT'), Buffer.from('M3U\n'), Buffer.alloc(400, 0x41)];
    const out: Buffer[] = [];
    await assert.rejects(pipeline(Readable.from(chunks), mediaCheckStage(HLS_SEGMENT, 'segment 1'), async (source) => { for await (const chunk of source) out.push(chunk); }), /segment 1 is not MPEG-TS: it starts with '#EXTM3U'/);
    assert.equal(out.length, 0);
    const good = tsPackets(3);
    await pipeline(Readable.from([good.subarray(0, 7), good.subarray(7)]), mediaCheckStage(HLS_SEGMENT, 'segment 2'), async (source) => { for await (const chunk of source) out.push(chunk); });
    assert.deepEqual(Buffer.concat(out), good);
  });
});

describe('checkedInput', () => {
  const dir = mkdtempSync(join(tmpdir(), 'media-sniff-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the format for ffmpeg and allows only local files', async () => {
    const file = join(dir, 'v.m4s');
    writeFileSync(file, box('ftyp'));
    assert.deepEqual(await checkedInput(file, MP4_PIECE, 'the video stream'), ['-protocol_whitelist', 'file', '-f', 'mov', '-i', file]);
    writeFileSync(file, '#EXTM3U\n');
    await assert.rejects(checkedInput(file, MP4_PIECE, 'the video stream'), /the video stream is not MP4: it starts with '#EXTM3U'/);
  });
});
