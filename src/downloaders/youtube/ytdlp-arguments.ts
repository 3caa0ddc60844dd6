import type { DownloadJob } from '../downloader.interface.js';
import { redactUrlsIn } from '../../engine/http-error.js';

/** Prefix of the machine-readable progress lines our --progress-template makes yt-dlp print. */
export const PROGRESS_MARKER = '[ytdlp-progress]';

/** File (relative to the working directory) where yt-dlp appends one JSON line per finished media file. */
export const RESULT_FILE = '.ytdlp-result.jsonl';

export interface YtdlpSettings {
  /** ffmpeg to merge separate video and audio and to record live streams; null picks single-file formats. */
  ffmpegPath: string | null;
  proxy: string | null;
  noProxy: string | null;
  /** Fragments of an HLS/DASH stream fetched at once. */
  concurrentFragments: number;
  /** Tries per request and per fragment. */
  retries: number;
  /** A connection silent for this long counts as failed. */
  socketTimeoutSeconds: number;
}

export type YtdlpJob = Pick<DownloadJob, 'id' | 'url' | 'headers' | 'isLive' | 'deleteSegments'>;

/**
 * The full yt-dlp command line for a job, in a fixed order. yt-dlp runs with the job's working
 * directory as its cwd, so every path here is relative and no directory name needs escaping.
 */
export function buildYtdlpArguments(job: YtdlpJob, settings: YtdlpSettings): string[] {
  const args = [
    // only what we pass counts: no user or system config, no self-update, plain output
    '--ignore-config',
    '--no-update',
    '--no-colors',
    '--newline',
    '--no-playlist',
    // one task is one file: of a playlist (or a page embedding several videos) only the first item
    '--playlist-items',
    '1',
    '--no-mtime',
    '--continue',
    '--part',
    '--progress-template',
    `download:${PROGRESS_MARKER} %(progress.{status,downloaded_bytes,total_bytes,total_bytes_estimate,fragment_index,fragment_count,filename})j`,
    // --print would imply --quiet and hide the log, so the final path goes to a file instead
    '--print-to-file',
    'after_move:%(.{title,filepath,ext})j',
    RESULT_FILE,
    '--output',
    outputTemplate(workFileName(job)),
    '--proxy',
    proxyFor(job.url, settings.proxy, settings.noProxy),
    '--concurrent-fragments',
    String(settings.concurrentFragments),
    '--retries',
    String(settings.retries),
    '--fragment-retries',
    String(settings.retries),
    '--socket-timeout',
    String(settings.socketTimeoutSeconds),
  ];
  if (settings.ffmpegPath) {
    args.push('--ffmpeg-location', settings.ffmpegPath, '--format', 'bv*+ba/b', '--merge-output-format', 'mp4');
  } else {
    // without ffmpeg nothing can be merged: the best format that carries both video and audio
    args.push('--format', 'b');
  }
  if (job.isLive) {
    // the generic extractor cannot tell a live HLS playlist; marking it live makes yt-dlp record it
    // with ffmpeg until interrupted and then finalise the file instead of treating SIGINT as a failure
    args.push('--parse-metadata', '%(id)s:(?P<is_live>.+)');
  }
  if (!job.deleteSegments) args.push('--keep-video');
  for (const [name, value] of job.headers) args.push('--add-header', `${name}:${value}`);
  args.push('--', job.url);
  return args;
}

/**
 * The base name of the files yt-dlp writes in the working directory. It follows the task's id, not its
 * name, so that a task renamed while stopped still resumes its partial files; the scheduler gives the
 * result its real name.
 */
export function workFileName(job: Pick<DownloadJob, 'id'>): string {
  return `task-${job.id}`;
}

/** The output template for a base name ("%" escaped, so it is never read as a field) and yt-dlp's extension. */
export function outputTemplate(baseName: string): string {
  return `${baseName.replaceAll('%', '%%')}.%(ext)s`;
}

/**
 * The proxy for a URL: the configured one, or "" (a direct connection) when there is none or the host
 * is listed in NO_PROXY. Always explicit, so yt-dlp never picks up a proxy the service does not use.
 */
export function proxyFor(url: string, proxy: string | null, noProxy: string | null): string {
  if (!proxy) return '';
  let host: string;
  let port: string;
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  } catch {
    return proxy;
  }
  const entries = (noProxy ?? '').toLowerCase().split(/[\s,]+/).filter(Boolean);
  return entries.some((entry) => noProxyMatches(entry, host, port)) ? '' : proxy;
}

/** One NO_PROXY entry, as curl and undici read them: "*", "host", ".domain", "*.domain", "host:port", "[v6]:port". */
function noProxyMatches(entry: string, host: string, port: string): boolean {
  if (entry === '*') return true;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  const withPort = bracketed ? null : /^([^:]+):(\d+)$/.exec(entry);
  const entryPort = bracketed?.[2] ?? withPort?.[2] ?? null;
  if (entryPort !== null && entryPort !== port) return false;
  const entryHost = (bracketed?.[1] ?? withPort?.[1] ?? entry).replace(/^\*/, '');
  if (entryHost.startsWith('.')) return host.endsWith(entryHost) || host === entryHost.slice(1);
  return host === entryHost || host.endsWith(`.${entryHost}`);
}

/** The command line as it may appear in a task log: header values and proxy credentials masked. */
export function describeArguments(args: string[]): string {
  const shown = args.map((arg, index) => {
    const option = args[index - 1];
    if (option === '--add-header') return `${arg.slice(0, arg.indexOf(':') + 1)}***`;
    if (option === '--proxy') return arg.replace(/\/\/[^/@]*@/, '//***@');
    return redactUrlsIn(arg);
  });
  return shown.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)).join(' ');
}
