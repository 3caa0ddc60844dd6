import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OriginServer, drained } from '../../test/fixtures/origin-server.js';
import { HttpClient } from './http-client.js';
import { type ByteRange, type RangedState, completedPrefix, downloadRanged, downloadedBytes, splitRanges, stealLargestTail, totalFromContentRange } from './ranged-download.js';

const aRange = (start: number, end: number | null, pos = start): ByteRange => ({ start, end, pos });
const lengthOf = (range: ByteRange) => (range.end as number) - range.start + 1;

/** Asserts that the ranges tile [0, total) in order: no gap, no overlap, nothing past the end. */
function assertCovers(ranges: ByteRange[], total: number, label: string): void {
  assert.ok(ranges.length >= 1, label);
  assert.equal(ranges[0].start, 0, label);
  for (const [index, range] of ranges.entries()) {
    assert.equal(range.pos, range.start, `${label}: range ${index} starts unwritten`);
    assert.notEqual(range.end, null, label);
    assert.ok((range.end as number) >= range.start, `${label}: range ${index} is not empty`);
    if (index > 0) assert.equal(range.start, (ranges[index - 1].end as number) + 1, `${label}: range ${index} follows the previous one`);
  }
  assert.equal(ranges[ranges.length - 1].end, total - 1, `${label}: the last range ends at the last byte`);
  assert.equal(ranges.reduce((sum, range) => sum + lengthOf(range), 0), total, label);
}

const SIZES = [1, 2, 3, 7, 10, 99, 100, 101, 1_000, 1_023, 1_024, 1_025, 4_097, 65_535, 1_000_003, 16 * 1024 * 1024 + 7];
const PARTS = [1, 2, 3, 4, 5, 7, 8, 16, 33, 64];
const MIN_SPLITS = [1, 3, 100, 1_024, 256 * 1024];

describe('completedPrefix', () => {
  it('counts from byte 0 up to the first range that is not complete', () => {
    assert.equal(completedPrefix([{ start: 0, end: 99, pos: 40 }, { start: 100, end: 199, pos: 200 }]), 40);
    assert.equal(completedPrefix([{ start: 100, end: 199, pos: 150 }, { start: 0, end: 99, pos: 100 }]), 150);
    assert.equal(completedPrefix([{ start: 0, end: 99, pos: 100 }, { start: 100, end: 199, pos: 200 }]), 200);
  });

  it('follows a stolen tail, and stops at a gap', () => {
    // the donor ends where the stolen half starts; its bytes count once the donor is complete
    assert.equal(completedPrefix([{ start: 0, end: 49, pos: 50 }, { start: 100, end: 149, pos: 120 }, { start: 50, end: 99, pos: 100 }]), 120);
    assert.equal(completedPrefix([{ start: 0, end: 49, pos: 50 }, { start: 60, end: 99, pos: 100 }]), 50);
  });

  it('takes an open-ended single stream as far as it has come', () => {
    assert.equal(completedPrefix([{ start: 0, end: null, pos: 1234 }]), 1234);
    assert.equal(completedPrefix([]), 0);
  });
});

describe('splitRanges', () => {
  it('covers [0, total) exactly, with no gap and no overlap, for many sizes, part counts and minimum sizes', () => {
    for (const total of SIZES) {
      for (const parts of PARTS) {
        for (const minSplit of MIN_SPLITS) assertCovers(splitRanges(total, parts, minSplit), total, `total ${total}, parts ${parts}, minSplit ${minSplit}`);
      }
    }
  });

  it('uses up to `parts` ranges, and all of them when the file is large enough', () => {
    for (const total of SIZES) {
      for (const parts of PARTS) {
        const ranges = splitRanges(total, parts, 1);
        assert.ok(ranges.length <= parts, `total ${total}, parts ${parts}: ${ranges.length} ranges`);
      }
    }
    assert.equal(splitRanges(1_000, 4, 1).length, 4);
    assert.equal(splitRanges(16 * 1024 * 1024, 16, 256 * 1024).length, 16);
  });

  it('keeps one range for a file smaller than two minimum parts', () => {
    assert.deepEqual(splitRanges(100, 8, 1_000), [aRange(0, 99)]);
    assert.deepEqual(splitRanges(1_999, 8, 1_000), [aRange(0, 1_998)]);
    assert.deepEqual(splitRanges(5, 1, 1), [aRange(0, 4)]);
  });

  it('makes nearly equal ranges', () => {
    const ranges = splitRanges(1_000_003, 7, 1);
    const lengths = ranges.map(lengthOf);
    assert.ok(Math.max(...lengths) - Math.min(...lengths) <= ranges.length, `lengths ${lengths.join(', ')}`);
  });

  it('makes no range shorter than minSplit (when the file holds at least one)', () => {
    const failures: string[] = [];
    for (const total of SIZES) {
      for (const parts of PARTS) {
        for (const minSplit of MIN_SPLITS) {
          if (total < minSplit) continue;
          const short = splitRanges(total, parts, minSplit).filter((range) => lengthOf(range) < minSplit);
          if (short.length > 0) failures.push(`total ${total}, parts ${parts}, minSplit ${minSplit}: a range of ${lengthOf(short[0])} bytes`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('splits 10 bytes into parts of at least 3 (the smallest case of the above)', () => {
    const lengths = splitRanges(10, 3, 3).map(lengthOf);
    assert.ok(lengths.every((length) => length >= 3), `lengths ${lengths.join(', ')}`);
  });
});

describe('stealLargestTail', () => {
  it('halves the range with the most bytes left and returns the back half', () => {
    const ranges = [aRange(0, 999, 900), aRange(1_000, 1_999, 1_100), aRange(2_000, 2_999, 2_500)];
    const stolen = stealLargestTail(ranges, 100);
    assert.deepEqual(stolen, aRange(1_550, 1_999));
    assert.deepEqual(ranges[1], aRange(1_000, 1_549, 1_100));
    assert.deepEqual(ranges[0], aRange(0, 999, 900), 'other ranges are untouched');
    assert.deepEqual(ranges[2], aRange(2_000, 2_999, 2_500));
  });

  it('judges by bytes left, not by the size of the range', () => {
    const ranges = [aRange(0, 9_999, 9_000), aRange(10_000, 11_999, 10_000)];
    const stolen = stealLargestTail(ranges, 100);
    assert.deepEqual(stolen, aRange(11_000, 11_999));
    assert.equal(ranges[1].end, 10_999);
  });

  it('keeps both halves covering the remaining bytes exactly, odd counts included', () => {
    for (const remaining of [200, 201, 999, 1_001]) {
      const range = aRange(0, 9_999, 10_000 - remaining);
      const stolen = stealLargestTail([range], 100)!;
      assert.equal(stolen.start, (range.end as number) + 1);
      assert.equal(stolen.end, 9_999);
      assert.equal(range.end! + 1 - range.pos + (stolen.end! + 1 - stolen.start), remaining);
      assert.ok(range.end! + 1 - range.pos >= 100 && stolen.end! + 1 - stolen.start >= 100);
    }
  });

  it('returns null below twice minSplit, and steals at exactly twice', () => {
    assert.equal(stealLargestTail([aRange(0, 198)], 100), null, '199 bytes left');
    const range = aRange(0, 199);
    assert.deepEqual(stealLargestTail([range], 100), aRange(100, 199));
    assert.deepEqual(range, aRange(0, 99));
  });

  it('returns null for no ranges, finished ranges, and ranges of unknown end', () => {
    assert.equal(stealLargestTail([], 1), null);
    assert.equal(stealLargestTail([aRange(0, 999, 1_000)], 1), null);
    assert.equal(stealLargestTail([aRange(0, null, 0)], 1), null);
  });

  it('keeps stealing until nothing is worth splitting, always covering the file', () => {
    const ranges = splitRanges(10_000, 2, 100);
    for (let stolen = stealLargestTail(ranges, 100); stolen; stolen = stealLargestTail(ranges, 100)) ranges.push(stolen);
    ranges.sort((a, b) => a.start - b.start);
    assertCovers(ranges, 10_000, 'after stealing');
    assert.ok(ranges.every((range) => lengthOf(range) >= 100 && lengthOf(range) < 200), ranges.map(lengthOf).join(', '));
  });
});

describe('totalFromContentRange', () => {
  it('reads the total after the slash', () => {
    assert.equal(totalFromContentRange('bytes 0-99/1000'), 1000);
    assert.equal(totalFromContentRange('bytes 500-999/1000 '), 1000);
    assert.equal(totalFromContentRange('bytes */4096'), 4096);
    assert.equal(totalFromContentRange('bytes 0-0/1'), 1);
  });

  it('gives null for an unknown total or no header', () => {
    assert.equal(totalFromContentRange('bytes 0-99/*'), null);
    assert.equal(totalFromContentRange(''), null);
    assert.equal(totalFromContentRange(undefined), null);
    assert.equal(totalFromContentRange('garbage'), null);
  });
});

describe('downloadedBytes', () => {
  it('sums what every range has written', () => {
    assert.equal(downloadedBytes([]), 0);
    assert.equal(downloadedBytes([aRange(0, 99), aRange(100, 199)]), 0);
    assert.equal(downloadedBytes([aRange(0, 99, 100), aRange(100, 199, 150), aRange(200, null, 260)]), 100 + 50 + 60);
  });
});

describe('downloadRanged against an endless answer', () => {
  const origin = new OriginServer();
  const http = new HttpClient({ stallTimeoutMs: 10_000, retry: { attempts: 2, baseDelayMs: 10 } });
  const dir = mkdtempSync(join(tmpdir(), 'ranged-endless-'));
  const content = randomBytes(400_000);
  const written = 200_000;
  let endlessSent = 0;

  before(async () => {
    // the resume check asks for the last 64 KiB before the gap: this server sends them, then never stops
    origin.route('/weak.bin', {
      handler: async (req, res) => {
        const [, from, to] = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '') ?? [];
        const start = Number(from ?? 0);
        const end = to ? Number(to) : content.length - 1;
        res.writeHead(206, { etag: 'W/"1"', 'content-range': `bytes ${start}-${end}/${content.length}`, 'content-type': 'application/octet-stream' });
        if (end !== written - 1) return void res.end(content.subarray(start, end + 1));
        res.write(content.subarray(start, end + 1));
        const junk = Buffer.alloc(256 * 1024, 0x61);
        while (!res.destroyed && endlessSent < 512 * 1024 * 1024) {
          endlessSent += junk.length;
          if (!res.write(junk)) await drained(res);
        }
      },
    });
    await origin.start();
  });

  after(async () => {
    await http.close();
    await origin.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads only the sample it compares, resumes, and finishes byte-exact', async () => {
    const partPath = join(dir, 'weak.part');
    const statePath = join(dir, 'weak.state.json');
    writeFileSync(partPath, Buffer.concat([content.subarray(0, written), Buffer.alloc(content.length - written)]));
    const state: RangedState = { version: 1, url: origin.url('/weak.bin'), total: content.length, etag: 'W/"1"', lastModified: null, resumable: true, ranges: [{ start: 0, end: content.length - 1, pos: written }] };
    writeFileSync(statePath, JSON.stringify(state));
    const lines: string[] = [];
    const result = await downloadRanged({ http, url: origin.url('/weak.bin'), headers: [], partPath, statePath, connections: 1, signal: new AbortController().signal, log: (line) => lines.push(line) });
    assert.equal(result.totalBytes, content.length);
    assert.ok(readFileSync(partPath).equals(content));
    assert.ok(lines.some((line) => line.startsWith('resuming')), lines.join('\n'));
    // the endless answer was cut after the sample: far less than the 512 MiB it would have sent
    assert.ok(endlessSent < 64 * 1024 * 1024, `${endlessSent} bytes were pulled from the endless answer`);
  });
});
