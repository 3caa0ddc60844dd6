import { PermanentError } from '../../engine/http-error.js';

/** What a task's URL points at, once parsed. */
export type BilibiliTarget =
  /** A user video (UGC); page is the 1-based `?p=` part, null when not given. */
  | { kind: 'video'; bvid: string | null; aid: number | null; page: number | null }
  /** One episode of a bangumi / film / documentary (PGC). */
  | { kind: 'episode'; epId: number }
  /** A whole season: its first episode is downloaded, as the site plays it first. */
  | { kind: 'season'; seasonId: number }
  /** A bangumi's media page (md…): it names a season, which the API tells. */
  | { kind: 'media'; mediaId: number }
  /** A link on another host (b23.tv and friends) that has to be fetched to learn where it leads. */
  | { kind: 'link'; url: string };

// The base-58 alphabet and constants of the BV id scheme introduced in 2024 (aids up to 2^51).
const BV_ALPHABET = 'FcwAPNKTMug3GV5Lj7EJnHpWsx4tb8haYeviqBz6rkCy12mUSDQX9RdoZf';
const XOR_CODE = 23442827791579n;
const MASK_CODE = 2251799813685247n;
const MAX_AID = 1n << 51n;
const BASE = 58n;

const BVID_PATTERN = /^BV1[FcwAPNKTMug3GV5Lj7EJnHpWsx4tb8haYeviqBz6rkCy12mUSDQX9RdoZf]{9}$/;

export function isBvid(value: string): boolean {
  return BVID_PATTERN.test(value);
}

/** av id to BV id, e.g. 170001 → BV17x411w7KC. */
export function av2bv(aid: number | bigint): string {
  const value = BigInt(aid);
  if (value <= 0n || value >= MAX_AID) throw new RangeError(`av${aid} is outside the range a BV id can encode`);
  const chars = ['B', 'V', '1', '0', '0', '0', '0', '0', '0', '0', '0', '0'];
  let index = chars.length - 1;
  for (let rest = (MAX_AID | value) ^ XOR_CODE; rest > 0n; rest /= BASE) {
    chars[index--] = BV_ALPHABET[Number(rest % BASE)];
  }
  [chars[3], chars[9]] = [chars[9], chars[3]];
  [chars[4], chars[7]] = [chars[7], chars[4]];
  return chars.join('');
}

/** BV id to av id, e.g. BV17x411w7KC → 170001. */
export function bv2av(bvid: string): number {
  const normalized = normalizeBvid(bvid);
  if (!normalized) throw new RangeError(`"${bvid}" is not a BV id`);
  const chars = [...normalized];
  [chars[3], chars[9]] = [chars[9], chars[3]];
  [chars[4], chars[7]] = [chars[7], chars[4]];
  let value = 0n;
  for (const char of chars.slice(3)) value = value * BASE + BigInt(BV_ALPHABET.indexOf(char));
  return Number((value & MASK_CODE) ^ XOR_CODE);
}

/** "bv1…" and "BV1…" alike (the site accepts both); null when it is not a BV id. */
function normalizeBvid(value: string): string | null {
  const candidate = /^bv/i.test(value) ? `BV${value.slice(2)}` : value;
  return isBvid(candidate) ? candidate : null;
}

function parseAid(value: string): number | null {
  const match = /^av(\d{1,16})$/i.exec(value);
  if (!match) return null;
  const aid = Number(match[1]);
  return Number.isSafeInteger(aid) && aid > 0 ? aid : null;
}

/** A bare id: BV…, av…, and (for convenience) ep…, ss… or md…. */
function parseBareId(value: string): BilibiliTarget | null {
  const bvid = normalizeBvid(value);
  if (bvid) return { kind: 'video', bvid, aid: null, page: null };
  const aid = parseAid(value);
  if (aid !== null) return { kind: 'video', bvid: null, aid, page: null };
  const episode = /^ep(\d{1,12})$/i.exec(value);
  if (episode) return { kind: 'episode', epId: Number(episode[1]) };
  const season = /^ss(\d{1,12})$/i.exec(value);
  if (season) return { kind: 'season', seasonId: Number(season[1]) };
  const media = /^md(\d{1,12})$/i.exec(value);
  if (media) return { kind: 'media', mediaId: Number(media[1]) };
  return null;
}

function pageParameter(url: URL): number | null {
  const raw = url.searchParams.get('p');
  if (raw === null || raw === '') return null;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1) throw new PermanentError(`"p=${raw}" in ${url.toString()} is not a part number (1, 2, …)`);
  return Number(raw);
}

/** The video or episode a page path names (/video/BV…, /video/av…, /bangumi/play/ep…|ss…, /bangumi/media/md…), whatever the host. */
export function parseBilibiliPath(url: URL): BilibiliTarget | null {
  const segments = url.pathname.split('/').filter(Boolean);
  const videoAt = segments.indexOf('video');
  if (videoAt >= 0 && segments[videoAt + 1]) {
    const id = segments[videoAt + 1];
    const bvid = normalizeBvid(id);
    const aid = bvid ? null : parseAid(id);
    if (bvid || aid !== null) return { kind: 'video', bvid, aid, page: pageParameter(url) };
  }
  const playAt = segments.indexOf('play');
  if (playAt > 0 && segments[playAt - 1] === 'bangumi' && segments[playAt + 1]) {
    const target = parseBareId(segments[playAt + 1]);
    if (target && (target.kind === 'episode' || target.kind === 'season')) return target;
  }
  const mediaAt = segments.indexOf('media');
  if (mediaAt > 0 && segments[mediaAt - 1] === 'bangumi' && segments[mediaAt + 1]) {
    const target = parseBareId(segments[mediaAt + 1]);
    if (target?.kind === 'media') return target;
  }
  return null;
}

const BILIBILI_HOST = /(^|\.)bilibili\.com$/i;

/**
 * Parses what a user gave as a bilibili task URL. A bilibili.com page yields its video or episode,
 * a bare id yields itself, any other http(s) URL (b23.tv short links) must be fetched to see where it leads.
 */
export function parseBilibiliInput(input: string): BilibiliTarget {
  const trimmed = input.trim();
  const bare = parseBareId(trimmed);
  if (bare) return bare;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new PermanentError(`"${trimmed.slice(0, 200)}" is neither a Bilibili link nor a BV/av id`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError(`"${trimmed.slice(0, 200)}" is neither a Bilibili link nor a BV/av id`);
  }
  if (BILIBILI_HOST.test(url.hostname)) {
    const target = parseBilibiliPath(url);
    if (!target) throw new PermanentError(`${url.origin}${url.pathname} is not a Bilibili video or episode page (expected /video/BV…, /video/av…, /bangumi/play/ep…|ss… or /bangumi/media/md…)`);
    return target;
  }
  return { kind: 'link', url: url.toString() };
}
