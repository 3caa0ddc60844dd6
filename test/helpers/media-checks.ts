import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { DownloadJob, DownloadOutput } from '../../src/engine/download-job.js';

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
}

/** What ffprobe says of a media file. */
export interface ProbedMedia {
  /** Seconds, from the container. */
  duration: number;
  /** The container's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "mpegts". */
  format: string;
  streams: ProbedStream[];
}

/** The ffmpeg and ffprobe paths; a ToolsService fits. */
export interface MediaTools {
  readonly ffmpeg: string | null;
  readonly ffprobe: string | null;
}

/** Runs ffprobe (the path given) over a file; fails if ffprobe cannot read it as media. */
export function probe(ffprobe: string, path: string): ProbedMedia {
  const result = spawnSync(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `ffprobe failed on ${path}: ${result.stderr || result.error?.message}`);
  const parsed = JSON.parse(result.stdout) as { format?: { duration?: string; format_name?: string }; streams?: ProbedStream[] };
  return { duration: Number(parsed.format?.duration ?? 0), format: parsed.format?.format_name ?? '', streams: parsed.streams ?? [] };
}

/** The stream types of a file, sorted: ['audio', 'video'] for a muxed clip. */
export function streamTypes(media: ProbedMedia): string[] {
  return media.streams.map((stream) => stream.codec_type).sort();
}

/** Decodes every frame with ffmpeg (the path given); a player would stumble wherever ffmpeg reports an error. */
export function assertDecodesCleanly(ffmpeg: string, path: string): void {
  const result = spawnSync(ffmpeg, ['-v', 'error', '-i', path, '-f', 'null', '-'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0);
  assert.equal(result.stderr.trim(), '', `decoding ${path} reported errors`);
}

export interface ExpectedMedia {
  /** Duration in seconds, within half a second. */
  seconds: number;
  /** Codec of the video stream; any when omitted. */
  videoCodec?: string;
  width?: number;
  height?: number;
  /** Codec of the audio stream, or false to not look at the audio. */
  audioCodec: string | false;
  /** Codec of the subtitle stream, when there must be one. */
  subtitleCodec?: string;
}

/** Asserts a probed file has a video stream (and audio, subtitles) as expected and lasts as long as expected. */
export function assertMedia(media: ProbedMedia, expected: ExpectedMedia): void {
  assert.ok(Math.abs(media.duration - expected.seconds) <= 0.5, `duration ${media.duration} s is about ${expected.seconds} s`);
  const video = media.streams.find((stream) => stream.codec_type === 'video');
  assert.ok(video, 'the output has a video stream');
  if (expected.videoCodec !== undefined) assert.equal(video.codec_name, expected.videoCodec);
  if (expected.width !== undefined) assert.equal(video.width, expected.width);
  if (expected.height !== undefined) assert.equal(video.height, expected.height);
  if (expected.audioCodec !== false) {
    const audio = media.streams.find((stream) => stream.codec_type === 'audio');
    assert.ok(audio, 'the output has an audio stream');
    assert.equal(audio.codec_name, expected.audioCodec);
  }
  if (expected.subtitleCodec !== undefined) assert.equal(media.streams.find((stream) => stream.codec_type === 'subtitle')?.codec_name, expected.subtitleCodec);
}

/**
 * Asserts a downloader's output is an MP4 inside the job's working directory with H.264 video
 * (and AAC audio, mov_text subtitles when asked) that decodes without an error.
 */
export function assertPlayableMp4(
  tools: MediaTools,
  output: DownloadOutput,
  job: DownloadJob,
  expected: { seconds: number; width: number; audio?: boolean; subtitles?: boolean },
): ProbedMedia {
  assert.equal(output.extension, 'mp4');
  assert.ok(output.path.startsWith(job.workDir), 'the output lies inside the work directory');
  assert.ok(existsSync(output.path));
  const media = probe(tools.ffprobe!, output.path);
  assertMedia(media, {
    seconds: expected.seconds,
    videoCodec: 'h264',
    width: expected.width,
    audioCodec: expected.audio === false ? false : 'aac',
    subtitleCodec: expected.subtitles ? 'mov_text' : undefined,
  });
  assertDecodesCleanly(tools.ffmpeg!, output.path);
  return media;
}

/**
 * The pitch of a file's first audio stream as its zero-crossing rate per sample (ffmpeg astats): the fixtures'
 * audio languages are sine tones of different frequencies, so this tells which language's sound was saved.
 */
export function audioZeroCrossingRate(ffmpeg: string, path: string): number {
  const result = spawnSync(ffmpeg, ['-v', 'info', '-nostdin', '-i', path, '-map', '0:a:0', '-af', 'astats', '-f', 'null', '-'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `ffmpeg could not read the audio of ${path}: ${result.stderr}`);
  const rates = [...result.stderr.matchAll(/Zero crossings rate: ([\d.]+)/g)].map((match) => Number(match[1]));
  assert.ok(rates.length > 0, `astats gave no zero-crossing rate for ${path}`);
  return rates.at(-1)!;
}

/** The timing lines of a WebVTT document, in order. */
export function cueTimes(vtt: string): string[] {
  return vtt.split('\n').filter((line) => line.includes('-->')).map((line) => line.trim());
}
