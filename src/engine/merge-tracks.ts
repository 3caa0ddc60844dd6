import { open, rename, rm, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { runFfmpeg } from './ffmpeg.js';
import { PermanentError } from './http-error.js';
import { describeHead, ffmpegFormat, sniffFile } from './media-sniff.js';

/** One downloaded segment file of a track, in playback order. */
export interface TrackSegmentFile {
  file: string;
  /** The fMP4 init section (EXT-X-MAP) file that applies to it; null for MPEG-TS. */
  init: string | null;
  /** Starts a new discontinuity group (new timestamps, maybe new encoding). */
  discontinuity: boolean;
}

export interface TrackFiles {
  kind: 'video' | 'audio';
  segments: TrackSegmentFile[];
}

/** What ffmpeg reads for one track: a joined file, or a concat list of joined files when there were discontinuities. */
export interface MuxInput {
  path: string;
  concat: boolean;
  /** The demuxer ffmpeg must use for a single file (named, never guessed); ignored for a concat list. */
  format?: string | null;
}

export interface MergeOptions {
  ffmpeg: string | null;
  workDir: string;
  /** Base name of the output inside workDir, without extension. */
  baseName: string;
  video: TrackFiles;
  audio: TrackFiles | null;
  /** A merged WebVTT file to add as a text track; null for none. */
  subtitles: string | null;
  /** Keep the sound alone (quality "audio"): the picture is dropped and the file is an .m4a. */
  audioOnly?: boolean;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface MergeResult {
  path: string;
  extension: string;
}

/** Splits a track at its discontinuities; the first segment never opens an empty group. */
export function groupByDiscontinuity<T extends { discontinuity: boolean }>(segments: T[]): T[][] {
  const groups: T[][] = [];
  for (const segment of segments) {
    if (groups.length === 0 || segment.discontinuity) groups.push([]);
    groups[groups.length - 1].push(segment);
  }
  return groups.filter((group) => group.length > 0);
}

/** The byte sequence of one group: each fMP4 init section wherever it changes, then the fragments (TS just concatenates). */
export function groupFileSequence(group: TrackSegmentFile[]): string[] {
  const files: string[] = [];
  let currentInit: string | null = null;
  for (const segment of group) {
    if (segment.init && segment.init !== currentInit) {
      files.push(segment.init);
      currentInit = segment.init;
    }
    files.push(segment.file);
  }
  return files;
}

/**
 * Appends files byte-wise into one, one open file at a time (thousands of segments never hit the
 * open-file limit), through one reused buffer: a fresh buffer per segment lived through its write,
 * long enough to leave the small young generation, and the promoted ones piled up (some 60 MB for a
 * 300-segment stream) until a full collection.
 */
export async function joinFiles(files: string[], output: string, signal?: AbortSignal): Promise<void> {
  const target = await open(output, 'w');
  const buffer = Buffer.allocUnsafeSlow(JOIN_BUFFER_SIZE);
  try {
    for (const file of files) {
      signal?.throwIfAborted();
      const source = await open(file, 'r');
      try {
        for (let read; (read = (await source.read(buffer, 0, buffer.length, null)).bytesRead) > 0; ) {
          signal?.throwIfAborted();
          for (let written = 0; written < read; ) written += (await target.write(buffer, written, read - written)).bytesWritten;
        }
      } finally {
        await source.close();
      }
    }
  } finally {
    await target.close();
  }
}

const JOIN_BUFFER_SIZE = 1024 * 1024;

/** The concat demuxer's list: it re-bases each part's timestamps after the previous part, which is what a discontinuity needs. */
export function concatList(paths: string[]): string {
  return ['ffconcat version 1.0', ...paths.map((path) => `file '${path.replaceAll("'", "'\\''")}'`), ''].join('\n');
}

/** ffmpeg arguments for the final stream-copy remux into MP4. */
export function buildMuxArgs(video: MuxInput, audio: MuxInput | null, subtitles: string | null, output: string, audioOnly = false): string[] {
  const inputs = [video, audio].filter((input): input is MuxInput => input !== null);
  const args: string[] = [];
  for (const input of inputs) {
    // genpts fills missing timestamps that some packagers leave after a discontinuity
    args.push('-fflags', '+genpts');
    // local files only, in a named format: a part must never make ffmpeg open another file or a URL
    args.push('-protocol_whitelist', 'file');
    if (input.concat) args.push('-f', 'concat', '-safe', '0');
    else if (input.format) args.push('-f', input.format);
    args.push('-i', input.path);
  }
  if (subtitles) args.push('-protocol_whitelist', 'file', '-f', 'webvtt', '-i', subtitles);
  if (audioOnly) args.push('-vn');
  else args.push('-map', '0:v?');
  args.push('-map', audio ? '1:a:0' : '0:a?');
  if (subtitles) args.push('-map', `${inputs.length}:s:0`);
  args.push('-c:v', 'copy', '-c:a', 'copy');
  if (subtitles) args.push('-c:s', 'mov_text');
  // the mp4 muxer inserts aac_adtstoasc on its own for ADTS audio from MPEG-TS
  args.push('-avoid_negative_ts', 'make_zero', '-movflags', '+faststart', '-f', 'mp4', output);
  return args;
}

/** Joins each track's segments and remuxes them (with the alternate audio and subtitles) into one MP4 inside workDir. */
export async function mergeTracks(options: MergeOptions): Promise<MergeResult> {
  const { workDir, baseName, log } = options;
  const scratch: string[] = [];
  try {
    if (!options.ffmpeg) return await joinWithoutFfmpeg(options);
    const video = await prepareTrack(options.video, workDir, scratch, options.signal);
    const audio = options.audio && options.audio.segments.length > 0 ? await prepareTrack(options.audio, workDir, scratch, options.signal) : null;
    const extension = options.audioOnly ? 'm4a' : 'mp4';
    const output = join(workDir, `${baseName}.${extension}`);
    const temporary = `${output}.part`;
    await runFfmpeg(options.ffmpeg, buildMuxArgs(video, audio, options.subtitles, temporary, options.audioOnly), { signal: options.signal, log });
    await rename(temporary, output);
    return { path: output, extension };
  } finally {
    await Promise.all(scratch.map((path) => rm(path, { force: true })));
  }
}

async function prepareTrack(track: TrackFiles, workDir: string, scratch: string[], signal?: AbortSignal): Promise<MuxInput> {
  const groups = groupByDiscontinuity(track.segments);
  const extension = partExtension(track.segments[0]);
  const parts: string[] = [];
  for (const [index, group] of groups.entries()) {
    const part = join(workDir, `${track.kind}-part-${index}${extension}`);
    scratch.push(part);
    await joinFiles(groupFileSequence(group), part, signal);
    parts.push(part);
  }
  // every part starts with a checked segment; this names its format for ffmpeg and refuses anything else
  const formats = await Promise.all(parts.map((part) => partFormat(part, track.kind)));
  if (parts.length === 1) return { path: parts[0], concat: false, format: formats[0] };
  const list = join(workDir, `${track.kind}-parts.ffconcat`);
  scratch.push(list);
  await writeFile(list, concatList(parts));
  return { path: list, concat: true };
}

async function partFormat(part: string, kind: TrackFiles['kind']): Promise<string> {
  const { container, head } = await sniffFile(part);
  if (container === null || container === 'webvtt') throw new PermanentError(`the joined ${kind} track is not media: it starts with ${describeHead(head)}`);
  return ffmpegFormat(container);
}

function partExtension(segment: TrackSegmentFile | undefined): string {
  if (!segment) return '.ts';
  if (segment.init) return '.mp4';
  return extname(segment.file) || '.ts';
}

/** Without ffmpeg the video track is joined as it is: MPEG-TS concatenates, and joined fMP4 fragments play as fragmented MP4. */
async function joinWithoutFfmpeg(options: MergeOptions): Promise<MergeResult> {
  const fragmented = options.video.segments.some((segment) => segment.init);
  const extension = fragmented ? 'mp4' : 'ts';
  const output = join(options.workDir, `${options.baseName}.${extension}`);
  const dropped = [options.audio?.segments.length ? 'the alternate audio' : '', options.subtitles ? 'the subtitles' : ''].filter(Boolean).join(' and ');
  options.log(`ffmpeg was not found: saving the joined ${fragmented ? 'fragmented MP4' : 'MPEG-TS'} stream without remuxing${dropped ? `; ${dropped} could not be muxed in` : ''}`);
  const files = groupByDiscontinuity(options.video.segments).flatMap((group) => groupFileSequence(group));
  await joinFiles(files, `${output}.part`, options.signal);
  await rename(`${output}.part`, output);
  return { path: output, extension };
}
