import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fragmentedMp4StartSeconds, mpegTsFirstPts } from './media-start-time.js';

/** One 188-byte TS packet starting a PES with the given PTS (90 kHz). */
function pesPacket(pid: number, pts: number): Buffer {
  const packet = Buffer.alloc(188, 0xff);
  packet[0] = 0x47;
  packet[1] = 0x40 | ((pid >> 8) & 0x1f);
  packet[2] = pid & 0xff;
  packet[3] = 0x10;
  const pes = [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5];
  pes.forEach((byte, index) => (packet[4 + index] = byte));
  const p = 13;
  packet[p] = 0x21 | (Math.floor(pts / 2 ** 30) << 1);
  packet[p + 1] = Math.floor(pts / 2 ** 22) & 0xff;
  packet[p + 2] = ((Math.floor(pts / 2 ** 15) & 0x7f) << 1) | 1;
  packet[p + 3] = Math.floor(pts / 2 ** 7) & 0xff;
  packet[p + 4] = ((pts & 0x7f) << 1) | 1;
  return packet;
}

function box(type: string, ...children: Buffer[]): Buffer {
  const body = Buffer.concat(children);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

describe('media start time', () => {
  it('reads the earliest first PTS of the streams in an MPEG-TS head', () => {
    const head = Buffer.concat([pesPacket(256, 128_000), pesPacket(257, 126_000), pesPacket(256, 131_600)]);
    assert.equal(mpegTsFirstPts(head), 126_000);
    assert.equal(mpegTsFirstPts(pesPacket(256, 2 ** 33 - 1)), 2 ** 33 - 1, 'all 33 bits');
    assert.equal(mpegTsFirstPts(Buffer.from('not a transport stream')), null);
  });

  it('reads a fragmented MP4 start from the first tfdt and the init section timescale', () => {
    const mdhd = Buffer.alloc(24);
    mdhd.writeUInt32BE(90_000, 12);
    const init = box('moov', box('trak', box('mdia', box('mdhd', mdhd))));
    const tfdt = Buffer.alloc(8);
    tfdt[0] = 0;
    tfdt.writeUInt32BE(900_000, 4);
    const fragment = box('moof', box('mfhd', Buffer.alloc(8)), box('traf', box('tfhd', Buffer.alloc(8)), box('tfdt', tfdt)));
    assert.equal(fragmentedMp4StartSeconds(init, fragment), 10);
    assert.equal(fragmentedMp4StartSeconds(init, Buffer.alloc(16)), null);
  });
});
