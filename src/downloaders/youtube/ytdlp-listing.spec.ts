import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAbortError } from '../../engine/abort.js';
import { buildYtdlpListArguments, parseYtdlpListing, runYtdlpListing } from './ytdlp-listing.js';

const settings = { proxy: null, noProxy: null, socketTimeoutSeconds: 20, retries: 3 };

describe('yt-dlp listing', () => {
  it('asks for one flat JSON document of at most limit + 1 entries, with cookies in the file and the URL last', () => {
    const args = buildYtdlpListArguments('https://example.com/list', [['Cookie', 'a=1'], ['Authorization', 'Bearer x'], ['Referer', 'https://example.com/']], 1000, settings);
    assert.ok(args.includes('--flat-playlist') && args.includes('--dump-single-json') && args.includes('--ignore-config'));
    assert.equal(args[args.indexOf('--playlist-end') + 1], '1001');
    assert.equal(args[args.indexOf('--cookies') + 1], '.ytdlp-cookies.txt');
    assert.ok(!args.some((arg) => arg.includes('Bearer')), 'Authorization is withheld as for a run');
    assert.ok(args.includes('Referer:https://example.com/'));
    assert.deepEqual(args.slice(-2), ['--', 'https://example.com/list']);
  });

  it('reads flat entries, embedded videos and a single video', () => {
    const flat = JSON.stringify({
      _type: 'playlist',
      title: 'Channel',
      webpage_url: 'https://example.com/list',
      playlist_count: 3,
      entries: [
        { _type: 'url', url: 'https://example.com/watch?v=a', title: 'A', duration: 61.5, playlist_index: 1 },
        { _type: 'url', url: 'javascript:alert(1)', title: 'not a link' },
        { _type: 'url', url: 'https://example.com/watch?v=c', title: 'C', playlist_index: 3 },
      ],
    });
    const link = parseYtdlpListing(flat, 'https://example.com/list', 1000);
    assert.equal(link.kind, 'playlist');
    assert.deepEqual(link.entries, [
      { number: 1, title: 'A', url: 'https://example.com/watch?v=a', duration: 61.5 },
      { number: 3, title: 'C', url: 'https://example.com/watch?v=c', duration: null },
    ]);
    assert.equal(link.total, 3);
    assert.equal(link.truncated, false);

    const embedded = JSON.stringify({ _type: 'playlist', webpage_url: 'https://example.com/page', entries: [{ webpage_url: 'https://example.com/page', requested_downloads: [{ url: 'https://cdn.example.com/1.mp4' }] }] });
    assert.equal(parseYtdlpListing(embedded, 'https://example.com/page', 10).entries[0].url, 'https://cdn.example.com/1.mp4');

    const single = parseYtdlpListing(JSON.stringify({ _type: 'video', title: 'Clip', duration: 4 }), 'https://example.com/v', 10);
    assert.deepEqual(single.entries, [{ number: 1, title: 'Clip', url: 'https://example.com/v', duration: 4 }]);
    assert.throws(() => parseYtdlpListing('not json', 'https://example.com/v', 10), /not the JSON/);
  });

  it('cuts at the limit and flags it, from the count or from the one extra entry', () => {
    const entries = (n: number) => Array.from({ length: n }, (_, index) => ({ _type: 'url', url: `https://example.com/${index + 1}` }));
    const counted = parseYtdlpListing(JSON.stringify({ _type: 'playlist', playlist_count: 50, entries: entries(3) }), 'https://example.com/', 2);
    assert.deepEqual([counted.entries.length, counted.total, counted.truncated], [2, 50, true]);
    const uncounted = parseYtdlpListing(JSON.stringify({ _type: 'playlist', entries: entries(3) }), 'https://example.com/', 2);
    assert.deepEqual([uncounted.entries.length, uncounted.total, uncounted.truncated], [2, null, true]);
    const exact = parseYtdlpListing(JSON.stringify({ _type: 'playlist', entries: entries(2) }), 'https://example.com/', 2);
    assert.deepEqual([exact.entries.length, exact.total, exact.truncated], [2, 2, false]);
  });

  it('kills a program whose output passes the byte cap', async () => {
    const endless = "const b = Buffer.alloc(65536, 97); (function w() { process.stdout.write(b, w); })()";
    await assert.rejects(
      runYtdlpListing(process.execPath, ['-e', endless], { cwd: process.cwd(), signal: new AbortController().signal, maxBytes: 1024 * 1024, killGraceMs: 1000 }),
      /listed more than 1 MiB of entries/,
    );
  });

  it('kills a program that outlives the signal, and reports yt-dlp ERROR lines', async () => {
    const signal = AbortSignal.timeout(300);
    await assert.rejects(runYtdlpListing(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cwd: process.cwd(), signal, maxBytes: 1024, killGraceMs: 1000 }), (error) => isAbortError(error) || (error as Error).name === 'TimeoutError');
    await assert.rejects(
      runYtdlpListing(process.execPath, ['-e', "console.error('ERROR: [generic] Unsupported URL: https://example.com/x?token=1'); process.exit(1)"], { cwd: process.cwd(), signal: new AbortController().signal, maxBytes: 1024, killGraceMs: 1000 }),
      (error: Error) => error.message === '[generic] Unsupported URL: https://example.com/x',
    );
  });
});
