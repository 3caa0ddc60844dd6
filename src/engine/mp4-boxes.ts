/** The child boxes of an ISO BMFF (MP4) box body, or of a whole file (start 0, end its length): type, body start, end. A box that runs past `end` ends the walk. */
export function* boxes(data: Buffer, start: number, end: number): Generator<{ type: string; body: number; end: number }> {
  for (let offset = start; offset + 8 <= end; ) {
    let size = data.readUInt32BE(offset);
    let header = 8;
    if (size === 1 && offset + 16 <= end) {
      size = Number(data.readBigUInt64BE(offset + 8));
      header = 16;
    } else if (size === 0) size = end - offset;
    if (size < header || offset + size > end) return;
    yield { type: data.toString('latin1', offset + 4, offset + 8), body: offset + header, end: offset + size };
    offset += size;
  }
}
