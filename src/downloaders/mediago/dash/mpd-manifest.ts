import { createRequire } from 'node:module';
import type * as MpdParser from 'mpd-parser';
import type { DashPlaylist, MpdByteRange, MpdSegment, MpdNode, MpdSegmentReference, RepresentationInfo } from 'mpd-parser';
import { PermanentError, redactUrl } from '../../../engine/http-error.js';
import { MAX_DASH_SEGMENTS, countMpdSegments, parseIsoDuration } from './segment-count.js';

/**
 * mpd-parser, with the XML parser under it (0.8 MiB of heap), loaded the first time a manifest is read: a
 * service that never meets DASH does without it.
 */
let mpdParser: typeof MpdParser | undefined;
const loadMpdParser = (): typeof MpdParser => (mpdParser ??= createRequire(import.meta.url)('mpd-parser') as typeof MpdParser);

export type DashTrackKind = 'video' | 'audio' | 'text' | 'other';

/** Inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/** One fetchable piece: a whole resource, or a byte range of it. */
export interface MediaReference {
  url: string;
  range: ByteRange | null;
  /** Seconds of media, for a media segment whose manifest or index says. */
  duration?: number;
  /** The same piece under the other BaseURLs (mirrors), in manifest order; tried in turn when `url` fails. */
  mirrors?: string[];
}

export interface DashRepresentation {
  id: string;
  periodIndex: number;
  adaptationSetIndex: number;
  kind: DashTrackKind;
  bandwidth: number;
  width: number | null;
  height: number | null;
  codecs: string | null;
  mimeType: string | null;
  language: string | null;
  /** The AdaptationSet's Role value (main, alternate, commentary…), null when none. */
  role: string | null;
  /** @audioSamplingRate in Hz, null when not given. */
  sampleRate: number | null;
  /** @frameRate in frames per second ("30000/1001" read as a number), null when not given. */
  frameRate: number | null;
  /** The initialization segment, null when the media segments are self-initialising. */
  init: MediaReference | null;
  /** Media segments in playback order; empty until `index` is resolved for SegmentBase. */
  segments: MediaReference[];
  /** SegmentBase with an indexRange: the segments are listed by the sidx box at this range. */
  index: { url: string; range: ByteRange; mirrors?: string[] } | null;
}

export interface DashPeriod {
  index: number;
  /** Seconds from the start of the presentation; null when the manifest does not say. */
  start: number | null;
  duration: number | null;
  representations: DashRepresentation[];
}

export interface DashManifest {
  url: string;
  /** MPD@type="dynamic": a live presentation whose segment list changes. */
  dynamic: boolean;
  /** ProgramInformation/Title, when given. */
  title: string | null;
  duration: number | null;
  /** Names of the protection schemes found (ContentProtection anywhere), empty for clear content. */
  protection: string[];
  /** Periods with at least one representation, in playback order; for a dynamic manifest, the live window now. */
  periods: DashPeriod[];
  /** MPD@minimumUpdatePeriod in seconds: how often a dynamic manifest should be fetched again; null when not given. */
  updatePeriod: number | null;
}

/**
 * How far back a live window is read when the manifest allows more (or does not say): a recording starts near
 * the live edge, as with HLS, and a DVR window of hours is not expanded into segments on the main thread.
 */
export const LIVE_WINDOW_SECONDS = 60;

// markers put on our copy of the DOM so that mpd-parser's flat list can be grouped again
const PERIOD_MARK = 'mediagoPeriod';
const SET_MARK = 'mediagoAdaptationSet';

const KEY_SYSTEMS: Record<string, string> = {
  'urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed': 'Widevine',
  'urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95': 'PlayReady',
  'urn:uuid:79f0049a-4098-8642-ab92-e65be0885f95': 'PlayReady',
  'urn:uuid:94ce86fb-07ff-4f43-adb8-93d2fa968ca2': 'FairPlay',
  'urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e': 'ClearKey',
  'urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b': 'ClearKey',
  'urn:uuid:f239e769-efa3-4850-9c16-a903c6932efb': 'Adobe Primetime',
  'urn:mpeg:dash:mp4protection:2011': 'CENC',
};

/**
 * Parses an MPD with mpd-parser (inheritance, BaseURL resolution, template expansion, timelines)
 * and regroups its flat output by Period and AdaptationSet. `url` is the MPD's final URL after redirects.
 */
export function parseMpd(text: string, url: string): DashManifest {
  const { stringToMpdXml, inheritAttributes, toPlaylists } = loadMpdParser();
  let mpd: MpdNode;
  try {
    mpd = stringToMpdXml(text);
  } catch (error) {
    throw new PermanentError(`${redactUrl(url)} is not a valid DASH manifest (${(error as Error).message})`);
  }
  const dynamic = (mpd.getAttribute('type') ?? 'static') === 'dynamic';
  const title = textOf(firstChild(firstChild(mpd, 'ProgramInformation'), 'Title'));
  const protection = protectionSchemes(mpd);
  const updatePeriod = parseIsoDuration(mpd.getAttribute('minimumUpdatePeriod'));
  markAdaptationSets(mpd);
  if (dynamic) boundLiveWindow(mpd);
  // counted from the attributes first: the expansion below allocates one object per segment on the main thread
  // (a live template without a length has no count here: its window is bounded above instead)
  const listed = countMpdSegments(mpd);
  if (listed > MAX_DASH_SEGMENTS && (!dynamic || Number.isFinite(listed))) {
    const count = Number.isFinite(listed) ? listed.toLocaleString('en-US') : 'an endless number of';
    throw new PermanentError(`the DASH manifest ${redactUrl(url)} lists ${count} segments; at most ${MAX_DASH_SEGMENTS.toLocaleString('en-US')} are accepted`);
  }

  let info: RepresentationInfo[];
  let playlists: DashPlaylist[];
  let mirrorsOf: Map<number, number[]>;
  try {
    info = inheritAttributes(mpd, { manifestUri: url, NOW: Date.now(), clientOffset: 0 }).representationInfo;
    mirrorsOf = groupBaseUrls(info);
    fillPeriodDurations(info);
    playlists = toPlaylists(info);
  } catch (error) {
    throw new PermanentError(`the DASH manifest ${redactUrl(url)} could not be read (${(error as Error).message})`);
  }
  const duration = numberOr(info[0]?.attributes.sourceDuration, null) || null;
  const periods = new Map<number, DashPeriod>();
  playlists.forEach((playlist, position) => {
    const mirrorPositions = mirrorsOf.get(position);
    if (!mirrorPositions) return;
    const representation = withMirrors(
      toRepresentation(playlist, info[position]),
      mirrorPositions.map((mirror) => toRepresentation(playlists[mirror], info[mirror])),
    );
    let period = periods.get(representation.periodIndex);
    if (!period) {
      period = {
        index: representation.periodIndex,
        start: numberOr(playlist.attributes.periodStart, null),
        duration: numberOr(playlist.attributes.periodDuration, null),
        representations: [],
      };
      periods.set(representation.periodIndex, period);
    }
    period.representations.push(representation);
  });
  return { url, dynamic, title, duration, protection, periods: [...periods.values()].sort((a, b) => a.index - b.index), updatePeriod };
}

/** Classifies a representation from its contentType, mimeType and codecs. */
export function kindOf(attributes: { contentType?: unknown; mimeType?: unknown; codecs?: unknown }): DashTrackKind {
  const contentType = stringOr(attributes.contentType, '').toLowerCase();
  if (contentType === 'video' || contentType === 'audio' || contentType === 'text') return contentType;
  const mime = stringOr(attributes.mimeType, '').toLowerCase();
  const codecs = stringOr(attributes.codecs, '').toLowerCase();
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime.startsWith('text/') || mime.includes('ttml') || /\b(stpp|wvtt)/.test(codecs)) return 'text';
  if (/\b(avc[1-4]|hvc1|hev1|vp0?[89]|av01|dvh[e1]|dva[v1])/.test(codecs)) return 'video';
  if (/\b(mp4a|opus|ac-[34]|ec-3|flac|dts[cehl]|mhm[12])/.test(codecs)) return 'audio';
  return 'other';
}

function toRepresentation(playlist: DashPlaylist, info: RepresentationInfo): DashRepresentation {
  const attributes = playlist.attributes;
  const base: Omit<DashRepresentation, 'init' | 'segments' | 'index'> = {
    id: stringOr(attributes.id, ''),
    periodIndex: Number(attributes[PERIOD_MARK] ?? 0),
    adaptationSetIndex: Number(attributes[SET_MARK] ?? 0),
    kind: kindOf(attributes),
    bandwidth: numberOr(attributes.bandwidth, 0) ?? 0,
    width: numberOr(attributes.width, null),
    height: numberOr(attributes.height, null),
    codecs: stringOr(attributes.codecs, null),
    mimeType: stringOr(attributes.mimeType, null),
    language: stringOr(attributes.lang, null),
    role: stringOr((attributes.role as { value?: unknown } | undefined)?.value, null),
    sampleRate: numberOr(attributes.audioSamplingRate, null),
    frameRate: frameRateOf(attributes.frameRate),
  };
  if (playlist.sidx) {
    const index = { url: playlist.sidx.resolvedUri, range: toRange(playlist.sidx.byterange)! };
    const map = playlist.sidx.map;
    // without an Initialization range, the init section is everything before the index (ftyp + moov)
    const init = map && (map.byterange || map.resolvedUri !== index.url) ? reference(map) : index.range.start > 0 ? { url: index.url, range: { start: 0, end: index.range.start - 1 } } : null;
    return { ...base, init, segments: [], index };
  }
  if (info.segmentInfo.base) {
    // SegmentBase without an index: the one segment is the whole self-contained file
    return { ...base, init: null, segments: (playlist.segments ?? []).map((segment) => ({ url: segment.resolvedUri, range: null })), index: null };
  }
  if (!playlist.segments) {
    // only a BaseURL (a side-loaded WebVTT file, a plain MP4): the whole resource is the one segment
    const whole = stringOr(attributes.baseUrl, null);
    return { ...base, init: null, segments: whole ? [{ url: whole, range: null }] : [], index: null };
  }
  const first = playlist.segments.find((segment) => segment.map?.resolvedUri);
  const init = first?.map ? reference(first.map) : null;
  const segments = trimToPeriod(playlist.segments, playlist, info).map((segment) => ({ ...reference(segment), duration: segment.duration }));
  return { ...base, init, segments, index: null };
}

/**
 * A SegmentTemplate with @duration gives a count from a float division: a result a hair above a whole
 * number adds a segment past the end that the server does not have.
 */
function trimToPeriod(segments: MpdSegment[], playlist: DashPlaylist, info: RepresentationInfo): MpdSegment[] {
  if (!info.segmentInfo.template || info.segmentInfo.segmentTimeline) return segments;
  const length = numberOr(playlist.attributes.periodDuration, null) ?? numberOr(playlist.attributes.sourceDuration, null);
  if (!length) return segments;
  let start = 0;
  return segments.filter((segment) => {
    const keep = start < length - 0.001;
    start += segment.duration;
    return keep;
  });
}

function reference(segment: MpdSegmentReference): MediaReference {
  return { url: segment.resolvedUri, range: toRange(segment.byterange) };
}

function toRange(byterange: MpdByteRange | undefined): ByteRange | null {
  if (!byterange) return null;
  const start = Number(byterange.offset);
  return { start, end: start + Number(byterange.length) - 1 };
}

/**
 * Several BaseURLs (mirrors) make mpd-parser repeat a representation once per mirror: the first copy is the
 * representation, the others its mirrors. Maps the position of each first copy to the positions of its mirrors.
 */
function groupBaseUrls(info: RepresentationInfo[]): Map<number, number[]> {
  const firsts = new Map<string, number>();
  const groups = new Map<number, number[]>();
  info.forEach((entry, position) => {
    const { attributes } = entry;
    const key = `${String(attributes[PERIOD_MARK])}/${String(attributes[SET_MARK])}/${String(attributes.id ?? position)}`;
    const first = firsts.get(key);
    if (first === undefined) {
      firsts.set(key, position);
      groups.set(position, []);
    } else groups.get(first)!.push(position);
  });
  return groups;
}

/** Gives each piece of a representation the same piece's URL under every mirror BaseURL (where the lists line up). */
export function withMirrors(representation: DashRepresentation, mirrors: DashRepresentation[]): DashRepresentation {
  if (mirrors.length === 0) return representation;
  const alternates = (own: string, others: Array<string | undefined>) => [...new Set(others.filter((url): url is string => typeof url === 'string' && url !== own))];
  const { init, index, segments } = representation;
  return {
    ...representation,
    init: init ? { ...init, mirrors: alternates(init.url, mirrors.map((mirror) => mirror.init?.url)) } : null,
    index: index ? { ...index, mirrors: alternates(index.url, mirrors.map((mirror) => mirror.index?.url)) } : null,
    segments: segments.map((segment, position) => ({
      ...segment,
      mirrors: alternates(
        segment.url,
        mirrors.map((mirror) => (mirror.segments.length === segments.length ? mirror.segments[position]?.url : undefined)),
      ),
    })),
  };
}

/**
 * mpd-parser counts @duration-template segments of a period from Period@duration, else from the whole
 * presentation: give every period its real length (next start minus its start) so that periods do not overrun.
 */
function fillPeriodDurations(info: RepresentationInfo[]): void {
  const starts = new Map<number, number | null>();
  for (const { attributes } of info) starts.set(Number(attributes[PERIOD_MARK]), numberOr(attributes.periodStart, null));
  const order = [...starts.keys()].sort((a, b) => a - b);
  for (const { attributes } of info) {
    if (typeof attributes.periodDuration === 'number') continue;
    const period = Number(attributes[PERIOD_MARK]);
    const start = starts.get(period);
    const next = order.find((candidate) => candidate > period);
    const end = next !== undefined ? starts.get(next) : numberOr(attributes.sourceDuration, null);
    if (typeof start === 'number' && typeof end === 'number' && end > start) attributes.periodDuration = end - start;
  }
}

function boundLiveWindow(mpd: MpdNode): void {
  const depth = parseIsoDuration(mpd.getAttribute('timeShiftBufferDepth'));
  if (depth === null || !(depth <= LIVE_WINDOW_SECONDS)) mpd.setAttribute('timeShiftBufferDepth', `PT${LIVE_WINDOW_SECONDS}S`);
}

function markAdaptationSets(mpd: MpdNode): void {
  childElements(mpd, 'Period').forEach((period, periodIndex) => {
    childElements(period, 'AdaptationSet').forEach((set, setIndex) => {
      set.setAttribute(PERIOD_MARK, String(periodIndex));
      set.setAttribute(SET_MARK, String(setIndex));
    });
  });
}

/** Every ContentProtection element, at any level (mpd-parser only reports known key systems on AdaptationSets). */
function protectionSchemes(mpd: MpdNode): string[] {
  const names = new Set<string>();
  const nodes = mpd.getElementsByTagName('ContentProtection');
  for (let index = 0; index < nodes.length; index++) {
    const scheme = (nodes[index].getAttribute('schemeIdUri') ?? '').trim().toLowerCase();
    names.add(KEY_SYSTEMS[scheme] ?? (scheme || 'unnamed scheme'));
  }
  return [...names];
}

function childElements(node: MpdNode | null, name: string): MpdNode[] {
  if (!node) return [];
  return Array.from(node.childNodes).filter((child) => child.nodeType === 1 && child.tagName === name);
}

function firstChild(node: MpdNode | null, name: string): MpdNode | null {
  return childElements(node, name)[0] ?? null;
}

function textOf(node: MpdNode | null): string | null {
  const value = node?.textContent?.trim();
  return value ? value : null;
}

function frameRateOf(value: unknown): number | null {
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+)\s*)?$/.exec(value) : null;
  const rate = match ? Number(match[1]) / Number(match[2] ?? 1) : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(rate) && rate > 0 && rate <= 300 ? rate : null;
}

function numberOr<T>(value: unknown, fallback: T): number | T {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : fallback;
}

function stringOr<T>(value: unknown, fallback: T): string | T {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}
