import type { ResolvedEntry } from '../../engine/resolved-link.js';
import type { SeasonEpisode, SeasonResult, ViewData, ViewPage } from './bilibili-api.types.js';

/** Entries point at the site's own pages: a task made from one resolves it again through the API. */
const SITE = 'https://www.bilibili.com';

/** The parts of a user video, each as its ?p= page. */
export function partEntries(bvid: string, pages: ViewPage[]): ResolvedEntry[] {
  return pages.map((page, index) => {
    const number = page.page ?? index + 1;
    return { number, title: page.part?.trim() || null, url: `${SITE}/video/${bvid}?p=${number}`, duration: seconds(page.duration) };
  });
}

/** The parts the view answer lists; a video without a list is one part. */
export function viewPages(view: ViewData): ViewPage[] {
  return view.pages?.length ? view.pages : view.cid ? [{ cid: view.cid, page: 1, part: '' }] : [];
}

/** Every episode a season lists, main episodes first, then its sections (extras, trailers). */
export function allEpisodes(season: SeasonResult): SeasonEpisode[] {
  return [...(season.episodes ?? []), ...(season.section ?? []).flatMap((section) => section.episodes ?? [])];
}

/** What a season means when expanded: its main episodes; its sections only when it has no main episode. */
export function seasonEpisodes(season: SeasonResult): SeasonEpisode[] {
  return season.episodes?.length ? season.episodes : allEpisodes(season);
}

export function seasonName(season: SeasonResult): string {
  return (season.title ?? season.season_title ?? '').trim();
}

export function episodeId(episode: SeasonEpisode): number | null {
  return episode.ep_id ?? episode.id ?? null;
}

/** "第1话 The first" as the site shows it, or what the fields give: "EP1 The first", "The first". */
export function episodeName(episode: SeasonEpisode): string {
  if (episode.show_title?.trim()) return episode.show_title.trim();
  const number = episode.title?.trim() ?? '';
  const long = episode.long_title?.trim() ?? '';
  return [/^\d+$/.test(number) ? `EP${number}` : number, long].filter(Boolean).join(' ');
}

/** The episodes of a season as entries, numbered by their place in it; episodes without an id are left out. */
export function episodeEntries(episodes: SeasonEpisode[]): ResolvedEntry[] {
  const entries: ResolvedEntry[] = [];
  for (const [index, episode] of episodes.entries()) {
    const id = episodeId(episode);
    if (id === null) continue;
    entries.push({ number: index + 1, title: episodeName(episode) || `ep${id}`, url: `${SITE}/bangumi/play/ep${id}`, duration: seconds(episode.duration, 1000) });
  }
  return entries;
}

function seconds(value: number | undefined, per = 1): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round((value / per) * 1000) / 1000 : null;
}
