import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { abortError } from '../../engine/abort.js';
import { killGroup, spawnGroup } from '../../engine/child-process.js';
import { PermanentError, redactUrlsIn } from '../../engine/http-error.js';
import { type ResolvedEntry, type ResolvedLink, listedLink, singleEntryLink } from '../../engine/resolved-link.js';
import { COOKIES_FILE, proxyFor, ytdlpEnvironment, ytdlpHeaders, type YtdlpJob } from './ytdlp-arguments.js';
import { cleanErrorMessage, meaningfulError } from './ytdlp-progress.js';

// Listing what a link holds with yt-dlp: one JSON document (--flat-playlist -J), read under a byte cap and
// within the caller's deadline, after which the process group is killed.

/** What yt-dlp may print for one listing: 1001 flat entries of a generic page are about 2.5 MB. */
export const LISTING_MAX_BYTES = 16 * 1024 * 1024;

export interface YtdlpListingSettings {
  proxy: string | null;
  noProxy: string | null;
  socketTimeoutSeconds: number;
  retries: number;
}

/**
 * The command line that lists a link: entries not resolved one by one (--flat-playlist), no more than
 * limit + 1 of them (the one more tells that the list was cut), one JSON document on stdout, nothing saved.
 */
export function buildYtdlpListArguments(url: string, headers: YtdlpJob['headers'], limit: number, settings: YtdlpListingSettings): string[] {
  const args = [
    '--ignore-config',
    '--no-update',
    '--no-colors',
    '--flat-playlist',
    '--dump-single-json',
    '--playlist-end',
    String(limit + 1),
    '--no-cache-dir',
    '--proxy',
    proxyFor(url, settings.proxy, settings.noProxy),
    '--retries',
    String(settings.retries),
    '--socket-timeout',
    String(settings.socketTimeoutSeconds),
  ];
  const { sent, cookies } = ytdlpHeaders(headers);
  if (cookies.length > 0) args.push('--cookies', COOKIES_FILE);
  for (const [name, value] of sent) args.push('--add-header', `${name}:${value}`);
  args.push('--', url);
  return args;
}

interface YtdlpInfo {
  _type?: unknown;
  title?: unknown;
  url?: unknown;
  webpage_url?: unknown;
  original_url?: unknown;
  duration?: unknown;
  playlist_index?: unknown;
  playlist_count?: unknown;
  entries?: unknown;
  requested_downloads?: unknown;
  formats?: unknown;
}

/** What yt-dlp's JSON says the link holds: a playlist's entries (cut to the limit), or the link itself. */
export function parseYtdlpListing(text: string, requestUrl: string, limit: number): ResolvedLink {
  let info: YtdlpInfo;
  try {
    info = JSON.parse(text) as YtdlpInfo;
  } catch {
    throw new PermanentError('yt-dlp printed something that is not the JSON it was asked for');
  }
  if (!info || typeof info !== 'object' || Array.isArray(info)) throw new PermanentError('yt-dlp printed something that is not the JSON it was asked for');
  const title = text_(info.title);
  if (info._type !== 'playlist' && info._type !== 'multi_video') return singleEntryLink(requestUrl, title, number_(info.duration));
  const pageUrl = text_(info.webpage_url) ?? requestUrl;
  const entries: ResolvedEntry[] = [];
  const raw = Array.isArray(info.entries) ? (info.entries as unknown[]) : [];
  for (const [index, candidate] of raw.entries()) {
    if (!candidate || typeof candidate !== 'object') continue;
    const entry = candidate as YtdlpInfo;
    const url = entryUrl(entry, pageUrl);
    if (!url) continue;
    const position = number_(entry.playlist_index);
    entries.push({ number: position !== null && Number.isInteger(position) && position > 0 ? position : index + 1, title: text_(entry.title), url, duration: number_(entry.duration) });
  }
  const count = number_(info.playlist_count);
  return listedLink('playlist', title, entries, limit, count !== null && Number.isInteger(count) && count >= entries.length ? count : null);
}

/**
 * The URL a task downloads one entry from: a flat entry's own page, an embedded video's page when it has
 * one of its own, else (videos a page embeds share its address) the media URL yt-dlp found for it.
 */
function entryUrl(entry: YtdlpInfo, pageUrl: string): string | null {
  const candidates: unknown[] = [];
  if (entry._type === 'url' || entry._type === 'url_transparent') candidates.push(entry.url);
  if (text_(entry.webpage_url) !== pageUrl) candidates.push(entry.webpage_url);
  const downloads = Array.isArray(entry.requested_downloads) ? (entry.requested_downloads as Array<{ url?: unknown }>) : [];
  const formats = Array.isArray(entry.formats) ? (entry.formats as Array<{ url?: unknown }>) : [];
  candidates.push(downloads[0]?.url, entry.url, formats.at(-1)?.url);
  for (const candidate of candidates) {
    const url = text_(candidate);
    if (url && /^https?:\/\//i.test(url)) return url;
  }
  return null;
}

function text_(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim() : null;
}

function number_(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

export interface ListingRun {
  cwd: string;
  signal: AbortSignal;
  maxBytes: number;
  /** Time yt-dlp gets after SIGTERM before SIGKILL. */
  killGraceMs: number;
}

/**
 * Runs yt-dlp for its JSON and returns it. Kills the whole process group when the output passes maxBytes or
 * the signal aborts (the caller's deadline); a failure is an Error carrying yt-dlp's own ERROR line.
 */
export async function runYtdlpListing(command: string, args: string[], run: ListingRun): Promise<string> {
  if (run.signal.aborted) throw abortError(run.signal);
  const child = spawnGroup(command, args, { cwd: run.cwd, env: ytdlpEnvironment({ PYTHONIOENCODING: 'utf-8' }), stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const errors: string[] = [];
  const lastLines: string[] = [];
  const stop = () => void killGroup(child, run.killGraceMs);
  child.stdout!.on('data', (chunk: Buffer) => {
    if (overflow) return;
    size += chunk.length;
    if (size > run.maxBytes) {
      overflow = true;
      chunks.length = 0;
      stop();
      return;
    }
    chunks.push(chunk);
  });
  // stderr is read line by line, each line cut short: a hostile page cannot make it grow without bound
  createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (raw) => {
    const line = redactUrlsIn(raw.slice(0, 2000)).trim();
    if (!line) return;
    if (/^ERROR:/.test(line)) {
      errors.push(line);
      if (errors.length > 10) errors.shift();
    }
    lastLines.push(line);
    if (lastLines.length > 5) lastLines.shift();
  });
  run.signal.addEventListener('abort', stop, { once: true });
  try {
    const [code, signal] = await closed;
    if (run.signal.aborted) throw abortError(run.signal);
    if (overflow) throw new PermanentError(`yt-dlp listed more than ${Math.round(run.maxBytes / 1024 / 1024)} MiB of entries; the listing was stopped`);
    if (code !== 0) {
      const said = meaningfulError(errors) ?? lastLines.at(-1);
      throw new PermanentError(said ? cleanErrorMessage(said).replace(/^ERROR:\s*/, '') : signal ? `yt-dlp was ended by ${signal}` : `yt-dlp stopped with exit code ${code} without saying why`);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    run.signal.removeEventListener('abort', stop);
    // whatever it started and left behind is still in its group
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
