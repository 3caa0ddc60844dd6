import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROGRESS_MARKER } from './ytdlp-arguments.js';
import { YtdlpProgressTracker, cleanErrorMessage, errorWithCause, meaningfulError, parseYtdlpLine } from './ytdlp-progress.js';

const template = (fields: Record<string, unknown>) => `${PROGRESS_MARKER} ${JSON.stringify(fields)}`;

describe('parseYtdlpLine', () => {
  it('reads our template lines, preferring the exact total over the estimate', () => {
    assert.deepEqual(parseYtdlpLine(template({ status: 'downloading', downloaded_bytes: 31744, total_bytes: 101042, filename: 'clip.mp4' })), {
      kind: 'progress',
      status: 'downloading',
      filename: 'clip.mp4',
      downloadedBytes: 31744,
      totalBytes: 101042,
      fragmentIndex: null,
      fragmentCount: null,
    });
    const fragmented = parseYtdlpLine(
      template({ status: 'downloading', downloaded_bytes: 7168, total_bytes_estimate: 116372.0, fragment_index: 3, fragment_count: 10, filename: 'a.f300.mp4' }),
    );
    assert.equal(fragmented.kind, 'progress');
    assert.equal(fragmented.kind === 'progress' && fragmented.totalBytes, 116372);
    assert.equal(fragmented.kind === 'progress' && fragmented.fragmentIndex, 3);
    assert.equal(fragmented.kind === 'progress' && fragmented.fragmentCount, 10);
  });

  it('treats a zero estimate (the first fragment of a live playlist) as unknown', () => {
    const line = parseYtdlpLine(template({ status: 'downloading', downloaded_bytes: 1024, total_bytes_estimate: 0.0, fragment_index: 0, fragment_count: 3 }));
    assert.equal(line.kind === 'progress' && line.totalBytes, null);
  });

  it('reads the finished template line', () => {
    const line = parseYtdlpLine(template({ status: 'finished', downloaded_bytes: 101042, total_bytes: 101042, filename: 'clip.mp4' }));
    assert.equal(line.kind === 'progress' && line.status, 'finished');
  });

  it('reads the default progress line, with and without fragments and estimates', () => {
    assert.deepEqual(parseYtdlpLine('[download]  31.4% of   98.67KiB at  Unknown B/s ETA Unknown'), {
      kind: 'progress',
      status: 'downloading',
      filename: null,
      downloadedBytes: Math.round(98.67 * 1024 * 0.314),
      totalBytes: Math.round(98.67 * 1024),
      fragmentIndex: null,
      fragmentCount: null,
    });
    const fragment = parseYtdlpLine('[download]  45.0% of ~  10.00MiB at    1.00MiB/s ETA 00:05 (frag 3/10)');
    assert.equal(fragment.kind, 'progress');
    assert.equal(fragment.kind === 'progress' && fragment.totalBytes, 10 * 1024 ** 2);
    assert.equal(fragment.kind === 'progress' && fragment.fragmentIndex, 3);
    assert.equal(fragment.kind === 'progress' && fragment.fragmentCount, 10);
    const done = parseYtdlpLine('[download] 100% of   98.67KiB in 00:00:00 at 30.16MiB/s');
    assert.equal(done.kind === 'progress' && done.status, 'finished');
  });

  it('reads the formats yt-dlp chose, the destination and an earlier complete download', () => {
    assert.deepEqual(parseYtdlpLine('[info] master: Downloading 1 format(s): 300+aud-English'), { kind: 'formats', formats: ['300', 'aud-English'] });
    assert.deepEqual(parseYtdlpLine('[info] clip: Downloading 1 format(s): mp4'), { kind: 'formats', formats: ['mp4'] });
    assert.deepEqual(parseYtdlpLine('[download] Destination: media.f300.mp4'), { kind: 'destination', filename: 'media.f300.mp4' });
    assert.deepEqual(parseYtdlpLine('[download] My Video.mp4 has already been downloaded'), { kind: 'already-downloaded', filename: 'My Video.mp4' });
    assert.deepEqual(parseYtdlpLine('[download] My Video.mp4 has already been downloaded and merged'), { kind: 'already-downloaded', filename: 'My Video.mp4' });
  });

  it('recognises post-processing steps', () => {
    assert.deepEqual(parseYtdlpLine('[Merger] Merging formats into "media.mp4"'), { kind: 'postprocess', step: 'Merger', detail: 'Merging formats into "media.mp4"' });
    assert.deepEqual(parseYtdlpLine('[FixupM3u8] Fixing MPEG-TS in MP4 container of "media.mp4"'), {
      kind: 'postprocess',
      step: 'FixupM3u8',
      detail: 'Fixing MPEG-TS in MP4 container of "media.mp4"',
    });
    assert.deepEqual(parseYtdlpLine('[ExtractAudio] Destination: song.mp3'), { kind: 'postprocess', step: 'ExtractAudio', detail: 'Destination: song.mp3' });
    assert.equal(parseYtdlpLine('[VideoConvertor] Converting video from webm to mp4').kind, 'postprocess');
  });

  it('reads ffmpeg\'s statistics while it records a live stream', () => {
    assert.deepEqual(parseYtdlpLine('frame=  175 fps= 35 q=-1.0 size=     179kB time=00:00:07.01 bitrate= 209.3kbits/s speed= 1.4x    '), {
      kind: 'recording',
      bytes: 179 * 1024,
    });
    assert.deepEqual(parseYtdlpLine('frame=  199 fps= 33 q=-1.0 Lsize=     205kB time=00:00:08.01 bitrate= 210.1kbits/s speed=1.33x'), {
      kind: 'recording',
      bytes: 205 * 1024,
    });
    assert.deepEqual(parseYtdlpLine('size=     512kB time=00:00:31.00 bitrate= 135.3kbits/s speed=1x'), { kind: 'recording', bytes: 512 * 1024 });
    assert.equal(parseYtdlpLine("[http @ 0x55d6a0ab1680] Opening 'http://127.0.0.1:18778/seg009.ts' for reading").kind, 'noise');
    assert.equal(parseYtdlpLine("[hls @ 0x55d6a0aa1980] Skip ('#EXT-X-VERSION:3')").kind, 'noise');
  });

  it('recognises errors and warnings', () => {
    assert.deepEqual(parseYtdlpLine('ERROR: Unsupported URL: http://127.0.0.1:18777/'), { kind: 'error', message: 'ERROR: Unsupported URL: http://127.0.0.1:18777/' });
    assert.equal(parseYtdlpLine('WARNING: [generic] Falling back on generic information extractor').kind, 'warning');
    assert.equal(parseYtdlpLine('\x1b[0;31mERROR:\x1b[0m Unsupported URL: https://x.example/').kind, 'error');
  });

  it('leaves everything else as text', () => {
    assert.deepEqual(parseYtdlpLine('[generic] Extracting URL: http://127.0.0.1/clip.mp4'), { kind: 'other', text: '[generic] Extracting URL: http://127.0.0.1/clip.mp4' });
    assert.equal(parseYtdlpLine(`${PROGRESS_MARKER} not json`).kind, 'other');
  });
});

describe('cleanErrorMessage', () => {
  it('drops the bug-tracker boilerplate and the exception repr', () => {
    const line =
      "ERROR: [generic] None: Unable to download webpage: HTTP Error 404: File not found (caused by <HTTPError 404: 'File not found'>); please report this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template. Confirm you are on the latest version using  yt-dlp -U";
    assert.equal(cleanErrorMessage(line), 'ERROR: [generic] None: Unable to download webpage: HTTP Error 404: File not found');
  });

  it('removes query strings from the URLs it names', () => {
    assert.equal(cleanErrorMessage('ERROR: Unsupported URL: https://x.example/v?token=secret.'), 'ERROR: Unsupported URL: https://x.example/v.');
  });
});

describe('errorWithCause', () => {
  it('gives a bare ERROR the line before it as its message', () => {
    assert.equal(errorWithCause('ERROR:', '[generic] Unable to download webpage: HTTP Error 403: Forbidden'), 'ERROR: Unable to download webpage: HTTP Error 403: Forbidden');
    assert.equal(errorWithCause('ERROR: ', 'WARNING: unable to open https://x.example/v.m3u8?sig=secret'), 'ERROR: unable to open https://x.example/v.m3u8');
  });

  it('adds the cause to a vague ERROR', () => {
    assert.equal(
      errorWithCause('ERROR: fragment 1 not found, unable to continue', '[download] Got error: HTTP Error 403: Forbidden. Retrying fragment 1 (3/3)...'),
      'ERROR: fragment 1 not found, unable to continue (HTTP Error 403: Forbidden. Retrying fragment 1 (3/3))',
    );
    assert.equal(errorWithCause('ERROR: Postprocessing: Conversion failed!', '[Merger] unable to write: [Errno 28] No space left on device'), 'ERROR: Postprocessing: Conversion failed! (unable to write: [Errno 28] No space left on device)');
  });

  it('leaves an ERROR that says what went wrong as it is', () => {
    assert.equal(errorWithCause('ERROR: Unsupported URL: https://x.example/', '[generic] Extracting URL: https://x.example/'), 'ERROR: Unsupported URL: https://x.example/');
    assert.equal(errorWithCause('ERROR: Postprocessing: Conversion failed!', '[Merger] Merging formats into "a.mp4"'), 'ERROR: Postprocessing: Conversion failed!', 'a line that is no cause is not added');
    assert.equal(errorWithCause('ERROR:', null), 'ERROR:');
  });
});

describe('meaningfulError', () => {
  it('prefers the last ERROR that says something over a trailing bare one', () => {
    assert.equal(meaningfulError(['ERROR: first', 'ERROR: [youtube] x: Video unavailable', 'ERROR:']), 'ERROR: [youtube] x: Video unavailable');
    assert.equal(meaningfulError(['ERROR:']), 'ERROR:');
    assert.equal(meaningfulError([]), undefined);
  });
});

describe('YtdlpProgressTracker', () => {
  const feed = (tracker: YtdlpProgressTracker, line: string) => tracker.update(parseYtdlpLine(line));

  it('reports bytes and the exact total of a single file', () => {
    const tracker = new YtdlpProgressTracker('clip');
    assert.equal(feed(tracker, '[info] clip: Downloading 1 format(s): mp4'), null);
    assert.equal(feed(tracker, '[download] Destination: clip.mp4'), null);
    assert.deepEqual(feed(tracker, template({ status: 'downloading', downloaded_bytes: 25000, total_bytes: 100000, filename: 'clip.mp4' })), {
      downloadedBytes: 25000,
      totalBytes: 100000,
      percent: 25,
    });
    assert.deepEqual(feed(tracker, template({ status: 'finished', downloaded_bytes: 100000, total_bytes: 100000, filename: 'clip.mp4' })), {
      downloadedBytes: 100000,
      totalBytes: 100000,
      percent: 100,
    });
  });

  it('adds up the video and the audio file of a merged result', () => {
    const tracker = new YtdlpProgressTracker('media');
    feed(tracker, '[info] master: Downloading 1 format(s): 300+aud-English');
    const during = feed(tracker, template({ status: 'downloading', downloaded_bytes: 50000, total_bytes_estimate: 100000, fragment_index: 2, fragment_count: 4, filename: 'media.f300.mp4' }));
    // the audio's size is still unknown: no total yet, the video counts for half
    assert.deepEqual(during, { downloadedBytes: 50000, totalBytes: null, percent: 25 });
    feed(tracker, template({ status: 'finished', downloaded_bytes: 100768, total_bytes: 100768, filename: 'media.f300.mp4' }));
    const audio = feed(tracker, template({ status: 'downloading', downloaded_bytes: 10000, total_bytes_estimate: 40000, fragment_index: 1, fragment_count: 5, filename: 'media.faud-English.mp4' }));
    assert.deepEqual(audio, { downloadedBytes: 110768, totalBytes: 140768, percent: (110768 / 140768) * 100 });
    assert.equal(feed(tracker, '[Merger] Merging formats into "media.mp4"'), null);
  });

  it('uses fragments when no size is known', () => {
    const tracker = new YtdlpProgressTracker('live');
    const report = feed(tracker, '[download]  45.0% of ~  10.00MiB at    1.00MiB/s ETA 00:05 (frag 3/10)');
    assert.equal(report?.totalBytes, 10 * 1024 ** 2);
    const fragmentsOnly = new YtdlpProgressTracker('x');
    assert.deepEqual(fragmentsOnly.update({ kind: 'progress', status: 'downloading', filename: 'x.mp4', downloadedBytes: 5000, totalBytes: null, fragmentIndex: 3, fragmentCount: 10 }), {
      downloadedBytes: 5000,
      totalBytes: null,
      percent: 30,
    });
  });

  it('counts a merged result found complete from an earlier run as done', () => {
    const tracker = new YtdlpProgressTracker('My Video');
    feed(tracker, '[info] abc: Downloading 1 format(s): 137+140');
    assert.equal(feed(tracker, '[download] My Video.mp4 has already been downloaded')?.percent, 100);
  });

  it('counts one part found complete as that part only', () => {
    const tracker = new YtdlpProgressTracker('My Video');
    feed(tracker, '[info] abc: Downloading 1 format(s): 137+140');
    assert.equal(feed(tracker, '[download] My Video.f137.mp4 has already been downloaded')?.percent, 50);
  });

  it('reports a live recording\'s growing size with an unknown total', () => {
    const tracker = new YtdlpProgressTracker('live');
    assert.deepEqual(feed(tracker, 'frame=  100 fps= 50 q=-1.0 size=     102kB time=00:00:04.01 bitrate= 207.7kbits/s speed=   2x'), {
      downloadedBytes: 102 * 1024,
      totalBytes: null,
      percent: null,
    });
    assert.equal(feed(tracker, 'frame=  125 fps= 41 q=-1.0 size=     128kB time=00:00:05.01 bitrate= 209.2kbits/s speed=1.67x')?.downloadedBytes, 128 * 1024);
  });

  it('ignores lines that say nothing about progress', () => {
    const tracker = new YtdlpProgressTracker('x');
    for (const line of ['[generic] Extracting URL: http://a/', 'WARNING: something', 'ERROR: boom', '[FixupM3u8] Fixing MPEG-TS in MP4 container of "x.mp4"']) {
      assert.equal(feed(tracker, line), null);
    }
  });
});
