import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { readStateFile, writeStateFile } from './task-workspace.js';

/**
 * What a segmented download (HLS, DASH) plans to put on disk, in playback order, with each segment's real
 * duration from the source: the API reads it to offer a growing local HLS playlist of the segments already
 * downloaded. Written by the sessions (HLS, DASH) into the task workspace; read by anything that plays it.
 */
export interface StreamIndex {
  version: 1;
  /** A live recording: the list grows as segments are recorded, and is never complete. */
  live: boolean;
  /** Tracks to play together: the first is the main one (video, or muxed audio+video); a second is alternate audio. */
  tracks: StreamTrackIndex[];
}

export type StreamTrackKind = 'video' | 'audio';

export interface StreamTrackIndex {
  kind: StreamTrackKind;
  /** Initialisation sections (EXT-X-MAP, a DASH init segment), paths relative to the workspace. */
  inits: string[];
  segments: StreamSegment[];
  /** Bits per second as the source announced it, when it did. */
  bandwidth?: number | null;
  codecs?: string | null;
}

export interface StreamSegment {
  /** Path relative to the workspace; a file there is complete (the segment pool renames into place). */
  file: string;
  /** Seconds, from the source playlist or manifest. */
  duration: number;
  /** Index into the track's inits, or null when the segment is self-initialising (MPEG-TS). */
  init: number | null;
  /** Timestamps or encoding may change before this segment. */
  discontinuity: boolean;
}

const INDEX_FILE = 'stream-index.json';

export function streamIndexPath(workDir: string): string {
  return join(workDir, INDEX_FILE);
}

export async function writeStreamIndex(workDir: string, index: StreamIndex): Promise<void> {
  await writeStateFile(streamIndexPath(workDir), index);
}

export async function readStreamIndex(workDir: string): Promise<StreamIndex | null> {
  const index = await readStateFile<StreamIndex>(streamIndexPath(workDir));
  return index?.version === 1 && Array.isArray(index.tracks) && index.tracks.length > 0 ? index : null;
}

/** Builds a track's index from absolute paths as a session plans them (inits deduplicated, in first-use order). */
export function trackIndex(
  workDir: string,
  kind: StreamTrackKind,
  segments: Array<{ file: string; init: string | null; duration: number; discontinuity: boolean }>,
  extra: Pick<StreamTrackIndex, 'bandwidth' | 'codecs'> = {},
): StreamTrackIndex {
  const inits: string[] = [];
  const relativeTo = (path: string) => relative(workDir, path).split(sep).join('/');
  return {
    kind,
    inits,
    segments: segments.map((segment) => {
      let init: number | null = null;
      if (segment.init) {
        const name = relativeTo(segment.init);
        init = inits.indexOf(name);
        if (init < 0) init = inits.push(name) - 1;
      }
      return { file: relativeTo(segment.file), duration: segment.duration, init, discontinuity: segment.discontinuity };
    }),
    ...extra,
  };
}

/**
 * An absolute path inside the workspace for a name read from the index, or null for one that would leave it:
 * the index is ours, but nothing read from disk is trusted to stay inside the task's directory.
 */
export function workspaceFile(workDir: string, name: string): string | null {
  if (!name || isAbsolute(name) || name.includes('\0')) return null;
  const path = join(workDir, name);
  const back = relative(workDir, path);
  return back && !back.startsWith('..') && !isAbsolute(back) ? path : null;
}

async function isFile(path: string | null): Promise<boolean> {
  return path !== null && ((await stat(path).catch(() => null))?.isFile() ?? false);
}

/** How many of the track's segments are on disk, counted from the first and stopping at the first gap (an init included). */
export async function availableSegmentCount(workDir: string, track: StreamTrackIndex): Promise<number> {
  const initsPresent = new Map<number, boolean>();
  let count = 0;
  for (const segment of track.segments) {
    if (segment.init !== null) {
      if (!initsPresent.has(segment.init)) initsPresent.set(segment.init, await isFile(workspaceFile(workDir, track.inits[segment.init] ?? '')));
      if (!initsPresent.get(segment.init)) break;
    }
    if (!(await isFile(workspaceFile(workDir, segment.file)))) break;
    count++;
  }
  return count;
}

export interface PlaylistUris {
  segment: (position: number) => string;
  init: (index: number) => string;
}

/**
 * An RFC 8216 media playlist of the first `count` segments of a track: EVENT type (a player may start at once and
 * reloads it for more), EXT-X-ENDLIST only when `ended`. Target duration covers every segment of the plan,
 * so it does not change while the list grows.
 */
export function renderMediaPlaylist(track: StreamTrackIndex, count: number, ended: boolean, uris: PlaylistUris): string {
  const longest = track.segments.reduce((max, segment) => Math.max(max, segment.duration), 0);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(longest))}`, '#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-MEDIA-SEQUENCE:0'];
  let init: number | null = null;
  for (const [position, segment] of track.segments.slice(0, count).entries()) {
    if (segment.discontinuity && position > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.init !== null && segment.init !== init) lines.push(`#EXT-X-MAP:URI="${uris.init(segment.init)}"`);
    init = segment.init;
    lines.push(`#EXTINF:${Number(segment.duration.toFixed(6))},`, uris.segment(position));
  }
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/**
 * A master playlist joining a main track with an alternate audio track, each a media playlist of its own.
 * Bandwidths add up and codecs join (an HLS source gives the whole variant's on the main track, none on the audio).
 */
export function renderMasterPlaylist(main: StreamTrackIndex, audio: StreamTrackIndex, mainUri: string, audioUri: string): string {
  const bandwidth = Math.max(1, Math.round((main.bandwidth ?? 0) + (audio.bandwidth ?? 0)));
  const codecList = [main.codecs, audio.codecs].filter(Boolean).join(',');
  const codecs = codecList ? `,CODECS="${codecList}"` : '';
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="${audioUri}"`,
    `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth}${codecs},AUDIO="audio"`,
    mainUri,
    '',
  ].join('\n');
}

/** The extension a segment is served under: players (ffmpeg's HLS demuxer among them) check it. */
export function segmentExtension(track: StreamTrackIndex, position: number): string {
  const segment = track.segments[position];
  const match = /\.([a-z0-9]{1,5})$/i.exec(segment.file);
  const extension = match?.[1].toLowerCase();
  if (extension && KNOWN_SEGMENT_EXTENSIONS.has(extension)) return extension;
  return segment.init !== null ? 'm4s' : 'ts';
}

const KNOWN_SEGMENT_EXTENSIONS = new Set(['ts', 'm4s', 'mp4', 'm4v', 'm4a', 'aac', 'mp3', 'ac3', 'eac3', 'webm', 'vtt']);
