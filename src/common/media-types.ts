import { extname } from 'node:path';

/** Content types of the media a task can produce, by extension; players pick a demuxer from them. */
const MEDIA_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  m4s: 'video/iso.segment',
  m4a: 'audio/mp4',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  flv: 'video/x-flv',
  ts: 'video/mp2t',
  mpg: 'video/mpeg',
  mpeg: 'video/mpeg',
  '3gp': 'video/3gpp',
  ogv: 'video/ogg',
  mp3: 'audio/mpeg',
  aac: 'audio/aac',
  ac3: 'audio/ac3',
  eac3: 'audio/eac3',
  flac: 'audio/flac',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  vtt: 'text/vtt; charset=utf-8',
  srt: 'application/x-subrip',
  m3u8: 'application/vnd.apple.mpegurl',
};

/** The Content-Type for a file name, from its extension; application/octet-stream when it is not media we know. */
export function mediaTypeOf(fileName: string): string {
  return MEDIA_TYPES[extname(fileName).slice(1).toLowerCase()] ?? 'application/octet-stream';
}
