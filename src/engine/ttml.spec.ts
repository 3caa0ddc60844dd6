import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sniffContainer } from './media-sniff.js';
import { looksLikeTtml, timeExpression, ttmlCues, ttmlDocumentsInMp4, ttmlToWebVtt } from './ttml.js';

const WEBVTT = `WEBVTT

00:00:00.500 --> 00:00:01.750
Hello <b>there</b> & you

00:00:02.000 --> 00:01:03.250
Line one
Line two
`;

/** The cues ffmpeg's TTML muxer wrote, as our WebVTT gives them back. */
const EXPECTED = `WEBVTT

00:00:00.500 --> 00:00:01.750
Hello there &amp; you

00:00:02.000 --> 00:01:03.250
Line one
Line two
`;

const tt = (attributes: string, body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" xmlns:tts="http://www.w3.org/ns/ttml#styling" ${attributes}>
  <head><styling><style xml:id="s1" tts:color="white"/></styling></head>
  <body>${body}</body>
</tt>`;

describe('TTML to WebVTT', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ttml-'));
    writeFileSync(join(dir, 'in.vtt'), WEBVTT);
    for (const [output, format] of [['out.ttml', []], ['out.mp4', ['-f', 'mp4']]] as const) {
      const made = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', 'in.vtt', '-c:s', 'ttml', ...format, output], { cwd: dir, encoding: 'utf8' });
      assert.equal(made.status, 0, `ffmpeg made ${output}: ${made.stderr}`);
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("converts the TTML ffmpeg's muxer writes: times, text, line breaks, escapes", () => {
    const document = readFileSync(join(dir, 'out.ttml'), 'utf8');
    assert.ok(looksLikeTtml(document));
    assert.equal(ttmlToWebVtt(document), EXPECTED);
  });

  it('finds the TTML samples of an MP4 file (stpp) and converts them', () => {
    const data = readFileSync(join(dir, 'out.mp4'));
    assert.equal(sniffContainer(data), 'mp4', 'read as MP4, not as text');
    const documents = ttmlDocumentsInMp4(data);
    assert.equal(documents.length, 1);
    assert.equal(ttmlToWebVtt(documents[0]), EXPECTED);
    // a cut-off file yields what is whole, never an error or a read past the end
    assert.deepEqual(ttmlDocumentsInMp4(data.subarray(0, 60)), []);
    assert.notEqual(sniffContainer(Buffer.from(WEBVTT)), 'mp4');
  });

  it('reads every time expression: clock time with frames, offsets in h, m, s, ms, frames and ticks', () => {
    const parameters = { frameRate: 25, subFrameRate: 1, tickRate: 10_000_000 };
    assert.equal(timeExpression('01:02:03.5', parameters), 3723.5);
    assert.equal(timeExpression('00:00:01:10', parameters), 1.4);
    assert.equal(timeExpression('1.5h', parameters), 5400);
    assert.equal(timeExpression('2m', parameters), 120);
    assert.equal(timeExpression('2.25s', parameters), 2.25);
    assert.equal(timeExpression('250ms', parameters), 0.25);
    assert.equal(timeExpression('50f', parameters), 2);
    assert.equal(timeExpression('15000000t', parameters), 1.5);
    assert.throws(() => timeExpression('soon', parameters), /"soon" is not a TTML time expression/);
  });

  it('takes the frame rate, its multiplier and the tick rate from the document', () => {
    const ticks = ttmlCues(tt('ttp:tickRate="10000000"', '<div><p begin="10000000t" end="25000000t">a</p></div>'));
    assert.deepEqual(ticks, [{ start: 1, end: 2.5, text: 'a' }]);
    const frames = ttmlCues(tt('ttp:frameRate="30" ttp:frameRateMultiplier="1000 1001"', '<div><p begin="00:00:01:00" end="30f">b</p></div>'));
    // 30 frames at 29.97 frames a second
    assert.equal(frames[0].start, 1);
    assert.ok(Math.abs(frames[0].end - 1.001) < 1e-9, `${frames[0].end}`);
    // without a tickRate, ticks count frames × sub-frames when a frame rate is given
    assert.deepEqual(ttmlCues(tt('ttp:frameRate="25"', '<div><p begin="25t" end="50t">c</p></div>')), [{ start: 1, end: 2, text: 'c' }]);
  });

  it('places paragraphs inside timed divisions, with dur, and an end inherited or cut by the parent', () => {
    const cues = ttmlCues(
      tt(
        '',
        `<div begin="10s" end="20s">
           <p begin="1s" dur="2s">first</p>
           <p begin="5s">to the end of its division</p>
           <p begin="8s" end="30s">cut by its division</p>
         </div>
         <div><p begin="00:00:40.000" end="00:00:41.000"><span tts:fontStyle="italic">span</span>  and
            text<br/>  second   line </p></div>`,
      ),
    );
    assert.deepEqual(cues, [
      { start: 11, end: 13, text: 'first' },
      { start: 15, end: 20, text: 'to the end of its division' },
      { start: 18, end: 20, text: 'cut by its division' },
      { start: 40, end: 41, text: 'span and text\nsecond line' },
    ]);
  });

  it('leaves out cues without text or an end, and keeps markup characters and "-->" from breaking the cue', () => {
    const vtt = ttmlToWebVtt(tt('', '<div><p begin="1s" end="2s"> </p><p begin="3s">no end</p><p begin="4s" end="5s">a --&gt; b &lt;c&gt;</p></div>'));
    assert.equal(vtt, 'WEBVTT\n\n00:00:04.000 --> 00:00:05.000\na --&gt; b &lt;c&gt;\n');
  });

  it('says what is wrong with a document that is not TTML', () => {
    assert.ok(!looksLikeTtml(WEBVTT));
    assert.throws(() => ttmlCues('<html><body>no</body></html>'), /not a TTML document/);
    assert.throws(() => ttmlCues('<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p begin="x" end="1s">a</p></div></body></tt>'), /"x" is not a TTML time expression/);
  });
});
