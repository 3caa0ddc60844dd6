import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringToMpdXml } from 'mpd-parser';
import { PermanentError } from '../../../engine/http-error.js';
import { parseMpd } from './mpd-manifest.js';
import { countMpdSegments, parseIsoDuration } from './segment-count.js';

const anMpd = (periods: string, attributes = 'mediaPresentationDuration="PT60S"') =>
  `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" ${attributes}>${periods}</MPD>`;
const count = (xml: string) => countMpdSegments(stringToMpdXml(xml));

describe('countMpdSegments', () => {
  it('counts a SegmentTimeline from S@r without expanding it', () => {
    const xml = anMpd('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s" timescale="1000"><SegmentTimeline><S t="0" d="1" r="10000000"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period>');
    assert.equal(count(xml), 10_000_001);
  });

  it('counts @duration templates over the presentation, once per representation', () => {
    const xml = anMpd('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s" duration="1" timescale="1000"/><Representation id="a" bandwidth="1"/><Representation id="b" bandwidth="2"/></AdaptationSet></Period>', 'mediaPresentationDuration="PT100000H"');
    assert.equal(count(xml), 2 * 100_000 * 3_600 * 1_000);
  });

  it('agrees with the expansion for an ordinary manifest', () => {
    const xml = anMpd('<Period duration="PT20S"><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><SegmentTemplate media="$Number$.m4s" duration="4" timescale="1"/></Representation></AdaptationSet><AdaptationSet mimeType="audio/mp4"><Representation id="a" bandwidth="1"><SegmentTemplate media="a$Time$.m4s" timescale="10"><SegmentTimeline><S t="0" d="40" r="-1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period>');
    const manifest = parseMpd(xml, 'https://cdn.example/m.mpd');
    const expanded = manifest.periods[0].representations.reduce((sum, representation) => sum + representation.segments.length, 0);
    assert.equal(count(xml), expanded);
    assert.equal(expanded, 20);
  });

  it('counts SegmentURL elements and treats a zero duration repeated to the end as endless', () => {
    assert.equal(count(anMpd('<Period><AdaptationSet><Representation id="v" bandwidth="1"><SegmentList duration="1"><SegmentURL media="a"/><SegmentURL media="b"/></SegmentList></Representation></AdaptationSet></Period>')), 2);
    assert.equal(count(anMpd('<Period><AdaptationSet><Representation id="v" bandwidth="1"><SegmentTemplate media="$Time$"><SegmentTimeline><S t="0" d="0" r="-1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period>')), Infinity);
  });

  it('reads xs:duration values', () => {
    assert.equal(parseIsoDuration('PT1H2M3.5S'), 3723.5);
    assert.equal(parseIsoDuration('P1DT1S'), 86_401);
    assert.equal(parseIsoDuration('nonsense'), null);
  });
});

describe('parseMpd against a segment bomb', () => {
  it('refuses a 600-byte manifest announcing ten million segments, saying the limit', () => {
    const xml = anMpd('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s"><SegmentTimeline><S t="0" d="1" r="10000000"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period>');
    assert.throws(() => parseMpd(xml, 'https://cdn.example/bomb.mpd?token=x'), (error: Error) => {
      assert.ok(error instanceof PermanentError);
      assert.equal(error.message, 'the DASH manifest https://cdn.example/bomb.mpd lists 10,000,001 segments; at most 30,000 are accepted');
      return true;
    });
  });
});
