import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DOWNLOAD_TYPES, DownloadType } from '../../common/download-type.enum.js';
import { urlProblem } from './validators.js';

const NOT_HTTP = 'must be an http(s):// URL';
const NOT_HTTP_OR_ID = 'must be an http(s):// URL or a BV…/av… id';
const WRONG_SCHEME = 'must use http:// or https://';
const EMPTY = 'must be a non-empty string';

describe('urlProblem', () => {
  for (const type of DOWNLOAD_TYPES) {
    describe(`for type ${type}`, () => {
      it('accepts http and https URLs, trimmed', () => {
        for (const url of ['http://example.com/a.mp4', 'https://example.com/a.m3u8?token=x#t=1', '  https://127.0.0.1:8080/x  ', 'HTTPS://EXAMPLE.COM/']) {
          assert.equal(urlProblem(url, type), null, url);
        }
      });

      it('refuses other schemes', () => {
        for (const url of ['ftp://example.com/a.mp4', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hi', 'ws://example.com/']) {
          assert.equal(urlProblem(url, type), WRONG_SCHEME, url);
        }
      });

      it('refuses empty values and non-strings', () => {
        for (const url of ['', '   ', undefined, null, 42, ['https://example.com/'], {}]) assert.equal(urlProblem(url, type), EMPTY, JSON.stringify(url));
      });

      it('refuses more than 8192 characters', () => {
        const base = 'https://example.com/';
        assert.equal(urlProblem(base + 'a'.repeat(8192 - base.length), type), null);
        assert.equal(urlProblem(base + 'a'.repeat(8193 - base.length), type), 'must be at most 8192 characters');
      });
    });
  }

  it('refuses text that is not a URL, naming what is wanted', () => {
    for (const type of DOWNLOAD_TYPES.filter((value) => value !== DownloadType.Bilibili)) {
      assert.equal(urlProblem('example.com/video.mp4', type), NOT_HTTP, type);
      assert.equal(urlProblem('not a url', type), NOT_HTTP, type);
    }
    assert.equal(urlProblem('example.com/video', DownloadType.Bilibili), NOT_HTTP_OR_ID);
  });

  describe('bilibili bare ids', () => {
    it('accepts BV ids of ten characters and av ids, in either case, trimmed', () => {
      for (const id of ['BV1xx411c7mD', 'BV17x411w7KC', 'bv1xx411c7mD', 'av170001', 'AV170001', 'av1', ' BV1xx411c7mD ']) {
        assert.equal(urlProblem(id, DownloadType.Bilibili), null, id);
      }
    });

    it('refuses malformed ids', () => {
      for (const id of ['BV1xx411c7m', 'BV1xx411c7mDD', 'BV1xx411c7m!', 'av', 'av12a', 'ep12345', 'BV 1xx411c7mD']) {
        assert.equal(urlProblem(id, DownloadType.Bilibili), NOT_HTTP_OR_ID, id);
      }
    });

    it('accepts a bare id only for the bilibili type', () => {
      for (const type of DOWNLOAD_TYPES.filter((value) => value !== DownloadType.Bilibili)) {
        assert.equal(urlProblem('BV1xx411c7mD', type), NOT_HTTP, type);
        assert.equal(urlProblem('av170001', type), NOT_HTTP, type);
      }
      assert.equal(urlProblem('BV1xx411c7mD', undefined), NOT_HTTP);
    });

    it('accepts bilibili page URLs', () => {
      assert.equal(urlProblem('https://www.bilibili.com/video/BV1xx411c7mD?p=2', DownloadType.Bilibili), null);
      assert.equal(urlProblem('https://b23.tv/abc', DownloadType.Bilibili), null);
    });
  });
});
