import { type MediaQuality, languageMatches } from '../config/media-choice.js';

// How a task's media choice picks among what a source offers; HLS, DASH and Bilibili share these rules,
// each strategy orders its candidates best first by its own measure (bandwidth, quality id, codec).

export interface Picked<T> {
  item: T;
  /** Why the choice is not what was asked for, for the task log; null when it is. */
  fallback: string | null;
}

/**
 * The candidate for a quality, from candidates ordered best first: `best` (and `audio`, which callers treat
 * apart) takes the first; a height takes the tallest picture not above it (the best of that height), else the
 * smallest picture offered, with a fallback note. Candidates whose height is unknown count only when none is known.
 */
export function pickByHeight<T>(ordered: T[], heightOf: (candidate: T) => number | null, quality: MediaQuality): Picked<T> {
  if (ordered.length === 0) throw new Error('pickByHeight needs at least one candidate');
  if (typeof quality !== 'number') return { item: ordered[0], fallback: null };
  const known = ordered.filter((candidate) => heightOf(candidate) !== null);
  if (known.length === 0) return { item: ordered[0], fallback: `no picture height is given, so the maximum of ${quality} lines cannot be applied; took the best stream` };
  const fitting = known.filter((candidate) => heightOf(candidate)! <= quality);
  if (fitting.length > 0) {
    const tallest = Math.max(...fitting.map((candidate) => heightOf(candidate)!));
    return { item: fitting.find((candidate) => heightOf(candidate) === tallest)!, fallback: null };
  }
  const smallest = Math.min(...known.map((candidate) => heightOf(candidate)!));
  const offered = [...new Set(known.map((candidate) => heightOf(candidate)!))].sort((a, b) => a - b).map((height) => `${height}p`);
  return {
    item: known.find((candidate) => heightOf(candidate) === smallest)!,
    fallback: `no picture of at most ${quality} lines is offered (offered: ${offered.join(', ')}); took the nearest, ${smallest}p`,
  };
}

/** The first candidate in the first preferred language any candidate has; null when none matches (or none is preferred). */
export function pickByLanguage<T>(candidates: T[], languageOf: (candidate: T) => string | null, preferred: string[]): { item: T; language: string } | null {
  for (const language of preferred) {
    const item = candidates.find((candidate) => languageMatches(language, languageOf(candidate)));
    if (item !== undefined) return { item, language };
  }
  return null;
}

/** One candidate per requested language that has one, in the order asked, each candidate once; and the languages missing. */
export function pickEachLanguage<T>(candidates: T[], languageOf: (candidate: T) => string | null, requested: string[]): { picked: Array<{ item: T; language: string }>; missing: string[] } {
  const picked: Array<{ item: T; language: string }> = [];
  const missing: string[] = [];
  for (const language of requested) {
    const item = candidates.find((candidate) => languageMatches(language, languageOf(candidate)) && !picked.some((entry) => entry.item === candidate));
    if (item === undefined) missing.push(language);
    else picked.push({ item, language });
  }
  return { picked, missing };
}

/** "en, fr" or "none", for log lines that say what was offered. */
export function offeredLanguages(languages: Array<string | null>): string {
  const named = [...new Set(languages.map((language) => language ?? 'unnamed'))];
  return named.length > 0 ? named.join(', ') : 'none';
}

/** The tag a saved subtitle file is named by: the track's own language when it gives one, else the one asked for. */
export function fileLanguage(trackLanguage: string | null, requested: string): string {
  const tag = (trackLanguage ?? requested).trim();
  return /^[A-Za-z0-9-]{1,35}$/.test(tag) ? tag : requested;
}
