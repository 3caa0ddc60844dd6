import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalLanguage, languageMatches, languagesProblem, parseLanguages, parseQuality, qualityProblem, storedLanguages } from './media-choice.js';

describe('media choice values', () => {
  it('reads a quality: best, audio, a height as a number, "1080" or "1080p"', () => {
    assert.equal(parseQuality('best'), 'best');
    assert.equal(parseQuality(' AUDIO '), 'audio');
    assert.equal(parseQuality(1080), 1080);
    assert.equal(parseQuality('720p'), 720);
    assert.equal(parseQuality('480'), 480);
    for (const bad of [0, -1, 1.5, 9000, '1080i', 'high', '', null, true, [720]]) assert.equal(parseQuality(bad), null, JSON.stringify(bad));
    assert.match(qualityProblem('high') ?? '', /must be "best", "audio" or a maximum picture height/);
    assert.equal(qualityProblem(1080), null);
  });

  it('reads language lists as canonical BCP-47 tags, from an array or a comma-separated string', () => {
    assert.deepEqual(parseLanguages(['eng', 'zh_hans', 'pt-br']), ['en', 'zh-Hans', 'pt-BR']);
    assert.deepEqual(parseLanguages('zh, en,zh'), ['zh', 'en'], 'duplicates dropped, order kept');
    assert.deepEqual(parseLanguages(''), []);
    assert.deepEqual(parseLanguages([]), []);
    for (const bad of [['x'], ['en fr'], 'en;fr', [1], 5, null, Array.from({ length: 21 }, () => 'en')]) assert.equal(parseLanguages(bad), null, JSON.stringify(bad));
    assert.match(languagesProblem(['x']) ?? '', /BCP-47/);
    assert.equal(canonicalLanguage('fre'), 'fr');
    assert.deepEqual([storedLanguages(null), storedLanguages(''), storedLanguages('zh,en')], [null, [], ['zh', 'en']]);
  });

  it('matches a track language against a requested range (RFC 4647 basic filtering on canonical tags)', () => {
    assert.ok(languageMatches('zh', 'zh-Hans'));
    assert.ok(languageMatches('zh', 'chi'));
    assert.ok(languageMatches('en', 'eng'));
    assert.ok(languageMatches('en', 'en-GB'));
    assert.ok(languageMatches('zh-Hans', 'zh-hans'));
    assert.ok(!languageMatches('zh-Hant', 'zh-Hans'));
    assert.ok(!languageMatches('zh-Hant', 'zh'));
    assert.ok(!languageMatches('en', 'enm'), 'Middle English is another language');
    assert.ok(!languageMatches('en', null));
  });
});
