// The values of a task's media choice (quality, audio and subtitle languages), read the same way from the
// environment, the settings API and task requests. Here, in the lowest layer, because all of them parse them.

/** `best`; a maximum picture height in pixels (the tallest picture not above it); `audio`: the sound alone. */
export type MediaQuality = 'best' | 'audio' | number;

/** The choices one run downloads with: the task's own, else the installation's defaults. */
export interface MediaChoice {
  quality: MediaQuality;
  /** Preferred audio languages, best first (canonical BCP-47 tags); empty: the source's default audio. */
  audioLanguages: string[];
  /** Subtitle languages to save (canonical BCP-47 tags); empty: none. */
  subtitleLanguages: string[];
}

export const DEFAULT_MEDIA_CHOICE: MediaChoice = { quality: 'best', audioLanguages: [], subtitleLanguages: [] };

/** Tallest picture a quality may ask for: 16K is 8640 lines, so more is a typo. */
export const MAX_QUALITY_HEIGHT = 8640;
/** Languages in one list: a handful is normal, hundreds a mistake. */
export const MAX_LANGUAGES = 20;

/** Why a quality value is refused (completes "quality …"), or null. Accepts `best`, `audio`, 1080, "1080", "1080p". */
export function qualityProblem(value: unknown): string | null {
  return parseQuality(value) === null ? `must be "best", "audio" or a maximum picture height such as 1080 (1 to ${MAX_QUALITY_HEIGHT})` : null;
}

export function parseQuality(value: unknown): MediaQuality | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 && value <= MAX_QUALITY_HEIGHT ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim().toLowerCase();
  if (text === 'best' || text === 'audio') return text;
  const match = /^(\d{1,5})p?$/.exec(text);
  return match ? parseQuality(Number(match[1])) : null;
}

/** How a quality is stored and shown: "best", "audio", "1080". */
export function qualityText(quality: MediaQuality): string {
  return String(quality);
}

/** The canonical form of a BCP-47 tag ("eng" → "en", "zh_cn" → "zh-CN"), or null when it is not one. */
export function canonicalLanguage(tag: string): string | null {
  const text = tag.trim().replace(/_/g, '-');
  if (!text || text.length > 35 || !/^[A-Za-z0-9-]+$/.test(text)) return null;
  try {
    return Intl.getCanonicalLocales(text)[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * A language list from a request or a variable: an array of tags, or one string of tags separated by commas.
 * Null when an entry is not a BCP-47 tag or the list is too long; duplicates are dropped, order kept.
 */
export function parseLanguages(value: unknown): string[] | null {
  const entries = typeof value === 'string' ? value.split(',').map((entry) => entry.trim()).filter(Boolean) : value;
  if (!Array.isArray(entries) || entries.length > MAX_LANGUAGES) return null;
  const tags: string[] = [];
  for (const entry of entries) {
    const tag = typeof entry === 'string' ? canonicalLanguage(entry) : null;
    if (!tag) return null;
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** Why a language list is refused (completes "<field> …"), or null. */
export function languagesProblem(value: unknown): string | null {
  return parseLanguages(value) === null ? `must be a list of at most ${MAX_LANGUAGES} BCP-47 language tags such as ["zh", "en"] (or one string "zh,en")` : null;
}

/** How a language list is stored: "zh,en"; "" is an empty list (as opposed to null: not set). */
export function languagesText(tags: string[]): string {
  return tags.join(',');
}

/** A stored list back into tags; null stays null (not set). */
export function storedLanguages(text: string | null): string[] | null {
  if (text === null) return null;
  return text.split(',').filter(Boolean);
}

/**
 * Whether a track's language tag answers a requested one (RFC 4647 basic filtering on canonical tags):
 * "zh" matches "zh", "zh-Hans" and "chi"; "zh-Hant" does not match "zh-Hans" or a bare "zh".
 */
export function languageMatches(requested: string, track: string | null | undefined): boolean {
  if (!track) return false;
  const range = (canonicalLanguage(requested) ?? requested).toLowerCase();
  const tag = (canonicalLanguage(track) ?? track).toLowerCase();
  return tag === range || tag.startsWith(`${range}-`);
}
