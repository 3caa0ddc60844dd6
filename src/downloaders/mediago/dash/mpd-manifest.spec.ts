import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError } from '../../../engine/http-error.js';
import { kindOf, parseMpd } from './mpd-manifest.js';

const MANIFEST_URL = 'https://cdn.example/shows/ep1/manifest.mpd?token=abc';

/** A static MPD around the given periods (or adaptation sets, wrapped in one period). */
function anMpd(body: string, attributes = 'type="static" mediaPresentationDuration="PT6S"', head = ''): string {
  const periods = body.includes('<Period') ? body : `<Period id="0" start="PT0S">${body}</Period>`;
  return `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" ${attributes}>${head}${periods}</MPD>`;
}

const videoSet = (representation: string, extra = '') => `<AdaptationSet contentType="video" mimeType="video/mp4">${extra}${representation}</AdaptationSet>`;

describe('parseMpd', () => {
  it('resolves BaseURL through MPD, Period, AdaptationSet and Representation, relative to the manifest URL', () => {
    const manifest = parseMpd(
      anMpd(
        `<Period id="0" start="PT0S"><BaseURL>period/</BaseURL>
          <AdaptationSet mimeType="video/mp4"><BaseURL>video/</BaseURL>
            <Representation id="v1" bandwidth="1000" width="640" height="360"><BaseURL>hi/</BaseURL>
              <SegmentTemplate media="seg-$Number$.m4s" initialization="init.mp4" duration="2" startNumber="1" />
            </Representation>
          </AdaptationSet></Period>`,
        'type="static" mediaPresentationDuration="PT6S"',
        '<BaseURL>../media/</BaseURL>',
      ),
      MANIFEST_URL,
    );
    const [representation] = manifest.periods[0].representations;
    assert.equal(representation.init?.url, 'https://cdn.example/shows/media/period/video/hi/init.mp4');
    assert.deepEqual(representation.segments.map((segment) => segment.url), [1, 2, 3].map((number) => `https://cdn.example/shows/media/period/video/hi/seg-${number}.m4s`));
  });

  it('lets an absolute BaseURL replace the levels above it', () => {
    const manifest = parseMpd(
      anMpd(videoSet('<Representation id="v" bandwidth="1"><BaseURL>https://other.example/x/</BaseURL><SegmentTemplate media="$Number$.m4s" duration="3" /></Representation>', '<BaseURL>ignored/</BaseURL>')),
      MANIFEST_URL,
    );
    assert.equal(manifest.periods[0].representations[0].segments[0].url, 'https://other.example/x/1.m4s');
  });

  it('keeps the first of several mirror BaseURLs as the address, and the others as mirrors of each piece', () => {
    const manifest = parseMpd(
      anMpd(
        videoSet('<Representation id="v" bandwidth="1"><SegmentTemplate media="$Number$.m4s" initialization="init.mp4" duration="3" /></Representation>'),
        undefined,
        '<BaseURL>https://a.example/</BaseURL><BaseURL>https://b.example/</BaseURL><BaseURL>https://c.example/</BaseURL>',
      ),
      MANIFEST_URL,
    );
    assert.equal(manifest.periods[0].representations.length, 1);
    const [representation] = manifest.periods[0].representations;
    assert.equal(representation.segments[0].url, 'https://a.example/1.m4s');
    assert.deepEqual(representation.segments[1].mirrors, ['https://b.example/2.m4s', 'https://c.example/2.m4s']);
    assert.deepEqual(representation.init?.mirrors, ['https://b.example/init.mp4', 'https://c.example/init.mp4']);
  });

  it('expands $Number$ with a width, $RepresentationID$ and $Bandwidth$, counting segments from @duration', () => {
    const manifest = parseMpd(
      anMpd(videoSet('<Representation id="720p" bandwidth="2500000"><SegmentTemplate timescale="1000" duration="2000" startNumber="7" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Bandwidth$/n$Number%05d$.m4s" /></Representation>'), 'type="static" mediaPresentationDuration="PT5S"'),
      MANIFEST_URL,
    );
    const [representation] = manifest.periods[0].representations;
    assert.equal(representation.init?.url, 'https://cdn.example/shows/ep1/720p/init.mp4');
    assert.deepEqual(
      representation.segments.map((segment) => segment.url.replace('https://cdn.example/shows/ep1/', '')),
      ['720p/2500000/n00007.m4s', '720p/2500000/n00008.m4s', '720p/2500000/n00009.m4s'],
    );
  });

  it('expands $Time$ from a SegmentTimeline with repeats and implicit start times', () => {
    const manifest = parseMpd(
      anMpd(videoSet('<Representation id="v" bandwidth="1"><SegmentTemplate timescale="90000" media="t$Time$.m4s" initialization="i.mp4"><SegmentTimeline><S t="1000" d="180000" r="2" /><S d="90000" /></SegmentTimeline></SegmentTemplate></Representation>')),
      MANIFEST_URL,
    );
    assert.deepEqual(
      manifest.periods[0].representations[0].segments.map((segment) => segment.url.split('/').pop()),
      ['t1000.m4s', 't181000.m4s', 't361000.m4s', 't541000.m4s'],
    );
  });

  it('numbers a SegmentTimeline from startNumber when the template uses $Number$', () => {
    const manifest = parseMpd(
      anMpd(videoSet('<Representation id="v" bandwidth="1"><SegmentTemplate timescale="10" startNumber="0" media="s$Number$.m4s"><SegmentTimeline><S t="0" d="20" r="1" /></SegmentTimeline></SegmentTemplate></Representation>')),
      MANIFEST_URL,
    );
    assert.deepEqual(manifest.periods[0].representations[0].segments.map((segment) => segment.url.split('/').pop()), ['s0.m4s', 's1.m4s']);
  });

  it('reads SegmentList media ranges and the initialization range of one file', () => {
    const manifest = parseMpd(
      anMpd(videoSet('<Representation id="v" bandwidth="1"><BaseURL>all.mp4</BaseURL><SegmentList timescale="1" duration="3"><Initialization range="0-99" /><SegmentURL mediaRange="100-199" /><SegmentURL mediaRange="200-349" /></SegmentList></Representation>')),
      MANIFEST_URL,
    );
    const [representation] = manifest.periods[0].representations;
    assert.deepEqual(representation.init, { url: 'https://cdn.example/shows/ep1/all.mp4', range: { start: 0, end: 99 } });
    assert.deepEqual(representation.segments.map((segment) => segment.range), [{ start: 100, end: 199 }, { start: 200, end: 349 }]);
  });

  it('leaves SegmentBase with an indexRange to the sidx, taking the bytes before the index as init when none is given', () => {
    const manifest = parseMpd(anMpd(videoSet('<Representation id="v" bandwidth="1"><BaseURL>one.mp4</BaseURL><SegmentBase indexRange="800-911" /></Representation>')), MANIFEST_URL);
    const [representation] = manifest.periods[0].representations;
    assert.deepEqual(representation.index, { url: 'https://cdn.example/shows/ep1/one.mp4', range: { start: 800, end: 911 } });
    assert.deepEqual(representation.init, { url: 'https://cdn.example/shows/ep1/one.mp4', range: { start: 0, end: 799 } });
    assert.deepEqual(representation.segments, []);
  });

  it('takes a SegmentBase without an index as one whole self-contained file', () => {
    const manifest = parseMpd(anMpd(videoSet('<Representation id="v" bandwidth="1"><BaseURL>one.mp4</BaseURL><SegmentBase><Initialization range="0-99" /></SegmentBase></Representation>')), MANIFEST_URL);
    const [representation] = manifest.periods[0].representations;
    assert.equal(representation.init, null);
    assert.deepEqual(representation.segments, [{ url: 'https://cdn.example/shows/ep1/one.mp4', range: null }]);
  });

  it('keeps periods apart and in order, counting each period\'s @duration segments from its own length', () => {
    const period = (id: string, start: string) =>
      `<Period id="${id}" start="${start}"><BaseURL>${id}/</BaseURL>${videoSet('<Representation id="v" bandwidth="1"><SegmentTemplate media="$Number$.m4s" duration="2" /></Representation>')}</Period>`;
    const manifest = parseMpd(anMpd(`${period('a', 'PT0S')}${period('b', 'PT4S')}`, 'type="static" mediaPresentationDuration="PT10S"'), MANIFEST_URL);
    assert.deepEqual(manifest.periods.map((each) => [each.index, each.start, each.duration]), [[0, 0, 4], [1, 4, 6]]);
    assert.deepEqual(manifest.periods.map((each) => each.representations[0].segments.length), [2, 3]);
    assert.ok(manifest.periods[1].representations[0].segments[0].url.endsWith('/b/1.m4s'));
  });

  it('does not invent a segment past the end when the division is a hair over a whole number', () => {
    const manifest = parseMpd(anMpd(videoSet('<Representation id="v" bandwidth="1"><SegmentTemplate timescale="3" media="$Number$.m4s" duration="1" /></Representation>'), 'type="static" mediaPresentationDuration="PT1.0000001S"'), MANIFEST_URL);
    assert.equal(manifest.periods[0].representations[0].segments.length, 3);
  });

  it('groups representations by adaptation set and classifies them', () => {
    const manifest = parseMpd(
      anMpd(
        `${videoSet('<Representation id="hi" bandwidth="3000" width="1280" height="720"><SegmentTemplate media="$Number$" duration="6" /></Representation><Representation id="lo" bandwidth="800" width="640" height="360"><SegmentTemplate media="$Number$" duration="6" /></Representation>')}
         <AdaptationSet mimeType="audio/mp4" lang="en"><Role schemeIdUri="urn:mpeg:dash:role:2011" value="main" /><Representation id="a" bandwidth="128000" codecs="mp4a.40.2"><SegmentTemplate media="$Number$" duration="6" /></Representation></AdaptationSet>`,
      ),
      MANIFEST_URL,
    );
    const found = manifest.periods[0].representations.map((each) => [each.id, each.kind, each.adaptationSetIndex, each.width, each.language, each.role]);
    assert.deepEqual(found, [['hi', 'video', 0, 1280, null, null], ['lo', 'video', 0, 640, null, null], ['a', 'audio', 1, null, 'en', 'main']]);
  });

  it('reports ContentProtection at any level, naming known key systems', () => {
    const manifest = parseMpd(
      anMpd(videoSet('<Representation id="v" bandwidth="1"><ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" /><ContentProtection schemeIdUri="urn:uuid:9A04F079-9840-4286-AB92-E65BE0885F95" /><SegmentTemplate media="$Number$" duration="6" /></Representation>')),
      MANIFEST_URL,
    );
    assert.deepEqual(manifest.protection, ['CENC', 'PlayReady']);
  });

  it('reads the live window of a dynamic manifest, at most the last minute of it, and its update period', () => {
    const manifest = parseMpd(
      anMpd(videoSet('<Representation id="v" bandwidth="1"><SegmentTemplate media="$Number$.m4s" duration="2" /></Representation>'), 'type="dynamic" availabilityStartTime="2020-01-01T00:00:00Z" minimumUpdatePeriod="PT4S"'),
      MANIFEST_URL,
    );
    assert.equal(manifest.dynamic, true);
    assert.equal(manifest.updatePeriod, 4);
    const { segments } = manifest.periods[0].representations[0];
    // six years of 2-second segments since availabilityStartTime: only the window of the last 60 s is listed
    assert.ok(segments.length >= 29 && segments.length <= 32, `${segments.length} segments`);
    const last = Number(/(\d+)\.m4s$/.exec(segments.at(-1)!.url)![1]);
    assert.ok(Math.abs(last - (Date.now() / 1000 - Date.UTC(2020, 0, 1) / 1000) / 2) < 3, `the window ends at segment ${last}, now`);
  });

  it('reads the ProgramInformation title', () => {
    const manifest = parseMpd(anMpd(videoSet('<Representation id="v" bandwidth="1"><SegmentTemplate media="$Number$" duration="6" /></Representation>'), undefined, '<ProgramInformation><Title> Episode 1 </Title></ProgramInformation>'), MANIFEST_URL);
    assert.equal(manifest.title, 'Episode 1');
  });

  it('refuses what is not an MPD with a PermanentError', () => {
    assert.throws(() => parseMpd('<html><body>hi</body></html>', MANIFEST_URL), (error: Error) => error instanceof PermanentError && /is not a valid DASH manifest/.test(error.message));
  });
});

describe('kindOf', () => {
  it('classifies from contentType, then mimeType, then codecs', () => {
    assert.equal(kindOf({ contentType: 'audio', mimeType: 'video/mp4' }), 'audio');
    assert.equal(kindOf({ mimeType: 'video/webm' }), 'video');
    assert.equal(kindOf({ mimeType: 'application/mp4', codecs: 'stpp.ttml.im1t' }), 'text');
    assert.equal(kindOf({ mimeType: 'application/mp4', codecs: 'hvc1.1.6.L93.90' }), 'video');
    assert.equal(kindOf({ codecs: 'ec-3' }), 'audio');
    assert.equal(kindOf({ mimeType: 'image/jpeg' }), 'other');
  });
});
