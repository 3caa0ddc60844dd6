/** What a URL turned out to be. */
export type MediaKind = 'hls' | 'dash' | 'file' | 'html' | 'unknown';

export interface ProbeInput {
  /** The Content-Type header as sent (parameters allowed), null when absent. */
  contentType: string | null;
  /** The URL that answered (after redirects). */
  url: string;
  /** The first bytes of the body (a few KiB are enough). */
  head: Buffer;
}

export interface ProbeDecision {
  kind: MediaKind;
  /** What gave it away, for the task log: "bytes", "content type" or "extension". */
  by: 'bytes' | 'content type' | 'extension' | 'nothing';
}

const HLS_TYPES = new Set(['application/vnd.apple.mpegurl', 'application/x-mpegurl', 'audio/mpegurl', 'audio/x-mpegurl', 'application/mpegurl']);
const DASH_TYPES = new Set(['application/dash+xml', 'video/vnd.mpeg.dash.mpd']);
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const HLS_EXTENSIONS = new Set(['m3u8', 'm3u']);
const DASH_EXTENSIONS = new Set(['mpd']);
const MEDIA_EXTENSIONS = new Set([
  'mp4', 'm4v', 'm4a', 'mov', 'mkv', 'webm', 'weba', 'avi', 'flv', 'ts', 'mts', 'm2ts', 'mpg', 'mpeg', 'wmv', 'asf', '3gp',
  'mp3', 'aac', 'ogg', 'oga', 'ogv', 'opus', 'wav', 'flac', 'wma', 'srt', 'vtt', 'ass',
]);
// text-like answers that are not media: an API error, a JSON document, a script
const TEXT_TYPES = /^(text\/|application\/(json|.*\+json|javascript|ecmascript|xml|.*\+xml)$)/;

/**
 * Decides what a URL serves from its first bytes, then its Content-Type, then its extension.
 * The bytes win because servers often label playlists text/plain or application/octet-stream,
 * and a media URL that answers with an HTML error or login page must not be saved as the video.
 */
export function decideMediaKind(input: ProbeInput): ProbeDecision {
  const sniffed = sniff(input.head);
  if (sniffed) return { kind: sniffed, by: 'bytes' };
  const type = (input.contentType ?? '').split(';')[0].trim().toLowerCase();
  const textual = isText(input.head);
  if (HLS_TYPES.has(type)) return { kind: 'hls', by: 'content type' };
  if (DASH_TYPES.has(type)) return { kind: 'dash', by: 'content type' };
  if (HTML_TYPES.has(type)) return { kind: 'html', by: 'content type' };
  const extension = extensionOf(input.url);
  if (extension && HLS_EXTENSIONS.has(extension) && textual) return { kind: 'hls', by: 'extension' };
  if (extension && DASH_EXTENSIONS.has(extension) && textual) return { kind: 'dash', by: 'extension' };
  if (type.startsWith('video/') || type.startsWith('audio/') || type.startsWith('image/')) return { kind: 'file', by: 'content type' };
  if (extension && MEDIA_EXTENSIONS.has(extension)) return { kind: 'file', by: 'extension' };
  // a binary body that no rule above claimed (octet-stream, archives, unknown types) is a plain file
  if (!textual && !TEXT_TYPES.test(type)) return { kind: 'file', by: input.head.length > 0 ? 'bytes' : 'content type' };
  return { kind: 'unknown', by: 'nothing' };
}

/** Recognises a manifest, a web page or a media container by its signature. */
export function sniff(head: Buffer): MediaKind | null {
  if (head.length === 0) return null;
  if (hasMediaSignature(head)) return 'file';
  const text = head.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('#EXTM3U')) return 'hls';
  // the MPD root follows an optional XML declaration and comments
  const body = text.replace(/^(<\?xml[^>]*\?>\s*|<!--[\s\S]*?-->\s*)*/i, '');
  if (/^<(\w+:)?MPD[\s>]/.test(body)) return 'dash';
  if (/^<!doctype\s+html|^<(html|head|body|meta|title|script|div|iframe)[\s>]/i.test(body)) return 'html';
  return null;
}

function hasMediaSignature(head: Buffer): boolean {
  const ascii = (start: number, end: number) => head.toString('latin1', start, end);
  return (
    (head.length >= 8 && ['ftyp', 'styp', 'moov', 'moof', 'sidx', 'free', 'mdat'].includes(ascii(4, 8))) ||
    head.subarray(0, 4).equals(Buffer.from([0x1a, 0x45, 0xdf, 0xa3])) || // Matroska / WebM
    ascii(0, 3) === 'FLV' ||
    ascii(0, 3) === 'ID3' ||
    ascii(0, 4) === 'OggS' ||
    ascii(0, 4) === 'fLaC' ||
    (ascii(0, 4) === 'RIFF' && ['AVI ', 'WAVE'].includes(ascii(8, 12))) ||
    (head[0] === 0xff && head.length > 1 && (head[1] & 0xf6) === 0xf0) || // AAC ADTS
    (head[0] === 0xff && head.length > 1 && (head[1] & 0xe0) === 0xe0 && (head[1] & 0x06) !== 0) || // MPEG audio
    (head.length > 376 && head[0] === 0x47 && head[188] === 0x47 && head[376] === 0x47) // MPEG-TS sync bytes
  );
}

/** True when the bytes read as text: no NUL and no other control characters but whitespace. */
export function isText(head: Buffer): boolean {
  const sample = head.subarray(0, 1024);
  for (const byte of sample) {
    if (byte === 0 || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c)) return false;
  }
  return true;
}

function extensionOf(url: string): string | null {
  try {
    const last = new URL(url).pathname.split('/').pop() ?? '';
    const dot = last.lastIndexOf('.');
    return dot > 0 ? last.slice(dot + 1).toLowerCase() : null;
  } catch {
    return null;
  }
}
