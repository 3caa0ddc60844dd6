import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BILIBILI_REFERER, BROWSER_USER_AGENT, bilibiliHeaders } from './bilibili.downloader.js';

describe('bilibiliHeaders', () => {
  it("starts from the site's Referer and a browser User-Agent", () => {
    assert.deepEqual(bilibiliHeaders([]), [
      ['Referer', BILIBILI_REFERER],
      ['User-Agent', BROWSER_USER_AGENT],
    ]);
  });

  it("adds the task's headers, which win on conflicts whatever their case", () => {
    assert.deepEqual(bilibiliHeaders([['Cookie', 'SESSDATA=abc'], ['referer', 'https://www.bilibili.com/video/BV17x411w7KC']]), [
      ['referer', 'https://www.bilibili.com/video/BV17x411w7KC'],
      ['User-Agent', BROWSER_USER_AGENT],
      ['Cookie', 'SESSDATA=abc'],
    ]);
  });
});
