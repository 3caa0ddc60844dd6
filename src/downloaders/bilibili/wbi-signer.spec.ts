import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MIXIN_KEY_TABLE, mixinKey, signWbi, wbiKeyFromUrl } from './wbi-signer.js';

// The public example of the WBI documentation.
const KEYS = { imgKey: '7cd084941338484aae1ad9425b84077c', subKey: '4932caff0ff746eab6f01bf08b70ac45' };

describe('WBI signing', () => {
  it('uses a table that is a permutation of the 64 key positions', () => {
    assert.equal(MIXIN_KEY_TABLE.length, 64);
    assert.deepEqual([...MIXIN_KEY_TABLE].sort((a, b) => a - b), Array.from({ length: 64 }, (_, index) => index));
  });

  it('derives the documented mixin key', () => {
    assert.equal(mixinKey(KEYS), 'ea1db124af3c7062474693fa704f4ff8');
    // the same key, computed by hand from the table: character i of the mixin key is raw[table[i]]
    const raw = KEYS.imgKey + KEYS.subKey;
    assert.equal(mixinKey(KEYS), MIXIN_KEY_TABLE.slice(0, 32).map((index) => raw[index]).join(''));
  });

  it('signs the documented example', () => {
    assert.equal(signWbi({ foo: '114', bar: '514', zab: 1919810 }, KEYS, 1702204169), 'bar=514&foo=114&wts=1702204169&zab=1919810&w_rid=8f6f2b5b3d485fe1886cec6a0be8c5d4');
  });

  it("sorts keys, drops !'()* from values and percent-encodes the rest before hashing", () => {
    const signed = signWbi({ keyword: "a (b)*c!'d", cid: 1, bvid: 'BV17x411w7KC', web_location: 1315873 }, KEYS, 1700000000);
    const expectedQuery = 'bvid=BV17x411w7KC&cid=1&keyword=a%20bcd&web_location=1315873&wts=1700000000';
    assert.ok(signed.startsWith(`${expectedQuery}&w_rid=`), signed);
    const wRid = createHash('md5').update(expectedQuery + 'ea1db124af3c7062474693fa704f4ff8').digest('hex');
    assert.equal(signed, `${expectedQuery}&w_rid=${wRid}`);
  });

  it('stamps the current time when no wts is given', () => {
    const before = Math.round(Date.now() / 1000);
    const wts = Number(new URLSearchParams(signWbi({ a: 1 }, KEYS)).get('wts'));
    assert.ok(wts >= before - 1 && wts <= Math.round(Date.now() / 1000) + 1);
  });

  it('reads a key from the nav answer image URLs', () => {
    assert.equal(wbiKeyFromUrl('https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png'), KEYS.imgKey);
    assert.equal(wbiKeyFromUrl('https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45'), KEYS.subKey);
  });
});
