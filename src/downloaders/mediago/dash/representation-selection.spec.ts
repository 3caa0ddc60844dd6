import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DashPeriod, DashRepresentation } from './mpd-manifest.js';
import { describeRepresentation, selectRepresentations } from './representation-selection.js';

function aRepresentation(overrides: Partial<DashRepresentation>): DashRepresentation {
  return {
    id: 'r',
    periodIndex: 0,
    adaptationSetIndex: 0,
    kind: 'video',
    bandwidth: 1000,
    width: null,
    height: null,
    codecs: null,
    mimeType: null,
    language: null,
    role: null,
    sampleRate: null,
    frameRate: null,
    init: null,
    segments: [],
    index: null,
    ...overrides,
  };
}

const aPeriod = (representations: DashRepresentation[]): DashPeriod => ({ index: 0, start: 0, duration: null, representations });

describe('selectRepresentations', () => {
  it('takes the video with the highest bandwidth', () => {
    const { video } = selectRepresentations(aPeriod([
      aRepresentation({ id: 'mid', bandwidth: 2_000_000, width: 1280, height: 720 }),
      aRepresentation({ id: 'top', bandwidth: 5_000_000, width: 1920, height: 1080 }),
      aRepresentation({ id: 'low', bandwidth: 500_000, width: 640, height: 360 }),
    ]));
    assert.equal(video?.id, 'top');
  });

  it('breaks a bandwidth tie by resolution', () => {
    const { video } = selectRepresentations(aPeriod([
      aRepresentation({ id: 'small', bandwidth: 1_000_000, width: 640, height: 360 }),
      aRepresentation({ id: 'large', bandwidth: 1_000_000, width: 1280, height: 720 }),
    ]));
    assert.equal(video?.id, 'large');
  });

  it('takes the best main audio over a richer commentary track, and ignores text', () => {
    const selection = selectRepresentations(aPeriod([
      aRepresentation({ id: 'v', kind: 'video' }),
      aRepresentation({ id: 'commentary', kind: 'audio', bandwidth: 256_000, role: 'commentary' }),
      aRepresentation({ id: 'main-lo', kind: 'audio', bandwidth: 64_000, role: 'main' }),
      aRepresentation({ id: 'main-hi', kind: 'audio', bandwidth: 128_000 }),
      aRepresentation({ id: 'subs', kind: 'text', bandwidth: 9_999_999 }),
    ]));
    assert.equal(selection.audio?.id, 'main-hi');
    assert.equal(selection.video?.id, 'v');
  });

  it('falls back to a secondary audio role when it is all there is, and allows audio-only or video-only periods', () => {
    assert.equal(selectRepresentations(aPeriod([aRepresentation({ id: 'd', kind: 'audio', role: 'description' })])).audio?.id, 'd');
    assert.equal(selectRepresentations(aPeriod([aRepresentation({ id: 'd', kind: 'audio' })])).video, null);
    assert.equal(selectRepresentations(aPeriod([aRepresentation({ id: 'v' })])).audio, null);
  });

  it('describes a choice for the log', () => {
    assert.equal(describeRepresentation(aRepresentation({ id: '1080p', bandwidth: 5_000_000, width: 1920, height: 1080, codecs: 'avc1.640028' })), 'video "1080p" 1920x1080 5000 kbit/s avc1.640028');
  });

  it('applies a maximum height and audio and subtitle languages, with a note for each fallback', () => {
    const period = aPeriod([
      aRepresentation({ id: '1080', bandwidth: 5_000_000, height: 1080 }),
      aRepresentation({ id: '720', bandwidth: 3_000_000, height: 720 }),
      aRepresentation({ id: 'en', kind: 'audio', bandwidth: 128_000, language: 'eng' }),
      aRepresentation({ id: 'zh', kind: 'audio', bandwidth: 96_000, language: 'zh-Hans' }),
      aRepresentation({ id: 'sub-zh', kind: 'text', mimeType: 'text/vtt', language: 'zh' }),
      aRepresentation({ id: 'sub-en', kind: 'text', mimeType: 'application/mp4', codecs: 'wvtt', language: 'en' }),
      aRepresentation({ id: 'sub-ja', kind: 'text', mimeType: 'application/ttml+xml', language: 'ja' }),
      aRepresentation({ id: 'sub-ko', kind: 'text', mimeType: 'application/mp4', codecs: 'stpp.ttml.im1t', language: 'ko' }),
    ]);
    const chosen = selectRepresentations(period, { quality: 900, audioLanguages: ['zh'], subtitleLanguages: ['zh', 'en', 'ja', 'ko'] });
    assert.deepEqual([chosen.video?.id, chosen.audio?.id, chosen.text.map((entry) => entry.representation.id)], ['720', 'zh', ['sub-zh', 'sub-ja', 'sub-ko']]);
    assert.deepEqual(chosen.notes, ['the en subtitles are WebVTT inside MP4 segments, which is not converted: WebVTT and TTML are saved']);
    const fallback = selectRepresentations(period, { quality: 480, audioLanguages: ['fr'], subtitleLanguages: [] });
    assert.deepEqual([fallback.video?.id, fallback.audio?.id], ['720', 'en']);
    assert.equal(fallback.notes.length, 2);
    const sound = selectRepresentations(period, { quality: 'audio', audioLanguages: [], subtitleLanguages: [] });
    assert.deepEqual([sound.video, sound.audio?.id], [null, 'en']);
  });
});
