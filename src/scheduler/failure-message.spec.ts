import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { ErrorCode } from '../common/error-codes.js';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { HttpError, PermanentError } from '../engine/http-error.js';
import { DependencyMissingError } from '../engine/task-errors.js';
import { describeFailure, diskFullKind, isInternalError, withoutPrivatePaths } from './failure-message.js';

const aTask = { type: 'mediago', outputDir: '/media/videos' };
const paths = { workDir: '/media/videos/.mediago-task-7', dataDir: '/var/lib/mediago' };
const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('describeFailure', () => {
  it('turns a bug (TypeError, RangeError) into a sentence about the task, keeping the details for the service log', () => {
    const failure = describeFailure(new TypeError("Cannot read properties of undefined (reading 'find')"), aTask, paths);
    assert.equal(failure.message, 'the download failed because of an internal error in the mediago engine (details in the service log)');
    assert.equal(failure.errorCode, ErrorCode.DownloadFailed);
    assert.match(failure.internal ?? '', /Cannot read properties of undefined/);
    assert.match(describeFailure(new RangeError('Invalid array length'), { type: 'm3u8' }, {}).message, /internal error in the m3u8 engine/);
  });

  it('keeps messages that describe the download', () => {
    assert.deepEqual(describeFailure(new HttpError(404, 'https://x.example/a.mp4?token=s'), aTask, paths), { message: 'https://x.example/a.mp4 answered HTTP 404', errorCode: ErrorCode.DownloadFailed });
    assert.deepEqual(describeFailure(new DependencyMissingError('ffmpeg', 'ffmpeg is not installed'), aTask, paths), {
      message: 'ffmpeg is not installed',
      errorCode: ErrorCode.DependencyMissing,
      dependency: 'ffmpeg',
    });
  });

  it('says insufficient_space for a full disk, wherever the ENOSPC came from', () => {
    for (const error of [
      errno('ENOSPC', 'ENOSPC: no space left on device, write'),
      new PermanentError('ffmpeg failed: av_interleaved_write_frame(): No space left on device'),
      new Error('ERROR: unable to write data: [Errno 28] No space left on device'),
      Object.assign(new Error('write failed'), { cause: errno('ENOSPC', 'no space') }),
    ]) {
      const failure = describeFailure(error, aTask, paths);
      assert.equal(failure.errorCode, ErrorCode.InsufficientSpace, error.message);
      assert.match(failure.message, /^the disk is full: no space was left to save this download in \/media\/videos; the partial data is kept/);
    }
  });

  it("says insufficient_space naming DATA_DIR when the database cannot grow", () => {
    const typeorm = Object.assign(new Error('SQLITE_FULL: database or disk is full'), { driverError: errno('SQLITE_FULL', 'SQLITE_FULL: database or disk is full') });
    const failure = describeFailure(typeorm, aTask, paths);
    assert.equal(failure.errorCode, ErrorCode.InsufficientSpace);
    assert.match(failure.message, /DATA_DIR\) is full/);
    assert.equal(diskFullKind(new Error('timeout')), null);
  });

  it("removes the task's working directory and DATA_DIR from messages", () => {
    const ffmpeg = new PermanentError('ffmpeg failed: /media/videos/.mediago-task-7/video.ts: Invalid data found when processing input');
    assert.equal(describeFailure(ffmpeg, aTask, paths).message, 'ffmpeg failed: video.ts: Invalid data found when processing input');
    assert.equal(withoutPrivatePaths('cannot open /media/videos/.mediago-task-7', paths), "cannot open the task's working directory");
    assert.equal(withoutPrivatePaths('cannot write /var/lib/mediago/logs/7.log', paths), 'cannot write DATA_DIR/logs/7.log');
  });

  it("names the service's code by no path, and a user's file in the service's folder by its path", () => {
    const bundle = join(PACKAGE_ROOT, 'dist', 'main.js');
    assert.equal(withoutPrivatePaths(`TypeError: x is not a function at ${bundle}:1:2345`, paths), 'TypeError: x is not a function at (the service):1:2345');
    assert.equal(withoutPrivatePaths(`at ${join(PACKAGE_ROOT, 'node_modules', 'typeorm', 'index.js')}:3`, paths), 'at (the service):3');
    // the default DOWNLOAD_DIR is ./downloads, under the folder `npm start` runs in
    const download = join(PACKAGE_ROOT, 'downloads', 'clip.mp4');
    assert.equal(withoutPrivatePaths(`cannot write ${download}`, paths), `cannot write ${download}`);
  });
});

describe('isInternalError', () => {
  it('tells bugs from failures of the input or the network', () => {
    assert.ok(isInternalError(new TypeError('x is not a function')));
    assert.ok(isInternalError(new SyntaxError('Unexpected token')));
    assert.ok(!isInternalError(new Error('HTTP 500')));
    assert.ok(!isInternalError(Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' })));
    assert.ok(!isInternalError(new TypeError('fetch failed')));
  });
});
