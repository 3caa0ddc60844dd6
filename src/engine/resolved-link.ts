import type { DownloadType } from '../common/download-type.enum.js';
import { nameFromUrl } from './file-naming.js';

// What a link holds, asked before any task exists: one video, the parts of a multi-part video, the
// episodes of a season, the entries of a playlist. The API lists them (resolve) or makes one task each (expand).

/** At most this many entries are listed for one link; the answer says when a link holds more. */
export const RESOLVE_ENTRY_LIMIT = 1000;

export interface ResolveRequest {
  type: DownloadType;
  url: string;
  /** Header lines parsed into pairs, sent with every request resolving makes, as a task's are. */
  headers: Array<[string, string]>;
  /** Entries wanted at most; a strategy may stop reading once it knows there are more. */
  limit: number;
}

export interface ResolveContext {
  /** Aborted when the resolve budget runs out or the client goes away: stop every request and process. */
  signal: AbortSignal;
  log(line: string): void;
}

/** One thing a task can download on its own. */
export interface ResolvedEntry {
  /** 1-based: the part number, the episode's place in its season, the playlist index. */
  number: number;
  title: string | null;
  /** What a task of the same type downloads to get this entry alone. */
  url: string;
  /** Seconds, when the origin says. */
  duration: number | null;
}

export type ResolvedKind = 'single' | 'parts' | 'season' | 'playlist';

export interface ResolvedLink {
  kind: ResolvedKind;
  title: string | null;
  /** In the origin's order, at most the request's limit. */
  entries: ResolvedEntry[];
  /** How many entries the link holds, when the origin says (it may be more than entries.length). */
  total: number | null;
  /** True when the link holds more entries than were listed. */
  truncated: boolean;
}

/** A link that is one thing: itself, titled from its URL unless a better title is known. */
export function singleEntryLink(url: string, title: string | null = null, duration: number | null = null): ResolvedLink {
  const name = title?.trim() || nameFromUrl(url);
  return { kind: 'single', title: name, entries: [{ number: 1, title: name, url, duration }], total: 1, truncated: false };
}

/**
 * Entries cut to the limit. `total` is the origin's count when it gave one; otherwise the number read, or null
 * when more were read than listed (a reader that stops at limit + 1 knows only that there are more).
 */
export function listedLink(kind: ResolvedKind, title: string | null, entries: ResolvedEntry[], limit: number, total: number | null = null): ResolvedLink {
  const known = total ?? (entries.length > limit ? null : entries.length);
  const truncated = entries.length > limit || (known !== null && known > limit);
  return { kind, title: title?.trim() || null, entries: entries.slice(0, limit), total: known, truncated };
}
