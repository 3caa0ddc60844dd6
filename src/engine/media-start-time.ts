import { open } from 'node:fs/promises';
import { boxes } from './mp4-boxes.js';

// Where a stream's timeline begins, read from its first segment: WebVTT cues with an X-TIMESTAMP-MAP are
// placed on the media's own 90 kHz clock, and a saved subtitle file must count from the start of the saved file.

const TS_PACKET = 188;
/** The first PES header with a PTS sits within the first few packets; 64 KiB is plenty and cheap to read. */
const HEAD_BYTES = 64 * 1024;

/** The earliest presentation timestamp (90 kHz ticks) of the PES packets that begin in an MPEG-TS buffer, or null when there is none. */
export function mpegTsFirstPts(data: Buffer): number | null {
  let first: number | null = null;
  for (let offset = 0; offset + TS_PACKET <= data.length; offset += TS_PACKET) {
    if (data[offset] !== 0x47) return first;
    const payloadStart = (data[offset + 1] & 0x40) !== 0;
    const adaptation = (data[offset + 3] >> 4) & 0x3;
    if (!payloadStart || adaptation === 0 || adaptation === 2) continue;
    let payload = offset + 4;
    if (adaptation === 3) payload += 1 + data[offset + 4];
    // a PES packet: 00 00 01, stream id; PTS flag in the flags byte; the PAT/PMT and other tables are skipped
    if (payload + 14 > offset + TS_PACKET || data[payload] !== 0 || data[payload + 1] !== 0 || data[payload + 2] !== 1) continue;
    if ((data[payload + 7] & 0x80) === 0) continue;
    const p = payload + 9;
    const pts = (data[p] & 0x0e) * 2 ** 29 + data[p + 1] * 2 ** 22 + (data[p + 2] & 0xfe) * 2 ** 14 + data[p + 3] * 2 ** 7 + (data[p + 4] >> 1);
    // the earliest over every stream in the head: audio may start a little before video
    if (first === null || pts < first) first = pts;
  }
  return first;
}

function child(data: Buffer, start: number, end: number, path: string[]): { body: number; end: number } | null {
  let scope = { body: start, end };
  for (const type of path) {
    const found = [...boxes(data, scope.body, scope.end)].find((box) => box.type === type);
    if (!found) return null;
    scope = found;
  }
  return scope;
}

/** Seconds at which the first fragment of a fragmented MP4 begins: its tfdt over the timescale of the init section's first track. */
export function fragmentedMp4StartSeconds(init: Buffer, fragment: Buffer): number | null {
  const mdhd = child(init, 0, init.length, ['moov', 'trak', 'mdia', 'mdhd']);
  const tfdt = child(fragment, 0, fragment.length, ['moof', 'traf', 'tfdt']);
  if (!mdhd || !tfdt) return null;
  const timescale = init[mdhd.body] === 1 ? init.readUInt32BE(mdhd.body + 20) : init.readUInt32BE(mdhd.body + 12);
  const decodeTime = fragment[tfdt.body] === 1 ? Number(fragment.readBigUInt64BE(tfdt.body + 4)) : fragment.readUInt32BE(tfdt.body + 4);
  return timescale > 0 ? decodeTime / timescale : null;
}

/** Where a segment's media begins, in seconds, read from its first bytes (and its init section for fMP4); null when unknown. */
export async function segmentStartSeconds(file: string, init: string | null): Promise<number | null> {
  try {
    const head = await readHead(file);
    if (init) return fragmentedMp4StartSeconds(await readHead(init), head);
    const pts = mpegTsFirstPts(head);
    return pts === null ? null : pts / 90_000;
  } catch {
    return null;
  }
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
