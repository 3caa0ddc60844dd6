import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RenditionInfo, VariantInfo } from './playlist.js';
import { type StreamChoice, chooseRendition, chooseVariant, isAudioOnlyVariant, selectStreams } from './variant-selection.js';

function aVariant(overrides: Partial<VariantInfo>): VariantInfo {
  return { url: 'https://x.example/v.m3u8', bandwidth: 1000, averageBandwidth: null, resolution: null, codecs: null, audio: [], subtitles: [], ...overrides };
}

function aRendition(overrides: Partial<RenditionInfo>): RenditionInfo {
  return { type: 'AUDIO', groupId: 'a', name: 'x', language: null, isDefault: false, autoselect: false, url: 'https://x.example/a.m3u8', ...overrides };
}

describe('chooseVariant', () => {
  it('takes the highest BANDWIDTH wherever it is listed', () => {
    const best = aVariant({ url: 'hi', bandwidth: 5_000_000 });
    assert.equal(chooseVariant([aVariant({ url: 'lo', bandwidth: 800_000 }), best, aVariant({ url: 'mid', bandwidth: 2_000_000 })]), best);
  });

  it('breaks a bandwidth tie by resolution, then by AVERAGE-BANDWIDTH', () => {
    const large = aVariant({ url: 'large', resolution: { width: 1920, height: 1080 } });
    assert.equal(chooseVariant([aVariant({ url: 'small', resolution: { width: 1280, height: 720 } }), large]), large);
    const averaged = aVariant({ url: 'avg', averageBandwidth: 900 });
    assert.equal(chooseVariant([aVariant({ url: 'none' }), averaged]), averaged);
  });

  it('keeps the first of equal variants', () => {
    const first = aVariant({ url: 'first' });
    assert.equal(chooseVariant([first, aVariant({ url: 'second' })]), first);
  });
});

describe('chooseRendition', () => {
  it('prefers DEFAULT=YES, then AUTOSELECT=YES, then the first', () => {
    const preferred = aRendition({ name: 'default', isDefault: true });
    assert.equal(chooseRendition([aRendition({ name: 'auto', autoselect: true }), preferred]), preferred);
    const auto = aRendition({ name: 'auto', autoselect: true });
    assert.equal(chooseRendition([aRendition({ name: 'plain' }), auto]), auto);
    const first = aRendition({ name: 'plain' });
    assert.equal(chooseRendition([first, aRendition({ name: 'other' })]), first);
  });

  it('gives nothing when the chosen rendition rides inside the variant (no URI) or the group is empty', () => {
    assert.equal(chooseRendition([aRendition({ isDefault: true, url: null }), aRendition({})]), null);
    assert.equal(chooseRendition([]), null);
  });
});

describe('selectStreams', () => {
  it('takes audio and subtitles from the chosen variant’s own groups', () => {
    const audio = aRendition({ isDefault: true, url: 'hi-audio' });
    const subtitles = aRendition({ type: 'SUBTITLES', url: 'subs', language: 'en' });
    const selection = selectStreams([aVariant({ bandwidth: 1, audio: [aRendition({ url: 'lo-audio' })] }), aVariant({ bandwidth: 2, audio: [audio], subtitles: [subtitles] })], choice({ subtitleLanguages: ['en'] }));
    assert.equal(selection.audio, audio);
    assert.deepEqual(selection.subtitles, [{ rendition: subtitles, language: 'en' }]);
    assert.deepEqual(selection.notes, []);
  });

  const ladder = [
    aVariant({ url: '1080', bandwidth: 5_000_000, resolution: { width: 1920, height: 1080 } }),
    aVariant({ url: '720', bandwidth: 3_000_000, resolution: { width: 1280, height: 720 } }),
    aVariant({ url: '720-lo', bandwidth: 2_000_000, resolution: { width: 1280, height: 720 } }),
    aVariant({ url: '360', bandwidth: 800_000, resolution: { width: 640, height: 360 } }),
  ];

  it('takes the tallest picture not above a maximum height, the best bandwidth of that height', () => {
    assert.equal(selectStreams(ladder, choice({ quality: 720 })).variant?.url, '720');
    assert.equal(selectStreams(ladder, choice({ quality: 1000 })).variant?.url, '720');
    assert.equal(selectStreams(ladder, choice({ quality: 4320 })).variant?.url, '1080');
    assert.deepEqual(selectStreams(ladder, choice({ quality: 720 })).notes, []);
  });

  it('falls back to the smallest picture when none fits, with a note', () => {
    const selection = selectStreams(ladder, choice({ quality: 240 }));
    assert.equal(selection.variant?.url, '360');
    assert.deepEqual(selection.notes, ['no picture of at most 240 lines is offered (offered: 360p, 720p, 1080p); took the nearest, 360p']);
  });

  it('matches audio and subtitle languages as BCP-47 ranges (zh takes zh-Hans and chi), in the order of preference', () => {
    const renditions = [aRendition({ url: 'en', language: 'en', isDefault: true }), aRendition({ url: 'zh', language: 'zh-Hans' }), aRendition({ url: 'ja', language: 'jpn' })];
    const subtitles = [aRendition({ type: 'SUBTITLES', url: 's-chi', language: 'chi' }), aRendition({ type: 'SUBTITLES', url: 's-en', language: 'en-GB' })];
    const variants = [aVariant({ audio: renditions, subtitles })];
    assert.equal(selectStreams(variants, choice({ audioLanguages: ['ko', 'zh', 'ja'] })).audio?.url, 'zh');
    assert.equal(selectStreams(variants, choice({ audioLanguages: ['ja'] })).audio?.url, 'ja');
    const picked = selectStreams(variants, choice({ subtitleLanguages: ['en', 'zh', 'fr'] }));
    assert.deepEqual(picked.subtitles.map(({ rendition, language }) => [rendition.url, language]), [['s-en', 'en'], ['s-chi', 'zh']]);
    assert.deepEqual(picked.notes, ['no subtitles in fr (offered: chi, en-GB)']);
    const missing = selectStreams(variants, choice({ audioLanguages: ['de'] }));
    assert.equal(missing.audio?.url, 'en');
    assert.deepEqual(missing.notes, ['no audio in de is offered (offered: en, zh-Hans, jpn); took "x" [en]']);
  });

  it('for quality "audio": an audio-only variant, else the audio rendition alone, else the smallest variant without its picture', () => {
    const soundOnly = aVariant({ url: 'aac', bandwidth: 128_000, codecs: 'mp4a.40.2' });
    assert.equal(isAudioOnlyVariant(soundOnly), true);
    assert.equal(selectStreams([...ladder, soundOnly], choice({ quality: 'audio' })).variant?.url, 'aac');
    assert.equal(selectStreams([...ladder, soundOnly], choice()).variant?.url, '1080', 'an audio-only variant is never the best picture');
    const grouped = selectStreams([aVariant({ audio: [aRendition({ url: 'en', language: 'en', isDefault: true }), aRendition({ url: 'fr', language: 'fr' })] })], choice({ quality: 'audio', audioLanguages: ['fr'] }));
    assert.deepEqual([grouped.variant, grouped.audio?.url, grouped.audioOnly], [null, 'fr', true]);
    const inline = selectStreams(ladder, choice({ quality: 'audio' }));
    assert.equal(inline.variant?.url, '360');
    assert.equal(inline.notes.length, 1);
  });
});

function choice(overrides: Partial<StreamChoice> = {}): StreamChoice {
  return { quality: 'best', audioLanguages: [], subtitleLanguages: [], ...overrides };
}
