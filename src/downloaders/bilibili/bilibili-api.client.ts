import type { HeaderPairs, HttpClient } from '../../engine/http-client.js';
import { PermanentError, describeError } from '../../engine/http-error.js';
import type { ApiEnvelope, MediaResult, NavData, PgcPlayResult, PlayInfo, SeasonResult, ViewData } from './bilibili-api.types.js';
import { type WbiKeys, type WbiParams, signWbi, wbiKeyFromUrl } from './wbi-signer.js';

/** fnval bits: 16 DASH | 64 HDR | 128 4K | 256 Dolby audio | 512 Dolby Vision | 1024 8K | 2048 AV1, what the web player asks. */
export const FNVAL_DASH_ALL = 4048;
/** The highest quality id (8K); the server answers the best the account may have. */
export const QN_BEST = 127;

/** WBI keys rotate daily; an hour keeps signing cheap without trusting stale keys for long. */
const WBI_KEYS_TTL_MS = 60 * 60 * 1000;
/** The API's answer to a bad or stale w_rid. */
const CODE_BAD_SIGNATURE = -403;

/** What a failed API call tells the user to try, for the codes that have a known remedy. */
const REMEDIES: Record<number, string> = {
  [-101]: 'log in: add a "Cookie: SESSDATA=…" header to the task',
  [-352]: "Bilibili's risk control refused the request; try again later or add a logged-in Cookie header",
  [-412]: "Bilibili's risk control refused the request; try again later or add a logged-in Cookie header",
  [-10403]: 'the content is not available in this region or needs a VIP account',
  [6010001]: 'the content is not available in this region',
};

/** An API answer with a non-zero code: no retry helps, so it fails the task with the API's own words. */
export class BilibiliApiError extends PermanentError {
  constructor(
    readonly endpoint: string,
    readonly code: number,
    readonly apiMessage: string,
  ) {
    const remedy = REMEDIES[code];
    super(`Bilibili API ${endpoint} answered code ${code}: ${apiMessage || '(no message)'}${remedy ? ` (${remedy})` : ''}`);
    this.name = 'BilibiliApiError';
  }
}

/** WBI keys shared by every task of one downloader, so nav is not asked before every playurl. */
export class WbiKeyCache {
  private cached: { keys: WbiKeys; at: number } | null = null;

  get(now = Date.now()): WbiKeys | null {
    return this.cached && now - this.cached.at < WBI_KEYS_TTL_MS ? this.cached.keys : null;
  }

  set(keys: WbiKeys, now = Date.now()): void {
    this.cached = { keys, at: now };
  }

  clear(): void {
    this.cached = null;
  }
}

export interface BilibiliApiOptions {
  http: HttpClient;
  /** e.g. https://api.bilibili.com, without a trailing slash. */
  apiBase: string;
  /** Referer, User-Agent and the task's own headers (cookies), already merged. */
  headers: HeaderPairs;
  signal: AbortSignal;
  wbiKeys: WbiKeyCache;
  log: (line: string) => void;
}

export type VideoRef = { bvid: string } | { aid: number };
export type SeasonRef = { epId: number } | { seasonId: number };

/** The few endpoints of the Bilibili web API a download needs, called the way the site's own player calls them. */
export class BilibiliApiClient {
  constructor(private readonly options: BilibiliApiOptions) {}

  /** Title, parts and their cids of a user video. */
  async view(ref: VideoRef): Promise<ViewData> {
    const params: Record<string, string | number> = 'bvid' in ref ? { bvid: ref.bvid } : { aid: ref.aid };
    return this.required('x/web-interface/view', await this.call<ViewData>('x/web-interface/view', query(params), 'data'));
  }

  /** The streams of one part of a user video: DASH when offered, durl otherwise. */
  async playUrl(bvid: string, cid: number): Promise<PlayInfo> {
    const params: WbiParams = { bvid, cid, qn: QN_BEST, fnver: 0, fnval: FNVAL_DASH_ALL, fourk: 1, web_location: 1315873 };
    const endpoint = 'x/player/wbi/playurl';
    let keys = await this.wbiKeys(false);
    try {
      return this.required(endpoint, await this.call<PlayInfo>(endpoint, signWbi(params, keys), 'data'));
    } catch (error) {
      if (!(error instanceof BilibiliApiError) || error.code !== CODE_BAD_SIGNATURE) throw error;
      // the keys rotated since they were cached: fetch fresh ones and sign again, once
      this.options.log('the WBI signature was refused; fetching fresh keys');
      keys = await this.wbiKeys(true);
      return this.required(endpoint, await this.call<PlayInfo>(endpoint, signWbi(params, keys), 'data'));
    }
  }

  /** A bangumi season with its episodes, by one of its episodes or by the season id. */
  async season(ref: SeasonRef): Promise<SeasonResult> {
    const params: Record<string, string | number> = 'epId' in ref ? { ep_id: ref.epId } : { season_id: ref.seasonId };
    return this.required('pgc/view/web/season', await this.call<SeasonResult>('pgc/view/web/season', query(params), 'result'));
  }

  /** The season a bangumi's media id (md…) names. */
  async mediaSeasonId(mediaId: number): Promise<number> {
    const endpoint = 'pgc/review/user';
    const result = this.required(endpoint, await this.call<MediaResult>(endpoint, query({ media_id: mediaId }), 'result'));
    const seasonId = result.media?.season_id;
    if (typeof seasonId !== 'number' || !Number.isSafeInteger(seasonId) || seasonId <= 0) throw new PermanentError(`Bilibili API ${endpoint} named no season for md${mediaId}`);
    return seasonId;
  }

  /** The streams of a bangumi episode; the v2 endpoint nests them in video_info. */
  async pgcPlayUrl(epId: number, cid: number): Promise<PlayInfo> {
    const endpoint = 'pgc/player/web/v2/playurl';
    const params = { ep_id: epId, cid, qn: QN_BEST, fnver: 0, fnval: FNVAL_DASH_ALL, fourk: 1, support_multi_audio: 'true', from_client: 'BROWSER' };
    const result = this.required(endpoint, await this.call<PgcPlayResult>(endpoint, query(params), 'result'));
    const info = result.video_info ?? result;
    if (info.is_preview === 1 || result.is_preview === 1) {
      this.options.log('Bilibili only offers a preview of this episode to this account; the file will be the preview');
    }
    return info;
  }

  private async wbiKeys(refresh: boolean): Promise<WbiKeys> {
    const cached = refresh ? null : this.options.wbiKeys.get();
    if (cached) return cached;
    // nav answers -101 to a visitor but still carries the keys, so its code is not checked here
    const envelope = await this.fetchEnvelope<NavData>('x/web-interface/nav', '');
    const image = envelope.data?.wbi_img;
    if (!image?.img_url || !image.sub_url) {
      throw new BilibiliApiError('x/web-interface/nav', envelope.code ?? 0, `${envelope.message ?? ''} (no wbi_img keys in the answer)`.trim());
    }
    const keys = { imgKey: wbiKeyFromUrl(image.img_url), subKey: wbiKeyFromUrl(image.sub_url) };
    this.options.wbiKeys.set(keys);
    return keys;
  }

  private async call<T>(endpoint: string, search: string, field: 'data' | 'result'): Promise<T | null | undefined> {
    const envelope = await this.fetchEnvelope<T>(endpoint, search);
    const code = envelope.code ?? 0;
    if (code !== 0) throw new BilibiliApiError(endpoint, code, envelope.message ?? envelope.msg ?? '');
    return envelope[field] ?? (field === 'result' ? envelope.data : envelope.result);
  }

  private required<T>(endpoint: string, payload: T | null | undefined): T {
    if (payload === null || payload === undefined || typeof payload !== 'object') {
      throw new PermanentError(`Bilibili API ${endpoint} answered code 0 but without data`);
    }
    return payload;
  }

  private async fetchEnvelope<T>(endpoint: string, search: string): Promise<ApiEnvelope<T>> {
    const url = `${this.options.apiBase}/${endpoint}${search ? `?${search}` : ''}`;
    const { text } = await this.options.http.fetchText(url, {
      headers: [['Accept', 'application/json, text/plain, */*'], ...this.options.headers],
      signal: this.options.signal,
      maxBytes: 8 * 1024 * 1024,
      onRetry: (attempt, error, delayMs) => this.options.log(`Bilibili API ${endpoint}: ${describeError(error)}; try ${attempt + 1} in ${delayMs} ms`),
    });
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as ApiEnvelope<T>;
    } catch {
      // reported below with the start of what came back
    }
    throw new PermanentError(`Bilibili API ${endpoint} answered something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

function query(params: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(params).map(([name, value]): [string, string] => [name, String(value)])).toString();
}
