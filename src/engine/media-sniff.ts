import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { PermanentError } from './http-error.js';

/** The containers a downloaded piece may be, by its first bytes. */
export type Container = 'mpegts' | 'mp4' | 'matroska' | 'flv' | 'aac' | 'ac3' | 'eac3' | 'mp3' | 'id3' | 'webvtt';

/** What a piece must be; `describe` names it in the failure ("segment 17 of … is not MPEG-TS"). */
export interface MediaCheck {
  accepts: ReadonlySet<Container>;
  describe: string;
}

/** An HLS segment without EXT-X-MAP: MPEG-TS, packed audio, or a self-initialising fragment. */
export const HLS_SEGMENT: MediaCheck = { accepts: new Set(['mpegts', 'aac', 'ac3', 'eac3', 'mp3', 'id3', 'mp4']), describe: 'MPEG-TS' };
/** An init section or fragment of fragmented MP4 (WebM for DASH's WebM profile). */
export const MP4_PIECE: MediaCheck = { accepts: new Set(['mp4', 'matroska', 'mpegts']), describe: 'MP4' };
/** An HLS EXT-X-MAP init section or a fragment that follows one (MPEG-TS may use EXT-X-MAP too). */
export const HLS_FRAGMENT: MediaCheck = { accepts: new Set(['mp4', 'mpegts']), describe: 'fragmented MP4' };
export const WEBVTT_PIECE: MediaCheck = { accepts: new Set(['webvtt']), describe: 'WebVTT' };

const BOX_TYPES = new Set(['ftyp', 'styp', 'moof', 'moov', 'sidx', 'emsg', 'prft', 'free', 'skip', 'mdat', 'uuid', 'wide', 'pdin', 'ssix']);

/**
 * The container the first bytes announce, or null. ffmpeg guesses formats from content too, and a
 * "segment" that is really an HLS playlist naming local files would make it read them: only known
 * media signatures pass, and the merge then names the format instead of letting ffmpeg guess.
 */
export function sniffContainer(head: Buffer): Container | null {
  if (head.length === 0) return null;
  if (head[0] === 0x47 && (head.length < 189 || head[188] === 0x47)) return 'mpegts';
  if (head.length >= 8 && BOX_TYPES.has(head.toString('latin1', 4, 8))) return 'mp4';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'matroska';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'ID3') return 'id3';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'FLV') return 'flv';
  if (head.length >= 2 && head[0] === 0x0b && head[1] === 0x77) return head.length >= 6 && head[5] >> 3 > 10 ? 'eac3' : 'ac3';
  if (head.length >= 2 && head[0] === 0xff && (head[1] & 0xf6) === 0xf0) return 'aac';
  if (head.length >= 2 && head[0] === 0xff && (head[1] & 0xe0) === 0xe0) return 'mp3';
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (text.startsWith('WEBVTT')) return 'webvtt';
  return null;
}

/** The ffmpeg demuxer for a container; an ID3-tagged packed audio segment is AAC far more often than not. */
export function ffmpegFormat(container: Container): string {
  switch (container) {
    case 'mp4':
      return 'mov';
    case 'id3':
      return 'aac';
    default:
      return container;
  }
}

/** A piece that is not the media it should be; the task fails naming it. */
export class NotMediaError extends PermanentError {
  constructor(label: string, check: MediaCheck, head: Buffer) {
    super(`${label} is not ${check.describe}: it starts with ${describeHead(head)}`);
    this.name = 'NotMediaError';
  }
}

/** Throws NotMediaError unless the first bytes are one of the accepted containers (an empty piece passes). */
export function assertMedia(head: Buffer, check: MediaCheck, label: string): void {
  if (head.length === 0) return;
  const container = sniffContainer(head);
  if (container === null || !check.accepts.has(container)) throw new NotMediaError(label, check, head);
}

/** Text as quoted text ('#EXTM3U'), anything else as hex, so the message says what came instead. */
export function describeHead(head: Buffer): string {
  const sample = head.subarray(0, 16);
  const text = sample.toString('latin1');
  if (/^[\x20-\x7e\t\r\n]+$/.test(text)) return `'${text.split(/[\r\n]/)[0].trim()}'`;
  return `the bytes ${sample.toString('hex').replace(/(..)(?!$)/g, '$1 ')}`;
}

/** A pass-through stage that checks the first bytes before any reach the file. */
export function mediaCheckStage(check: MediaCheck, label: string): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (head === null) return callback(null, chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < 189) return callback();
      const held = head;
      head = null;
      try {
        assertMedia(held, check, label);
        callback(null, held);
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      if (head === null || head.length === 0) return callback();
      try {
        assertMedia(head, check, label);
        callback(null, head);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/**
 * ffmpeg input arguments for a downloaded file, after checking its first bytes: only local files,
 * in the format the bytes announce, so ffmpeg never guesses one (and never follows a playlist).
 */
export async function checkedInput(path: string, check: MediaCheck, label: string): Promise<string[]> {
  const { container, head } = await sniffFile(path);
  if (container === null || !check.accepts.has(container)) throw new NotMediaError(label, check, head);
  return ['-protocol_whitelist', 'file', '-f', ffmpegFormat(container), '-i', path];
}

/** The container of a file already on disk, from its first bytes. */
export async function sniffFile(path: string): Promise<{ container: Container | null; head: Buffer }> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(189);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead);
    return { container: sniffContainer(head), head };
  } finally {
    await handle.close();
  }
}
