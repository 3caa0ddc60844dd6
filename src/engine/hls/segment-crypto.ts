import { createDecipheriv } from 'node:crypto';
import type { Transform } from 'node:stream';
import type { HeaderPairs, HttpClient } from '../http-client.js';
import { PermanentError, redactUrl } from '../http-error.js';
import type { MediaSegment, SegmentKey } from './playlist.js';

const IDENTITY_FORMATS = new Set(['identity', '']);

/** Fails with a sentence naming the method when a segment uses encryption we cannot undo (SAMPLE-AES, DRM). */
export function assertSupportedEncryption(segments: MediaSegment[], playlistUrl: string): void {
  for (const key of segments.flatMap((segment) => [segment.key, segment.init?.key ?? null])) {
    if (!key) continue;
    const format = key.format ?? 'identity';
    if (key.method !== 'AES-128' || !IDENTITY_FORMATS.has(format.toLowerCase())) {
      const formatText = key.format ? ` with KEYFORMAT="${key.format}"` : '';
      throw new PermanentError(
        `${redactUrl(playlistUrl)} is encrypted with METHOD=${key.method}${formatText}, which is not supported ` +
          '(only unencrypted streams and METHOD=AES-128 with a plain key file can be downloaded; DRM-protected streams cannot)',
      );
    }
    if (!key.url) throw new PermanentError(`${redactUrl(playlistUrl)} has an EXT-X-KEY METHOD=AES-128 without a URI`);
  }
}

/** The IV of a segment: the explicit one, else the media sequence number as a 128-bit big-endian integer (RFC 8216 §5.2). */
export function segmentIv(key: Pick<SegmentKey, 'iv'>, sequence: number): Buffer {
  if (key.iv) {
    if (key.iv.length !== 16) throw new PermanentError(`an EXT-X-KEY IV must be 16 bytes, got ${key.iv.length}`);
    return key.iv;
  }
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(sequence), 8);
  return iv;
}

/** The AES-128-CBC decipher for one segment (PKCS#7 padding removed). */
export function decryptStage(key: Buffer, iv: Buffer): Transform {
  return createDecipheriv('aes-128-cbc', key, iv);
}

/** Fetches each key URI once per task (with the task's headers) and shares it between segments. */
export class KeyStore {
  private readonly keys = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly http: HttpClient,
    private readonly headers: HeaderPairs,
    private readonly signal: AbortSignal,
  ) {}

  get(url: string): Promise<Buffer> {
    let key = this.keys.get(url);
    if (!key) {
      key = this.fetch(url);
      // a failed fetch must not poison later tries
      key.catch(() => this.keys.delete(url));
      this.keys.set(url, key);
    }
    return key;
  }

  /** The body stages that decrypt a segment, or none for a clear one. */
  async stagesFor(segment: { key: SegmentKey | null; sequence: number }): Promise<Transform[]> {
    if (!segment.key?.url) return [];
    return [decryptStage(await this.get(segment.key.url), segmentIv(segment.key, segment.sequence))];
  }

  private async fetch(url: string): Promise<Buffer> {
    const { data } = await this.http.fetchBuffer(url, { headers: this.headers, signal: this.signal, maxBytes: 4096 });
    if (data.length !== 16) {
      throw new PermanentError(`the AES-128 key at ${redactUrl(url)} is ${data.length} bytes long instead of 16 (an error page, or a wrong Referer/Cookie header?)`);
    }
    return data;
  }
}
