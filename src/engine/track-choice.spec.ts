import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileLanguage, offeredLanguages, pickByHeight, pickByLanguage, pickEachLanguage } from './track-choice.js';

const heights = [{ id: 'a', h: 1080 }, { id: 'b', h: 720 }, { id: 'c', h: 720 }, { id: 'd', h: null }, { id: 'e', h: 360 }];
const heightOf = (candidate: { h: number | null }) => candidate.h;

describe('pickByHeight', () => {
  it('takes the first for best, the first of the tallest not above a height, else the smallest with a note', () => {
    assert.deepEqual(pickByHeight(heights, heightOf, 'best'), { item: heights[0], fallback: null });
    assert.equal(pickByHeight(heights, heightOf, 720).item.id, 'b');
    assert.equal(pickByHeight(heights, heightOf, 719).item.id, 'e');
    const below = pickByHeight(heights, heightOf, 100);
    assert.equal(below.item.id, 'e');
    assert.equal(below.fallback, 'no picture of at most 100 lines is offered (offered: 360p, 720p, 1080p); took the nearest, 360p');
    const unknown = pickByHeight([{ h: null }, { h: null }], heightOf, 480);
    assert.equal(unknown.item, unknown.item);
    assert.match(unknown.fallback ?? '', /no picture height is given/);
    assert.throws(() => pickByHeight([], heightOf, 'best'));
  });
});

describe('language picks', () => {
  const tracks = [{ id: 1, lang: 'en' }, { id: 2, lang: 'zh-Hant' }, { id: 3, lang: 'zh-Hans' }, { id: 4, lang: null }];
  const langOf = (track: { lang: string | null }) => track.lang;

  it('takes the first preferred language that is offered', () => {
    assert.deepEqual(pickByLanguage(tracks, langOf, ['ja', 'zh-Hans', 'en']), { item: tracks[2], language: 'zh-Hans' });
    assert.equal(pickByLanguage(tracks, langOf, ['ko']), null);
    assert.equal(pickByLanguage(tracks, langOf, []), null);
  });

  it('takes one track per requested language, each once, and names the missing ones', () => {
    const { picked, missing } = pickEachLanguage(tracks, langOf, ['zh', 'zh', 'en', 'fr']);
    assert.deepEqual(picked.map((entry) => [entry.item.id, entry.language]), [[2, 'zh'], [3, 'zh'], [1, 'en']]);
    assert.deepEqual(missing, ['fr']);
    assert.equal(offeredLanguages(['en', null, 'en']), 'en, unnamed');
    assert.equal(offeredLanguages([]), 'none');
    assert.equal(fileLanguage('zh-Hant', 'zh'), 'zh-Hant');
    assert.equal(fileLanguage(null, 'zh'), 'zh');
    assert.equal(fileLanguage('../x', 'zh'), 'zh', 'never a path');
  });
});
