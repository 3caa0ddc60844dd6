// The JSON the Bilibili web API answers, as far as this client reads it. Every field is optional
// because the site omits, renames (snake_case / camelCase) or nulls them from one endpoint to the next.

/** `{code, message, ttl, data}` for x/… endpoints; pgc/… endpoints put the payload in `result`. */
export interface ApiEnvelope<T> {
  code?: number;
  message?: string;
  msg?: string;
  ttl?: number;
  data?: T | null;
  result?: T | null;
}

export interface NavData {
  isLogin?: boolean;
  uname?: string;
  wbi_img?: { img_url?: string; sub_url?: string } | null;
}

export interface ViewPage {
  cid: number;
  page?: number;
  part?: string;
  duration?: number;
}

export interface ViewData {
  aid?: number;
  bvid?: string;
  title?: string;
  cid?: number;
  videos?: number;
  pages?: ViewPage[] | null;
  /** Set when the av/BV id belongs to a bangumi episode, e.g. https://www.bilibili.com/bangumi/play/ep1234. */
  redirect_url?: string;
}

export interface DashStream {
  id?: number;
  base_url?: string;
  baseUrl?: string;
  backup_url?: string[] | null;
  backupUrl?: string[] | null;
  bandwidth?: number;
  mime_type?: string;
  mimeType?: string;
  codecs?: string;
  codecid?: number;
  width?: number;
  height?: number;
  frame_rate?: string;
  frameRate?: string;
}

export interface DashInfo {
  duration?: number;
  video?: DashStream[] | null;
  audio?: DashStream[] | null;
  dolby?: { type?: number; audio?: DashStream[] | null } | null;
  flac?: { display?: boolean; audio?: DashStream | null } | null;
}

export interface DurlSegment {
  order?: number;
  length?: number;
  size?: number;
  url?: string;
  backup_url?: string[] | null;
  backupUrl?: string[] | null;
}

export interface PlayInfo {
  quality?: number;
  format?: string;
  timelength?: number;
  dash?: DashInfo | null;
  durl?: DurlSegment[] | null;
  is_preview?: number;
}

/** pgc/player/web/v2/playurl wraps the play info in video_info; the older endpoint answers it directly. */
export interface PgcPlayResult extends PlayInfo {
  video_info?: PlayInfo | null;
}

export interface SeasonEpisode {
  id?: number;
  ep_id?: number;
  aid?: number;
  bvid?: string;
  cid?: number;
  title?: string;
  long_title?: string;
  show_title?: string;
  /** Milliseconds. */
  duration?: number;
}

export interface SeasonResult {
  season_id?: number;
  title?: string;
  season_title?: string;
  episodes?: SeasonEpisode[] | null;
  section?: Array<{ episodes?: SeasonEpisode[] | null }> | null;
}

/** pgc/review/user: a bangumi's media entry, which names its season. */
export interface MediaResult {
  media?: { media_id?: number; season_id?: number; title?: string } | null;
}
