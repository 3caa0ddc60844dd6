import type { MediaQuality } from '../../config/media-choice.js';
import { PermanentError } from '../../engine/http-error.js';
import { pickByHeight } from '../../engine/track-choice.js';
import type { DashStream, DurlSegment, PlayInfo } from './bilibili-api.types.js';

export type VideoCodec = 'avc' | 'hevc' | 'av1';
export type AudioFormat = 'aac' | 'dolby' | 'flac';

export interface StreamPreferences {
  /** Among streams of the same quality, earlier codecs win; codecs not listed come last. */
  videoCodecs: VideoCodec[];
  /** Also consider Dolby (E-AC-3) and Hi-Res (FLAC) audio, which beat AAC when offered. */
  specialAudio: boolean;
  /** Let HDR (quality 125) and Dolby Vision (126) win by their id; off, they come after every SDR quality. */
  highDynamicRange: boolean;
}

/** HDR10 and Dolby Vision: their colours look wrong in most players and editors without tone mapping. */
const HIGH_DYNAMIC_RANGE_QUALITIES = new Set([125, 126]);

/** AVC first because every player and editor opens it; HEVC and AV1 only when AVC is missing at the best quality. */
export const DEFAULT_STREAM_PREFERENCES: StreamPreferences = { videoCodecs: ['avc', 'hevc', 'av1'], specialAudio: true, highDynamicRange: false };

export interface DashVideo {
  id: number;
  urls: string[];
  bandwidth: number;
  codec: VideoCodec | null;
  codecs: string;
  width: number | null;
  height: number | null;
}

export interface DashAudio {
  id: number;
  urls: string[];
  bandwidth: number;
  format: AudioFormat;
  codecs: string;
}

export interface DurlPart {
  order: number;
  urls: string[];
  size: number | null;
}

export type StreamChoice =
  /** `video` null: quality "audio", the sound alone */
  | { mode: 'dash'; video: DashVideo | null; audio: DashAudio | null; notes: string[] }
  | { mode: 'durl'; quality: number | null; container: 'flv' | 'mp4'; parts: DurlPart[]; notes: string[] };

/** Picture heights of Bilibili's quality ids, for streams whose answer gives no height. */
const QUALITY_HEIGHTS: Record<number, number> = { 6: 240, 16: 360, 32: 480, 64: 720, 74: 720, 80: 1080, 100: 1080, 112: 1080, 116: 1080, 120: 2160, 125: 2160, 126: 2160, 127: 4320 };

export function heightOf(video: Pick<DashVideo, 'id' | 'height'>): number | null {
  return video.height || QUALITY_HEIGHTS[video.id] || null;
}

/** Main URL first, then the backups, without repeats or blanks. */
function urlsOf(main: string | undefined, ...backups: Array<string[] | null | undefined>): string[] {
  const all = [main, ...backups.flatMap((list) => list ?? [])].filter((url): url is string => typeof url === 'string' && url.length > 0);
  return [...new Set(all)];
}

function dashUrls(stream: DashStream): string[] {
  return urlsOf(stream.baseUrl ?? stream.base_url, stream.backupUrl, stream.backup_url);
}

/** codecid 7/12/13 is what the API says; the codecs string is the fallback when codecid is missing. */
export function videoCodecOf(stream: Pick<DashStream, 'codecid' | 'codecs'>): VideoCodec | null {
  if (stream.codecid === 7) return 'avc';
  if (stream.codecid === 12) return 'hevc';
  if (stream.codecid === 13) return 'av1';
  const codecs = (stream.codecs ?? '').toLowerCase();
  if (codecs.startsWith('avc')) return 'avc';
  if (codecs.startsWith('hev') || codecs.startsWith('hvc')) return 'hevc';
  if (codecs.startsWith('av01')) return 'av1';
  return null;
}

function codecRank(codec: VideoCodec | null, preferences: StreamPreferences): number {
  const index = codec ? preferences.videoCodecs.indexOf(codec) : -1;
  return index >= 0 ? index : preferences.videoCodecs.length;
}

function toVideo(stream: DashStream): DashVideo {
  return {
    id: stream.id ?? 0,
    urls: dashUrls(stream),
    bandwidth: stream.bandwidth ?? 0,
    codec: videoCodecOf(stream),
    codecs: stream.codecs ?? '',
    width: stream.width ?? null,
    height: stream.height ?? null,
  };
}

/** The best video: see rankVideos. */
export function chooseVideo(streams: DashStream[], preferences: StreamPreferences = DEFAULT_STREAM_PREFERENCES): DashVideo | null {
  return rankVideos(streams, preferences)[0] ?? null;
}

/**
 * Usable videos, best first: highest quality id (HDR and Dolby Vision after every SDR quality unless allowed),
 * then the preferred codec, then the highest bandwidth.
 */
export function rankVideos(streams: DashStream[], preferences: StreamPreferences = DEFAULT_STREAM_PREFERENCES): DashVideo[] {
  const candidates = streams.map(toVideo).filter((video) => video.urls.length > 0);
  const dynamicRangeRank = (video: DashVideo) => (!preferences.highDynamicRange && HIGH_DYNAMIC_RANGE_QUALITIES.has(video.id) ? 1 : 0);
  candidates.sort(
    (a, b) =>
      dynamicRangeRank(a) - dynamicRangeRank(b) ||
      b.id - a.id ||
      codecRank(a.codec, preferences) - codecRank(b.codec, preferences) ||
      b.bandwidth - a.bandwidth,
  );
  return candidates;
}

function toAudio(stream: DashStream, format: AudioFormat): DashAudio {
  return { id: stream.id ?? 0, urls: dashUrls(stream), bandwidth: stream.bandwidth ?? 0, format, codecs: stream.codecs ?? '' };
}

/** Dolby and Hi-Res (when allowed) beat AAC; within a kind, the highest bandwidth, then the highest id. */
export function chooseAudio(dash: NonNullable<PlayInfo['dash']>, preferences: StreamPreferences = DEFAULT_STREAM_PREFERENCES): DashAudio | null {
  const candidates = (dash.audio ?? []).map((stream) => toAudio(stream, 'aac'));
  if (preferences.specialAudio) {
    candidates.push(...(dash.dolby?.audio ?? []).map((stream) => toAudio(stream, 'dolby')));
    if (dash.flac?.audio) candidates.push(toAudio(dash.flac.audio, 'flac'));
  }
  const special = (audio: DashAudio) => (audio.format === 'aac' ? 0 : 1);
  const usable = candidates.filter((audio) => audio.urls.length > 0);
  usable.sort((a, b) => special(b) - special(a) || b.bandwidth - a.bandwidth || b.id - a.id);
  return usable[0] ?? null;
}

function durlContainer(info: PlayInfo, parts: DurlSegment[]): 'flv' | 'mp4' {
  if (info.format?.toLowerCase().startsWith('flv')) return 'flv';
  const path = parts[0]?.url ? safePath(parts[0].url) : '';
  return path.endsWith('.flv') ? 'flv' : 'mp4';
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname.toLowerCase();
  } catch {
    return '';
  }
}

/** DASH when the answer has a video stream; the progressive durl parts otherwise. Quality "audio" keeps the DASH audio alone. */
export function chooseStreams(info: PlayInfo, preferences: StreamPreferences = DEFAULT_STREAM_PREFERENCES, quality: MediaQuality = 'best'): StreamChoice {
  const ranked = info.dash?.video?.length ? rankVideos(info.dash.video, preferences) : [];
  // with a maximum height, the first in that order whose picture is the tallest not above it; HDR only when allowed or alone
  const standard = preferences.highDynamicRange ? ranked : ranked.filter((video) => !HIGH_DYNAMIC_RANGE_QUALITIES.has(video.id));
  const dashVideo = ranked.length > 0 ? pickByHeight(standard.length > 0 ? standard : ranked, heightOf, quality) : null;
  if (info.dash && dashVideo) {
    const audio = chooseAudio(info.dash, preferences);
    if (quality === 'audio') {
      if (!audio) throw new PermanentError('Bilibili offered no audio stream for this video, so there is nothing to save for quality "audio"');
      return { mode: 'dash', video: null, audio, notes: [] };
    }
    return { mode: 'dash', video: dashVideo.item, audio, notes: dashVideo.fallback ? [dashVideo.fallback] : [] };
  }
  const segments = (info.durl ?? []).filter((segment) => urlsOf(segment.url, segment.backupUrl, segment.backup_url).length > 0);
  if (segments.length > 0) {
    const sorted = [...segments].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    const notes = typeof quality === 'number' ? ['this video is offered only as progressive (durl) parts of one quality: the maximum height cannot be applied'] : [];
    return {
      mode: 'durl',
      notes,
      quality: info.quality ?? null,
      container: durlContainer(info, sorted),
      parts: sorted.map((segment, index) => ({
        order: segment.order ?? index + 1,
        urls: urlsOf(segment.url, segment.backupUrl, segment.backup_url),
        size: typeof segment.size === 'number' && segment.size > 0 ? segment.size : null,
      })),
    };
  }
  throw new PermanentError('Bilibili offered no playable stream (neither DASH video nor durl parts) for this video');
}

/** Parses a codec list such as "hevc,avc" for a preference override; unknown names are an error. */
export function parseCodecPreference(value: string): VideoCodec[] {
  const codecs = value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((name) => name.toLowerCase());
  for (const codec of codecs) {
    if (codec !== 'avc' && codec !== 'hevc' && codec !== 'av1') throw new Error(`unknown video codec "${codec}" (use avc, hevc, av1)`);
  }
  return codecs as VideoCodec[];
}
