import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import type { MediaSegment } from './playlist.js';
import { assertSupportedEncryption, decryptStage, segmentIv } from './segment-crypto.js';

function aSegment(key: MediaSegment['key']): MediaSegment {
  return { position: 0, sequence: 0, url: 'https://x.example/a.ts', range: null, duration: 1, discontinuity: false, discontinuitySequence: 0, key, init: null };
}

describe('segmentIv', () => {
  it('uses the explicit IV when there is one', () => {
    const iv = randomBytes(16);
    assert.equal(segmentIv({ iv }, 7), iv);
  });

  it('derives the IV from the media sequence number as a 128-bit big-endian integer', () => {
    assert.equal(segmentIv({ iv: null }, 0).toString('hex'), '0'.repeat(32));
    assert.equal(segmentIv({ iv: null }, 1).toString('hex'), `${'0'.repeat(31)}1`);
    assert.equal(segmentIv({ iv: null }, 0x1_0000_0001).toString('hex'), '00000000000000000000000100000001');
  });
});

describe('decryptStage', () => {
  it('undoes AES-128-CBC with PKCS#7 padding', async () => {
    const key = randomBytes(16);
    const iv = segmentIv({ iv: null }, 12345);
    const clear = randomBytes(188 * 50 + 3);
    const cipher = createCipheriv('aes-128-cbc', key, iv);
    const encrypted = Buffer.concat([cipher.update(clear), cipher.final()]);
    assert.deepEqual(await buffer(Readable.from([encrypted]).pipe(decryptStage(key, iv))), clear);
  });
});

describe('assertSupportedEncryption', () => {
  const url = 'https://x.example/index.m3u8?token=secret';

  it('accepts clear segments and AES-128 with a plain key', () => {
    assertSupportedEncryption([aSegment(null), aSegment({ method: 'AES-128', url: 'https://x.example/k', iv: null, format: null }), aSegment({ method: 'AES-128', url: 'https://x.example/k', iv: null, format: 'identity' })], url);
  });

  it('names SAMPLE-AES and DRM key formats, without the token', () => {
    assert.throws(() => assertSupportedEncryption([aSegment({ method: 'SAMPLE-AES', url: 'skd://k', iv: null, format: null })], url), /^PermanentError: https:\/\/x\.example\/index\.m3u8 is encrypted with METHOD=SAMPLE-AES, which is not supported/);
    assert.throws(
      () => assertSupportedEncryption([aSegment({ method: 'SAMPLE-AES-CTR', url: 'data:x', iv: null, format: 'urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed' })], url),
      /METHOD=SAMPLE-AES-CTR with KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"/,
    );
    assert.throws(() => assertSupportedEncryption([aSegment({ method: 'AES-128', url: 'skd://k', iv: null, format: 'com.apple.streamingkeydelivery' })], url), /KEYFORMAT="com\.apple\.streamingkeydelivery"/);
  });
});
