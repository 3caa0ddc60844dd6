import { PermanentError } from '../../../engine/http-error.js';
import type { ByteRange } from './mpd-manifest.js';

/** One entry of a Segment Index box: a media subsegment (type 0) or another sidx (type 1). */
export interface SidxReference {
  referenceType: 0 | 1;
  size: number;
  duration: number;
}

/** An ISO BMFF `sidx` box (ISO/IEC 14496-12 8.16.3), with where it lies in the buffer it was read from. */
export interface SidxBox {
  version: number;
  timescale: number;
  earliestPresentationTime: number;
  /** Bytes from the first byte after this box to the first referenced byte. */
  firstOffset: number;
  references: SidxReference[];
  /** Offsets of the box in the buffer: [start, end) */
  boxStart: number;
  boxEnd: number;
}

/** Reads a byte range of the indexed file; the caller adds headers, retries and the abort signal. */
export type RangeReader = (range: ByteRange) => Promise<Buffer>;

const MAX_DEPTH = 4;

/** Walks the top-level boxes of `buffer` and parses the first sidx; null when there is none. */
export function findSidx(buffer: Buffer): SidxBox | null {
  for (let offset = 0; offset + 8 <= buffer.length; ) {
    let size = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    let header = 8;
    if (size === 1) {
      if (offset + 16 > buffer.length) return null;
      size = Number(buffer.readBigUInt64BE(offset + 8));
      header = 16;
    } else if (size === 0) {
      size = buffer.length - offset;
    }
    if (size < header) return null;
    if (type === 'sidx') return parseSidx(buffer, offset, header, size);
    offset += size;
  }
  return null;
}

function parseSidx(buffer: Buffer, boxStart: number, header: number, size: number): SidxBox {
  const boxEnd = boxStart + size;
  if (boxEnd > buffer.length) throw new PermanentError('the DASH index (sidx box) is cut short: the indexRange of the manifest is too small');
  let position = boxStart + header;
  const version = buffer.readUInt8(position);
  position += 4 + 4; // version + flags, reference_ID
  const timescale = buffer.readUInt32BE(position);
  position += 4;
  let earliestPresentationTime: number;
  let firstOffset: number;
  if (version === 0) {
    earliestPresentationTime = buffer.readUInt32BE(position);
    firstOffset = buffer.readUInt32BE(position + 4);
    position += 8;
  } else {
    earliestPresentationTime = Number(buffer.readBigUInt64BE(position));
    firstOffset = Number(buffer.readBigUInt64BE(position + 8));
    position += 16;
  }
  position += 2; // reserved
  const count = buffer.readUInt16BE(position);
  position += 2;
  if (position + count * 12 > boxEnd) throw new PermanentError('the DASH index (sidx box) lists more references than it holds');
  const references: SidxReference[] = [];
  for (let index = 0; index < count; index++, position += 12) {
    const word = buffer.readUInt32BE(position);
    references.push({ referenceType: (word >>> 31) as 0 | 1, size: word & 0x7fffffff, duration: buffer.readUInt32BE(position + 4) });
  }
  return { version, timescale, earliestPresentationTime, firstOffset, references, boxStart, boxEnd };
}

/** The byte ranges a sidx points at; `anchor` is the file offset of the first byte after the box. */
export function referencedRanges(box: SidxBox, anchor: number): Array<{ referenceType: 0 | 1; range: ByteRange }> {
  let start = anchor + box.firstOffset;
  return box.references.map((reference) => {
    const range = { start, end: start + reference.size - 1 };
    start += reference.size;
    return { referenceType: reference.referenceType, range };
  });
}

/** One media subsegment a sidx lists: its bytes and how long it plays. */
export interface SidxSegment {
  range: ByteRange;
  /** Seconds (the reference's duration over the box's timescale). */
  duration: number;
}

/**
 * The media segments of a SegmentBase representation, in order: reads the sidx at `indexRange`
 * and follows references to nested sidx boxes (hierarchical indexes).
 */
export async function loadSidxSegments(read: RangeReader, indexRange: ByteRange, depth = 0): Promise<SidxSegment[]> {
  const buffer = await read(indexRange);
  const box = findSidx(buffer);
  if (!box) throw new PermanentError(`no segment index (sidx box) at bytes ${indexRange.start}-${indexRange.end} of the media file`);
  const segments: SidxSegment[] = [];
  const references = referencedRanges(box, indexRange.start + box.boxEnd);
  for (const [position, reference] of references.entries()) {
    if (reference.referenceType === 0) segments.push({ range: reference.range, duration: box.timescale > 0 ? box.references[position].duration / box.timescale : 0 });
    else if (depth >= MAX_DEPTH) throw new PermanentError('the DASH segment index nests deeper than supported');
    else segments.push(...(await loadSidxSegments(read, reference.range, depth + 1)));
  }
  if (segments.length === 0) throw new PermanentError('the DASH segment index (sidx box) lists no media');
  return segments;
}
