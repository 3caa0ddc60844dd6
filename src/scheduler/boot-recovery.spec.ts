import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownloadStatus } from '../tasks/download-status.enum.js';
import { CRASH_LOOP_LIMIT, bootDecision } from './boot-recovery.js';

describe('bootDecision', () => {
  it('queues again a task that was waiting, whatever its counter says', () => {
    assert.equal(bootDecision({ status: DownloadStatus.Waiting, interruptedRuns: 0 }), 'requeue');
    assert.equal(bootDecision({ status: DownloadStatus.Waiting, interruptedRuns: 5 }), 'requeue');
  });

  it('queues again a running task whose run was ended cleanly (counter cleared at shutdown)', () => {
    assert.equal(bootDecision({ status: DownloadStatus.Downloading, interruptedRuns: 0 }), 'requeue');
  });

  it('counts one death, and fails at the limit of two', () => {
    assert.equal(CRASH_LOOP_LIMIT, 2);
    assert.equal(bootDecision({ status: DownloadStatus.Downloading, interruptedRuns: 1 }), 'requeue-after-crash');
    assert.equal(bootDecision({ status: DownloadStatus.Downloading, interruptedRuns: 2 }), 'fail-crash-loop');
    assert.equal(bootDecision({ status: DownloadStatus.Downloading, interruptedRuns: 3 }), 'fail-crash-loop');
  });
});
