import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError } from '../../engine/http-error.js';
import { av2bv, bv2av, isBvid, parseBilibiliInput, parseBilibiliPath } from './bilibili-url.js';

// Pairs published by the site and its API documentation.
const KNOWN_PAIRS: Array<[number, string]> = [
  [1, 'BV1xx411c7mQ'],
  [2, 'BV1xx411c7mD'],
  [170001, 'BV17x411w7KC'],
  [99999999, 'BV1y7411Q7Eq'],
  [1054803170, 'BV1mH4y1u7UA'],
  [111298867365120, 'BV1L9Uoa9EUx'],
];

describe('BV ↔ av conversion', () => {
  for (const [aid, bvid] of KNOWN_PAIRS) {
    it(`av${aid} ↔ ${bvid}`, () => {
      assert.equal(av2bv(aid), bvid);
      assert.equal(bv2av(bvid), aid);
    });
  }

  it('round-trips across the whole range the scheme covers', () => {
    for (const aid of [3, 10, 4096, 2 ** 31, 2 ** 40 + 7, 2 ** 51 - 1]) {
      const bvid = av2bv(aid);
      assert.ok(isBvid(bvid), bvid);
      assert.equal(bv2av(bvid), aid);
    }
  });

  it('accepts a lower-case bv prefix and refuses what is not a BV id', () => {
    assert.equal(bv2av('bv17x411w7KC'), 170001);
    assert.throws(() => bv2av('BV17x411w7K'), RangeError);
    assert.throws(() => bv2av('BV17x411w7K0'), RangeError, '0 is not in the alphabet');
    assert.throws(() => av2bv(0), RangeError);
    assert.throws(() => av2bv(2 ** 51), RangeError);
  });
});

describe('parseBilibiliInput', () => {
  const video = (bvid: string | null, aid: number | null, page: number | null) => ({ kind: 'video', bvid, aid, page });

  it('reads video pages with BV or av ids, with or without a part', () => {
    assert.deepEqual(parseBilibiliInput('https://www.bilibili.com/video/BV17x411w7KC'), video('BV17x411w7KC', null, null));
    assert.deepEqual(parseBilibiliInput('https://www.bilibili.com/video/BV17x411w7KC/?p=2&spm_id_from=333.788'), video('BV17x411w7KC', null, 2));
    assert.deepEqual(parseBilibiliInput('http://bilibili.com/video/av170001'), video(null, 170001, null));
    assert.deepEqual(parseBilibiliInput('https://m.bilibili.com/video/AV170001?p=3'), video(null, 170001, 3));
    assert.deepEqual(parseBilibiliInput('  https://www.bilibili.com/video/bv17x411w7KC  '), video('BV17x411w7KC', null, null));
    assert.deepEqual(parseBilibiliInput('https://www.bilibili.com/s/video/BV17x411w7KC'), video('BV17x411w7KC', null, null));
  });

  it('reads bare ids', () => {
    assert.deepEqual(parseBilibiliInput('BV17x411w7KC'), video('BV17x411w7KC', null, null));
    assert.deepEqual(parseBilibiliInput('av170001'), video(null, 170001, null));
    assert.deepEqual(parseBilibiliInput('ep84002'), { kind: 'episode', epId: 84002 });
    assert.deepEqual(parseBilibiliInput('ss4001'), { kind: 'season', seasonId: 4001 });
    assert.deepEqual(parseBilibiliInput('md28220978'), { kind: 'media', mediaId: 28220978 });
  });

  it('reads bangumi episode and season pages', () => {
    assert.deepEqual(parseBilibiliInput('https://www.bilibili.com/bangumi/play/ep84002?from_spmid=666.25'), { kind: 'episode', epId: 84002 });
    assert.deepEqual(parseBilibiliInput('https://www.bilibili.com/bangumi/play/ss4001/'), { kind: 'season', seasonId: 4001 });
    assert.deepEqual(parseBilibiliInput('https://www.bilibili.com/bangumi/media/md28220978/?spm_id_from=666.25'), { kind: 'media', mediaId: 28220978 });
    // a media id is not a play page, nor a season id a media page
    assert.throws(() => parseBilibiliInput('https://www.bilibili.com/bangumi/media/ss4001'), /is not a Bilibili video or episode page/);
  });

  it('leaves short links and other hosts to be fetched', () => {
    assert.deepEqual(parseBilibiliInput('https://b23.tv/xYz123'), { kind: 'link', url: 'https://b23.tv/xYz123' });
    assert.deepEqual(parseBilibiliInput('http://127.0.0.1:8080/b23/abc'), { kind: 'link', url: 'http://127.0.0.1:8080/b23/abc' });
    // a look-alike host is not trusted as bilibili.com: it is only fetched, like any link
    assert.equal(parseBilibiliInput('https://www.bilibili.com.evil.example/video/BV17x411w7KC').kind, 'link');
  });

  it('refuses what is neither a link nor an id, and bilibili pages that are not videos', () => {
    for (const input of ['', 'hello', 'BV123', 'av', 'av0x1', 'ftp://www.bilibili.com/video/BV17x411w7KC', 'file:///etc/passwd']) {
      assert.throws(() => parseBilibiliInput(input), PermanentError, JSON.stringify(input));
    }
    assert.throws(() => parseBilibiliInput('https://space.bilibili.com/42'), /is not a Bilibili video or episode page/);
    assert.throws(() => parseBilibiliInput('https://www.bilibili.com/video/BV17x411w7KC?p=0'), /is not a part number/);
    assert.throws(() => parseBilibiliInput('https://www.bilibili.com/video/BV17x411w7KC?p=two'), /is not a part number/);
  });
});

describe('parseBilibiliPath (where a short link landed)', () => {
  it('reads the page path whatever the host', () => {
    assert.deepEqual(parseBilibiliPath(new URL('http://127.0.0.1:9/video/BV1L9Uoa9EUx/?p=2&share_source=copy_web')), { kind: 'video', bvid: 'BV1L9Uoa9EUx', aid: null, page: 2 });
    assert.deepEqual(parseBilibiliPath(new URL('https://www.bilibili.com/bangumi/play/ep1')), { kind: 'episode', epId: 1 });
    assert.equal(parseBilibiliPath(new URL('https://www.bilibili.com/')), null);
    assert.equal(parseBilibiliPath(new URL('https://www.bilibili.com/video/')), null);
    assert.equal(parseBilibiliPath(new URL('https://www.bilibili.com/bangumi/play/md28220978')), null);
  });
});
