import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError, isTransient } from '../../engine/http-error.js';
import { BilibiliApiError, WbiKeyCache } from './bilibili-api.client.js';

describe('BilibiliApiError', () => {
  it("names the endpoint, the code and the API's own message, and is never retried", () => {
    const error = new BilibiliApiError('x/web-interface/view', -404, '啥都木有');
    assert.equal(error.message, 'Bilibili API x/web-interface/view answered code -404: 啥都木有');
    assert.ok(error instanceof PermanentError);
    assert.equal(isTransient(error), false);
  });

  it('adds the remedy for codes that have one', () => {
    assert.match(new BilibiliApiError('x/player/wbi/playurl', -352, '风控校验失败').message, /code -352: 风控校验失败 \(Bilibili's risk control/);
    assert.match(new BilibiliApiError('pgc/player/web/v2/playurl', -10403, '抱歉您所在地区不可观看！').message, /not available in this region/);
  });
});

describe('WbiKeyCache', () => {
  it('keeps keys for an hour', () => {
    const cache = new WbiKeyCache();
    const keys = { imgKey: 'a', subKey: 'b' };
    assert.equal(cache.get(), null);
    cache.set(keys, 1_000);
    assert.deepEqual(cache.get(1_000 + 59 * 60 * 1000), keys);
    assert.equal(cache.get(1_000 + 61 * 60 * 1000), null);
    cache.clear();
    assert.equal(cache.get(1_000), null);
  });
});
