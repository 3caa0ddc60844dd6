import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { degradedReasons } from './health-checks.js';

const found = { found: true, version: '1' };
const GiB = 1024 ** 3;

describe('degradedReasons', () => {
  it('is empty when every tool is there and every disk is above the floor', () => {
    assert.deepEqual(degradedReasons({ ffmpeg: found, ytdlp: found }, [{ name: 'DOWNLOAD_DIR', bytes: 30 * GiB }], GiB), []);
  });

  it('names each missing tool and what it costs', () => {
    const reasons = degradedReasons({ ffmpeg: { found: false, version: null }, ytdlp: { found: false, version: null } }, [], GiB);
    assert.deepEqual(reasons, ['ffmpeg was not found: HLS, DASH and Bilibili downloads cannot be merged', 'yt-dlp was not found: "youtube" tasks cannot run']);
  });

  it('names each disk below MIN_FREE_SPACE, without its path; an unmeasurable disk is no reason', () => {
    const reasons = degradedReasons({ ffmpeg: found }, [
      { name: 'DOWNLOAD_DIR', bytes: 512 * 1024 ** 2 },
      { name: 'DATA_DIR', bytes: null },
    ], GiB);
    assert.deepEqual(reasons, ['only 512 MiB free in DOWNLOAD_DIR, less than MIN_FREE_SPACE (1 GiB): queued tasks wait until space is freed']);
    assert.deepEqual(degradedReasons({}, [{ name: 'DATA_DIR', bytes: 0 }], 0), [], 'a floor of 0 turns the check off');
  });

  it('asks DATA_DIR (database and logs) for MIN_FREE_SPACE but never more than 64 MiB', () => {
    assert.deepEqual(degradedReasons({}, [{ name: 'DATA_DIR', bytes: 500 * 1024 ** 2 }], GiB), []);
    assert.deepEqual(degradedReasons({}, [{ name: 'DATA_DIR', bytes: 10 * 1024 ** 2 }], GiB), [
      'only 10 MiB free in DATA_DIR, less than MIN_FREE_SPACE (64 MiB): queued tasks wait until space is freed',
    ]);
  });
});
