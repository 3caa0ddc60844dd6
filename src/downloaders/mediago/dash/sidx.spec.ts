import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ByteRange } from './mpd-manifest.js';
import { findSidx, loadSidxSegments, referencedRanges } from './sidx.js';

interface Reference {
  type?: 0 | 1;
  size: number;
  duration?: number;
}

/** A sidx box as a packager writes it (version 0: 32-bit times, version 1: 64-bit). */
function aSidx(references: Reference[], options: { version?: 0 | 1; firstOffset?: number; timescale?: number } = {}): Buffer {
  const version = options.version ?? 0;
  const timeBytes = version === 0 ? 8 : 16;
  const size = 8 + 4 + 4 + 4 + timeBytes + 4 + references.length * 12;
  const box = Buffer.alloc(size);
  let at = box.writeUInt32BE(size, 0);
  at += box.write('sidx', at, 'latin1');
  at = box.writeUInt8(version, at) + 3;
  at = box.writeUInt32BE(1, at);
  at = box.writeUInt32BE(options.timescale ?? 1000, at);
  if (version === 0) {
    at = box.writeUInt32BE(0, at);
    at = box.writeUInt32BE(options.firstOffset ?? 0, at);
  } else {
    at = box.writeBigUInt64BE(5_000_000_000n, at);
    at = box.writeBigUInt64BE(BigInt(options.firstOffset ?? 0), at);
  }
  at = box.writeUInt16BE(0, at);
  at = box.writeUInt16BE(references.length, at);
  for (const reference of references) {
    at = box.writeUInt32BE((((reference.type ?? 0) << 31) | reference.size) >>> 0, at);
    at = box.writeUInt32BE(reference.duration ?? 1000, at);
    at = box.writeUInt32BE(0x90000000, at);
  }
  return box;
}

const aBox = (type: string, size: number) => {
  const box = Buffer.alloc(size);
  box.writeUInt32BE(size, 0);
  box.write(type, 4, 'latin1');
  return box;
};

describe('findSidx', () => {
  it('parses a version 0 box', () => {
    const box = findSidx(aSidx([{ size: 1000, duration: 2000 }, { size: 1500 }], { timescale: 90000, firstOffset: 16 }))!;
    assert.equal(box.version, 0);
    assert.equal(box.timescale, 90000);
    assert.equal(box.firstOffset, 16);
    assert.deepEqual(box.references, [{ referenceType: 0, size: 1000, duration: 2000 }, { referenceType: 0, size: 1500, duration: 1000 }]);
  });

  it('parses a version 1 box with 64-bit times', () => {
    const box = findSidx(aSidx([{ size: 7 }], { version: 1, firstOffset: 3 }))!;
    assert.equal(box.earliestPresentationTime, 5_000_000_000);
    assert.equal(box.firstOffset, 3);
  });

  it('skips the boxes in front of it and reports where it ends', () => {
    const sidx = aSidx([{ size: 10 }]);
    const box = findSidx(Buffer.concat([aBox('styp', 24), sidx, aBox('moof', 16)]))!;
    assert.equal(box.boxStart, 24);
    assert.equal(box.boxEnd, 24 + sidx.length);
  });

  it('returns null when there is none, and refuses a box cut short', () => {
    assert.equal(findSidx(Buffer.concat([aBox('ftyp', 16), aBox('moov', 32)])), null);
    assert.throws(() => findSidx(aSidx([{ size: 10 }, { size: 10 }]).subarray(0, 40)), /cut short/);
  });
});

describe('referencedRanges', () => {
  it('lays the references end to end from the first byte after the box plus first_offset', () => {
    const box = findSidx(aSidx([{ size: 100 }, { size: 50, type: 1 }], { firstOffset: 10 }))!;
    assert.deepEqual(referencedRanges(box, 1000), [
      { referenceType: 0, range: { start: 1010, end: 1109 } },
      { referenceType: 1, range: { start: 1110, end: 1159 } },
    ]);
  });
});

describe('loadSidxSegments', () => {
  it('lists the media ranges of a flat index', async () => {
    const sidx = aSidx([{ size: 300 }, { size: 200 }]);
    const file = Buffer.concat([aBox('ftyp', 20), aBox('moov', 80), sidx]);
    const read = async (range: ByteRange) => file.subarray(range.start, range.end + 1);
    const segments = await loadSidxSegments(read, { start: 100, end: 100 + sidx.length - 1 });
    const media = 100 + sidx.length;
    assert.deepEqual(segments.map((segment) => segment.range), [{ start: media, end: media + 299 }, { start: media + 300, end: media + 499 }]);
  });

  it('gives each segment its duration in seconds, from the timescale', async () => {
    const sidx = aSidx([{ size: 300, duration: 2000 }, { size: 200, duration: 1500 }], { timescale: 1000 });
    const segments = await loadSidxSegments(async (range: ByteRange) => sidx.subarray(range.start, range.end + 1), { start: 0, end: sidx.length - 1 });
    assert.deepEqual(segments.map((segment) => segment.duration), [2, 1.5]);
  });

  it('follows references to nested sidx boxes, in order', async () => {
    const childA = aSidx([{ size: 40 }, { size: 60 }]);
    const childB = aSidx([{ size: 70 }]);
    const top = aSidx([{ size: childA.length + 100, type: 1 }, { size: childB.length + 70, type: 1 }]);
    // layout: top | childA | 100 bytes of media | childB | 70 bytes of media
    const file = Buffer.concat([top, childA, Buffer.alloc(100), childB, Buffer.alloc(70)]);
    const reads: ByteRange[] = [];
    const read = async (range: ByteRange) => {
      reads.push(range);
      return file.subarray(range.start, range.end + 1);
    };
    const segments = await loadSidxSegments(read, { start: 0, end: top.length - 1 });
    const a = top.length + childA.length;
    const b = a + 100 + childB.length;
    assert.deepEqual(segments.map((segment) => segment.range), [{ start: a, end: a + 39 }, { start: a + 40, end: a + 99 }, { start: b, end: b + 69 }]);
    assert.equal(reads.length, 3);
  });

  it('fails clearly when the index range holds no sidx', async () => {
    await assert.rejects(loadSidxSegments(async () => aBox('moov', 16), { start: 0, end: 15 }), /no segment index \(sidx box\) at bytes 0-15/);
  });
});
