import type { DownloadJob } from '../../engine/download-job.js';
import { redactUrlsIn } from '../../engine/http-error.js';

/** Prefix of the machine-readable progress lines our --progress-template makes yt-dlp print. */
export const PROGRESS_MARKER = '[ytdlp-progress]';

/** File (relative to the working directory) where yt-dlp appends one JSON line per finished media file. */
export const RESULT_FILE = '.ytdlp-result.jsonl';

/** The task's cookies as a Netscape cookies file in the working directory: yt-dlp sends them to the task's host only. */
export const COOKIES_FILE = '.ytdlp-cookies.txt';

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

export type YtdlpJob = Pick<DownloadJob, 'id' | 'url' | 'headers' | 'isLive' | 'deleteSegments'> &
  Partial<Pick<DownloadJob, 'speedLimit' | 'quality' | 'audioLanguages' | 'subtitleLanguages'>>;

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
    'after_move:%(.{title,filepath,ext,height,language})j',
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
  // yt-dlp keeps its own budget: a global limit is not shared with our engines, only applied to it alone
  if (job.speedLimit) args.push('--limit-rate', String(job.speedLimit));
  args.push(...formatArguments(job, settings.ffmpegPath));
  const subtitles = job.subtitleLanguages ?? [];
  if (subtitles.length > 0) {
    // saved beside the media as task-<id>.<language>.vtt; converting other formats to WebVTT needs ffmpeg
    args.push('--write-subs', '--sub-langs', subtitles.map(subtitleLanguagePattern).join(','), '--sub-format', 'vtt/best');
    if (settings.ffmpegPath) args.push('--convert-subs', 'vtt');
  }
  if (job.isLive) {
    // the generic extractor cannot tell a live HLS playlist; marking it live makes yt-dlp record it
    // with ffmpeg until interrupted and then finalise the file instead of treating SIGINT as a failure
    args.push('--parse-metadata', '%(id)s:(?P<is_live>.+)');
  }
  if (!job.deleteSegments) args.push('--keep-video');
  const { sent, cookies } = ytdlpHeaders(job.headers);
  // yt-dlp before 2023.07.06 forwards an --add-header Cookie to every host it is redirected to (CVE-2023-35934)
  if (cookies.length > 0) args.push('--cookies', COOKIES_FILE);
  for (const [name, value] of sent) args.push('--add-header', `${name}:${value}`);
  args.push('--', job.url);
  return args;
}

/**
 * The format selection for a task's choice. Heights go through -S res:H, which prefers the tallest picture not
 * above H and else the smallest above it (the nearest); audio languages are tried in order through the language
 * field of audio formats, then any audio; "audio" keeps the best sound alone (extracted without re-encoding).
 */
export function formatArguments(job: Pick<YtdlpJob, 'quality' | 'audioLanguages'>, ffmpegPath: string | null): string[] {
  const quality = job.quality ?? 'best';
  const languages = (job.audioLanguages ?? []).map((language) => `[language^=${formatValue(language)}]`);
  const args: string[] = [];
  if (!ffmpegPath) {
    // without ffmpeg nothing can be merged or extracted: single files that carry what is asked
    args.push('--format', quality === 'audio' ? [...languages.map((filter) => `ba${filter}`), 'ba', 'b'].join('/') : 'b');
  } else if (quality === 'audio') {
    args.push('--ffmpeg-location', ffmpegPath, '--format', [...languages.map((filter) => `ba${filter}`), 'ba', 'b'].join('/'), '--extract-audio');
  } else {
    args.push('--ffmpeg-location', ffmpegPath, '--format', [...languages.map((filter) => `bv*+ba${filter}`), 'bv*+ba', 'b'].join('/'), '--merge-output-format', 'mp4');
  }
  if (typeof quality === 'number') args.push('--format-sort', `res:${quality}`);
  return args;
}

/** A language tag inside a format filter: only letters, digits and "-" (the tags are canonical BCP-47 already). */
function formatValue(language: string): string {
  return language.replace(/[^A-Za-z0-9-]/g, '');
}

/** yt-dlp's --sub-langs takes regular expressions: "zh" takes zh, zh-Hans, zh-CN… */
export function subtitleLanguagePattern(language: string): string {
  return `${formatValue(language)}(-.*)?`;
}

/**
 * How a task's headers reach yt-dlp. Cookies go into a cookies file scoped to the task's host.
 * Authorization is withheld: yt-dlp sends --add-header headers to every host it talks to (redirects,
 * media servers), in every version, and has no way to limit one to a single host.
 */
export function ytdlpHeaders(headers: YtdlpJob['headers']): { sent: YtdlpJob['headers']; cookies: string[]; withheld: string[] } {
  const sent: YtdlpJob['headers'] = [];
  const cookies: string[] = [];
  const withheld: string[] = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'cookie') cookies.push(value);
    else if (lower === 'authorization') withheld.push(name);
    else sent.push([name, value]);
  }
  return { sent, cookies, withheld };
}

/**
 * A Netscape cookies file holding the Cookie header values for the URL's host only (no leading dot,
 * include-subdomains FALSE; https URLs get secure cookies, so they never go out in clear text).
 */
export function cookiesFileText(url: string, cookieHeaders: string[]): string {
  const target = new URL(url);
  const host = target.hostname.toLowerCase();
  const secure = target.protocol === 'https:' ? 'TRUE' : 'FALSE';
  const lines = ['# Netscape HTTP Cookie File', `# cookies of the task, for ${host} only`];
  for (const header of cookieHeaders) {
    for (const part of header.split(';')) {
      const equals = part.indexOf('=');
      const name = part.slice(0, equals).trim();
      const value = part.slice(equals + 1).trim();
      // a part without a name cannot be written; a tab would split the line into other fields
      if (equals <= 0 || !name || /\t/.test(name + value)) continue;
      lines.push([host, 'FALSE', '/', secure, '0', name, value].join('\t'));
    }
  }
  return `${lines.join('\n')}\n`;
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

/** The proxy variables a child process could read from the environment (Python's and ffmpeg's: any case). */
const PROXY_VARIABLES = /^(?:https?|all|no)_proxy$/i;

/**
 * The environment yt-dlp runs with: the service's, without proxy variables. Its route is the explicit `--proxy`
 * (the configured proxy, or the address guard's), and yt-dlp hands that to the ffmpeg it starts as http_proxy;
 * a no_proxy inherited from the service would let ffmpeg connect around it.
 */
export function ytdlpEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!PROXY_VARIABLES.test(name)) env[name] = value;
  return { ...env, ...extra };
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
