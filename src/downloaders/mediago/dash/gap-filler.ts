import { rm } from 'node:fs/promises';
import { runFfmpeg } from '../../../engine/ffmpeg.js';
import { joinFiles } from '../../../engine/merge-tracks.js';

/**
 * Media made to stand in for a track that a period lacks (silence for audio, black for video), as long as
 * the period, so that the other track keeps its place in time. It is made from a piece of the same track in
 * another period, so that sample rate, channel layout, picture size and frame rate match and the join stays a
 * stream copy.
 */
export interface GapFiller {
  kind: 'video' | 'audio';
  path: string;
  seconds: number;
  /** The files of a downloaded piece of the track in another period: its init section (if any), then a segment. */
  reference: string[];
}

/** Why a track of these codecs cannot be padded for a period of this length, or null when it can. */
export function fillerProblem(kind: 'video' | 'audio', codecs: string | null, seconds: number | null): string | null {
  if (!seconds || !(seconds > 0)) return 'the period has no known duration';
  const codec = (codecs ?? '').toLowerCase();
  if (kind === 'audio' && codec !== '' && !codec.startsWith('mp4a.40')) return `the track's other periods are ${codecs}, not AAC`;
  if (kind === 'video' && codec !== '' && !/^avc[13]/.test(codec)) return `the track's other periods are ${codecs}, not H.264`;
  return null;
}

/** ffmpeg arguments: the reference cut to its first instant, padded to the period's length, silenced or blacked out. */
export function fillerArgs(filler: GapFiller, reference: string): string[] {
  const seconds = filler.seconds.toFixed(3);
  const input = ['-protocol_whitelist', 'file', '-f', 'mp4', '-i', reference];
  if (filler.kind === 'audio') {
    return [...input, '-vn', '-af', `atrim=end_sample=1,asetpts=PTS-STARTPTS,volume=0,apad=whole_dur=${seconds}`, '-t', seconds, '-c:a', 'aac', '-f', 'mp4', filler.path];
  }
  return [
    ...input,
    '-an',
    '-vf',
    `trim=end_frame=1,setpts=PTS-STARTPTS,drawbox=color=black:t=fill,tpad=stop_mode=clone:stop_duration=${seconds}`,
    '-t',
    seconds,
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'mp4', filler.path],
  ];
}

export async function makeFiller(ffmpeg: string, filler: GapFiller, options: { signal: AbortSignal; log: (line: string) => void }): Promise<void> {
  const reference = `${filler.path}.reference.mp4`;
  try {
    await joinFiles(filler.reference, reference, options.signal);
    await runFfmpeg(ffmpeg, fillerArgs(filler, reference), options);
  } finally {
    await rm(reference, { force: true });
  }
}
