import HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist, Rendition, Segment, Variant } from 'hls-parser/types.js';
import { PermanentError, redactUrl } from '../http-error.js';

// the parser's default is to print every spec deviation to stderr; real-world playlists have many
HLS.setOptions({ strictMode: false, silent: true });

export interface ByteRange {
  offset: number;
  length: number;
}

export interface SegmentKey {
  /** As written in the playlist: NONE, AES-128, SAMPLE-AES, SAMPLE-AES-CTR… */
  method: string;
  /** Absolute key URL; null for METHOD=NONE. */
  url: string | null;
  /** The explicit IV, or null when it derives from the media sequence number. */
  iv: Buffer | null;
  /** KEYFORMAT; absent means "identity" (a plain key file). */
  format: string | null;
}

export interface InitSection {
  url: string;
  range: ByteRange | null;
  /**
   * The EXT-X-KEY in effect where the EXT-X-MAP tag stands (RFC 8216 §4.3.2.4: a key applies to the init
   * sections declared after it as to segments); null when the init section is clear.
   */
  key: SegmentKey | null;
  /** The media sequence number of the first segment it applies to: the IV when the key gives none. */
  sequence: number;
}

export interface MediaSegment {
  /** 0-based position in the playlist as fetched. */
  position: number;
  /** Media sequence number: position + EXT-X-MEDIA-SEQUENCE. */
  sequence: number;
  url: string;
  range: ByteRange | null;
  duration: number;
  /** EXT-X-DISCONTINUITY before this segment: timestamps and encoding may change here. */
  discontinuity: boolean;
  /** Count of discontinuities before this segment since the stream began (EXT-X-DISCONTINUITY-SEQUENCE based). */
  discontinuitySequence: number;
  key: SegmentKey | null;
  init: InitSection | null;
}

export interface MediaPlaylistInfo {
  kind: 'media';
  /** The URL that answered (after redirects); every relative URI was resolved against it. */
  url: string;
  targetDuration: number;
  mediaSequence: number;
  endList: boolean;
  segments: MediaSegment[];
}

export interface RenditionInfo {
  type: 'AUDIO' | 'SUBTITLES';
  groupId: string;
  name: string;
  language: string | null;
  isDefault: boolean;
  autoselect: boolean;
  /** Absolute playlist URL; null when the rendition is carried inside the variant's own stream. */
  url: string | null;
}

export interface VariantInfo {
  url: string;
  bandwidth: number;
  averageBandwidth: number | null;
  resolution: { width: number; height: number } | null;
  codecs: string | null;
  audio: RenditionInfo[];
  subtitles: RenditionInfo[];
}

export interface MasterPlaylistInfo {
  kind: 'master';
  url: string;
  variants: VariantInfo[];
}

export type PlaylistInfo = MasterPlaylistInfo | MediaPlaylistInfo;

/**
 * URIs (segments or variants) one playlist may list; hls-parser builds an object per entry on the main
 * thread: 50,000 take about 0.7 s and 70 MiB there (measured), and two such tasks took the service to 300 MiB;
 * 30,000 segments are 16 hours of 2-second segments.
 */
export const MAX_PLAYLIST_ENTRIES = 30_000;

/** Lines that are neither blank nor tags: the URIs the parser would expand, counted without parsing. */
export function countPlaylistUris(text: string): number {
  let count = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let first = start;
    while (first < end && (text.charCodeAt(first) === 32 || text.charCodeAt(first) === 9 || text.charCodeAt(first) === 13)) first++;
    if (first < end && text.charCodeAt(first) !== 35) count++;
    start = end + 1;
  }
  return count;
}

/** Parses a playlist fetched from `url` (the final URL after redirects) into absolute, resolved terms. */
export function parsePlaylist(text: string, url: string): PlaylistInfo {
  if (!text.trimStart().startsWith('#EXTM3U')) {
    throw new PermanentError(`${redactUrl(url)} is not an HLS playlist (it does not start with #EXTM3U)`);
  }
  const entries = countPlaylistUris(text);
  if (entries > MAX_PLAYLIST_ENTRIES) {
    throw new PermanentError(`the HLS playlist ${redactUrl(url)} lists ${entries.toLocaleString('en-US')} segments; at most ${MAX_PLAYLIST_ENTRIES.toLocaleString('en-US')} are accepted`);
  }
  let parsed: MasterPlaylist | MediaPlaylist;
  try {
    parsed = HLS.parse(text) as MasterPlaylist | MediaPlaylist;
  } catch (error) {
    throw new PermanentError(`${redactUrl(url)} is not a valid HLS playlist: ${(error as Error).message}`);
  }
  return parsed.isMasterPlaylist ? toMaster(parsed as MasterPlaylist, url) : toMedia(parsed as MediaPlaylist, url, text);
}

/** Resolves a URI from a playlist against the playlist's own URL; query strings (tokens) are kept. */
export function resolveUri(uri: string, base: string): string {
  return new URL(uri.trim(), base).toString();
}

function toMaster(playlist: MasterPlaylist, url: string): MasterPlaylistInfo {
  const variants = playlist.variants
    .filter((variant) => !variant.isIFrameOnly)
    .map((variant) => toVariant(variant, url));
  if (variants.length === 0) throw new PermanentError(`${redactUrl(url)} is a master playlist without any playable variant`);
  return { kind: 'master', url, variants };
}

function toVariant(variant: Variant, base: string): VariantInfo {
  return {
    url: resolveUri(variant.uri, base),
    bandwidth: variant.bandwidth ?? 0,
    averageBandwidth: variant.averageBandwidth ?? null,
    resolution: variant.resolution ?? null,
    codecs: variant.codecs ?? null,
    audio: variant.audio.map((rendition) => toRendition(rendition, 'AUDIO', base)),
    subtitles: variant.subtitles.map((rendition) => toRendition(rendition, 'SUBTITLES', base)),
  };
}

function toRendition(rendition: Rendition, type: RenditionInfo['type'], base: string): RenditionInfo {
  return {
    type,
    groupId: rendition.groupId,
    name: rendition.name,
    language: rendition.language ?? null,
    isDefault: Boolean(rendition.isDefault),
    autoselect: Boolean(rendition.autoselect),
    url: rendition.uri ? resolveUri(rendition.uri, base) : null,
  };
}

function toMedia(playlist: MediaPlaylist, url: string, text: string): MediaPlaylistInfo {
  const mediaSequence = playlist.mediaSequenceBase ?? 0;
  const mapKeys = initSectionKeys(text, url);
  // sequence numbers and byte offsets count every listed segment, EXT-X-GAP ones included; gaps are skipped after
  const ranges = resolveByteRanges(playlist.segments.map((segment) => ({ uri: segment.uri, byterange: segment.byterange ?? null })));
  const listed = playlist.segments.map((segment, index) => ({ segment, sequence: mediaSequence + index, range: ranges[index], afterGap: index > 0 && Boolean(playlist.segments[index - 1].gap) }));
  const kept = listed.filter(({ segment }) => !segment.gap);
  const segments = kept.map(({ segment, sequence, range, afterGap }, position): MediaSegment => ({
    position,
    sequence,
    url: resolveUri(segment.uri, url),
    range,
    duration: segment.duration ?? 0,
    discontinuity: Boolean(segment.discontinuity) || afterGap,
    discontinuitySequence: segment.discontinuitySequence ?? 0,
    key: toKey(segment, url),
    init: segment.map ? { url: resolveUri(segment.map.uri, url), range: initRange(segment.map.byterange), key: keyOfInitSection(mapKeys, sequence - mediaSequence), sequence } : null,
  }));
  return {
    kind: 'media',
    url,
    targetDuration: playlist.targetDuration || 0,
    mediaSequence,
    endList: Boolean(playlist.endlist) || playlist.playlistType === 'VOD',
    segments,
  };
}

/**
 * Gives every EXT-X-BYTERANGE an absolute offset: a range without "@offset" starts where the
 * previous range of the same resource ended (RFC 8216 §4.3.2.2), or at 0 when there is none.
 */
export function resolveByteRanges(segments: Array<{ uri: string; byterange: { length: number; offset?: number } | null }>): Array<ByteRange | null> {
  const nextOffset = new Map<string, number>();
  return segments.map(({ uri, byterange }) => {
    if (!byterange) return null;
    const offset = byterange.offset !== undefined && byterange.offset >= 0 ? byterange.offset : (nextOffset.get(uri) ?? 0);
    nextOffset.set(uri, offset + byterange.length);
    return { offset, length: byterange.length };
  });
}

function initRange(byterange: { length: number; offset?: number } | undefined): ByteRange | null {
  if (!byterange) return null;
  return { offset: byterange.offset !== undefined && byterange.offset >= 0 ? byterange.offset : 0, length: byterange.length };
}

/** Each EXT-X-MAP tag in playlist order: the index of the first segment after it, and the key in effect at the tag. */
interface MapKey {
  firstSegment: number;
  key: SegmentKey | null;
}

/**
 * hls-parser gives each segment its key and its map, but not whether the key tag came before or after the map
 * tag: that order decides whether the init section is encrypted, so the tags are read in order here.
 */
export function initSectionKeys(text: string, base: string): MapKey[] {
  const maps: MapKey[] = [];
  let key: SegmentKey | null = null;
  let segments = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      segments++;
      continue;
    }
    if (line.startsWith('#EXT-X-KEY:')) key = parseKeyTag(line.slice('#EXT-X-KEY:'.length), base);
    else if (line.startsWith('#EXT-X-MAP:')) maps.push({ firstSegment: segments, key });
  }
  return maps;
}

/** The key of the map tag in effect for the segment at `index` (counting every listed segment). */
function keyOfInitSection(maps: MapKey[], index: number): SegmentKey | null {
  let found: MapKey | null = null;
  for (const map of maps) {
    if (map.firstSegment > index) break;
    found = map;
  }
  return found?.key ?? null;
}

function parseKeyTag(attributes: string, base: string): SegmentKey | null {
  const values = new Map<string, string>();
  for (const match of attributes.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) values.set(match[1], match[2].replace(/^"|"$/g, ''));
  const method = values.get('METHOD') ?? 'NONE';
  if (method === 'NONE') return null;
  const uri = values.get('URI');
  const iv = values.get('IV');
  return {
    method,
    url: uri ? safeResolve(uri, base) : null,
    iv: iv && /^0x[0-9a-f]+$/i.test(iv) ? Buffer.from(iv.slice(2).padStart(32, '0'), 'hex') : null,
    format: values.get('KEYFORMAT') ?? null,
  };
}

function safeResolve(uri: string, base: string): string | null {
  try {
    return resolveUri(uri, base);
  } catch {
    return null;
  }
}

function toKey(segment: Segment, base: string): SegmentKey | null {
  const key = segment.key;
  if (!key || key.method === 'NONE') return null;
  return {
    method: key.method,
    url: key.uri ? resolveUri(key.uri, base) : null,
    iv: key.iv ? Buffer.from(key.iv as ArrayBuffer) : null,
    format: key.format ?? null,
  };
}

/** A readable name from the playlist URL: its file name, or its folder's when the file is a generic "index". */
export function titleFromUrl(url: string): string | undefined {
  let parts: string[];
  try {
    parts = new URL(url).pathname.split('/').filter(Boolean).map(safeDecode);
  } catch {
    return undefined;
  }
  const generic = /^(index|playlist|master|main|prog_index|chunklist.*|media.*|video|stream|manifest|hls|mono|live)$/i;
  for (let index = parts.length - 1; index >= 0; index--) {
    const stem = parts[index].replace(/\.(m3u8?|m3u)$/i, '').trim();
    if (stem && !generic.test(stem)) return stem;
  }
  return undefined;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
