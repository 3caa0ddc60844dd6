import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownloadEvent, type DownloadEventMap, type DownloadEventName, SSE_EVENT_NAMES, toSseMessage } from './download-events.js';

const aProgress = (overrides: Partial<DownloadEventMap['download.progress']> = {}): DownloadEventMap['download.progress'] => ({
  id: 7,
  percent: 42.5,
  speed: 1_048_576,
  downloadedBytes: 4_456_448,
  totalBytes: 10_485_760,
  eta: 6,
  ...overrides,
});
/** What an SSE client reads: the event name and the parsed data. */
const received = <K extends DownloadEventName>(name: K, payload: DownloadEventMap[K]) => {
  const message = toSseMessage(name, payload);
  return { type: message.type, data: JSON.parse(message.data) as unknown };
};

describe('toSseMessage', () => {
  it('keeps ids as numbers in download-create', () => {
    assert.deepEqual(received(DownloadEvent.Created, { ids: [1, 2, 30], count: 3 }), { type: 'download-create', data: { ids: [1, 2, 30], count: 3 } });
  });

  it('turns a single task id into a string', () => {
    assert.deepEqual(received(DownloadEvent.Started, { id: 12 }), { type: 'download-start', data: { id: '12' } });
    assert.deepEqual(received(DownloadEvent.Succeeded, { id: 12 }), { type: 'download-success', data: { id: '12' } });
    assert.deepEqual(received(DownloadEvent.Stopped, { id: 12 }), { type: 'download-stop', data: { id: '12' } });
    assert.deepEqual(received(DownloadEvent.Updated, { id: 12 }), { type: 'download-update', data: { id: '12' } });
    assert.deepEqual(received(DownloadEvent.Deleted, { id: 12 }), { type: 'download-delete', data: { id: '12' } });
    assert.deepEqual(received(DownloadEvent.Failed, { id: 12, error: 'segment 17 answered 404 after 5 tries', errorCode: 'download_failed' }), {
      type: 'download-failed',
      data: { id: '12', error: 'segment 17 answered 404 after 5 tries', errorCode: 'download_failed' },
    });
    assert.deepEqual(received(DownloadEvent.Failed, { id: 3, error: 'ffmpeg is not installed', errorCode: 'dependency_missing', dependency: 'ffmpeg' }).data, {
      id: '3',
      error: 'ffmpeg is not installed',
      errorCode: 'dependency_missing',
      dependency: 'ffmpeg',
    });
  });

  it('sends progress with a string id and numbers (or null) for the rest', () => {
    assert.deepEqual(received(DownloadEvent.Progress, aProgress()), {
      type: 'download-progress',
      data: { id: '7', percent: 42.5, speed: 1_048_576, downloadedBytes: 4_456_448, totalBytes: 10_485_760, eta: 6 },
    });
    assert.deepEqual(received(DownloadEvent.Progress, aProgress({ percent: null, totalBytes: null, eta: null, speed: 0 })).data, {
      id: '7',
      percent: null,
      speed: 0,
      downloadedBytes: 4_456_448,
      totalBytes: null,
      eta: null,
    });
  });

  it('does not change the payload it was given', () => {
    const payload = aProgress();
    toSseMessage(DownloadEvent.Progress, payload);
    assert.equal(payload.id, 7);
  });

  it('sends the data as a single line', () => {
    const message = toSseMessage(DownloadEvent.Failed, { id: 1, error: 'line one\nline two', errorCode: 'download_failed' });
    assert.ok(!message.data.includes('\n'));
    assert.equal((JSON.parse(message.data) as { error: string }).error, 'line one\nline two');
  });
});

describe('SSE_EVENT_NAMES', () => {
  it('maps every internal event to the name in the contract', () => {
    assert.deepEqual(SSE_EVENT_NAMES, {
      'download.created': 'download-create',
      'download.started': 'download-start',
      'download.succeeded': 'download-success',
      'download.failed': 'download-failed',
      'download.stopped': 'download-stop',
      'download.progress': 'download-progress',
      'download.updated': 'download-update',
      'download.deleted': 'download-delete',
    });
    assert.deepEqual(Object.keys(SSE_EVENT_NAMES).sort(), Object.values(DownloadEvent).sort());
  });
});
