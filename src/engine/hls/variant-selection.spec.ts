import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RenditionInfo, VariantInfo } from './playlist.js';
import { chooseRendition, chooseVariant, selectStreams } from './variant-selection.js';

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
    const subtitles = aRendition({ type: 'SUBTITLES', url: 'subs' });
    const selection = selectStreams([aVariant({ bandwidth: 1, audio: [aRendition({ url: 'lo-audio' })] }), aVariant({ bandwidth: 2, audio: [audio], subtitles: [subtitles] })]);
    assert.equal(selection.audio, audio);
    assert.equal(selection.subtitles, subtitles);
  });
});
