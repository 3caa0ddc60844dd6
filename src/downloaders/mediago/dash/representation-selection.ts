import { DEFAULT_MEDIA_CHOICE, type MediaChoice } from '../../../config/media-choice.js';
import { fileLanguage, offeredLanguages, pickByHeight, pickByLanguage, pickEachLanguage } from '../../../engine/track-choice.js';
import type { DashPeriod, DashRepresentation } from './mpd-manifest.js';

/** What one period contributes to the download: the chosen video, audio and subtitles (any may be absent). */
export interface PeriodSelection {
  period: DashPeriod;
  video: DashRepresentation | null;
  audio: DashRepresentation | null;
  /** One text representation (WebVTT or TTML) per requested language the period has, with the language its file is named by. */
  text: Array<{ representation: DashRepresentation; language: string }>;
  /** What could not be had as asked, and what was taken instead: lines for the task log. */
  notes: string[];
}

// roles that are not the programme's own sound: taken only when nothing else is offered
const SECONDARY_AUDIO_ROLES = new Set(['commentary', 'description', 'alternate', 'supplementary', 'emergency', 'dub']);

/** Highest bandwidth first; equal bandwidths go to the larger picture. */
export function compareVideo(a: DashRepresentation, b: DashRepresentation): number {
  return b.bandwidth - a.bandwidth || pixels(b) - pixels(a);
}

/** The main programme sound before commentary or description tracks, then the highest bandwidth. */
export function compareAudio(a: DashRepresentation, b: DashRepresentation): number {
  return secondary(a) - secondary(b) || b.bandwidth - a.bandwidth;
}

/**
 * A text representation this service can save as WebVTT: WebVTT files, and TTML as a file or as `stpp` samples in
 * MP4 segments (converted). WebVTT inside MP4 segments (`wvtt`) is not converted.
 */
export function isSavableText(representation: DashRepresentation): boolean {
  const mime = (representation.mimeType ?? '').toLowerCase();
  const codecs = (representation.codecs ?? '').toLowerCase();
  const file = representation.segments[0]?.url.split('?')[0] ?? '';
  if (codecs.startsWith('wvtt')) return false;
  if (mime === 'text/vtt' || codecs.startsWith('stpp') || mime.includes('ttml')) return true;
  return mime === '' && /\.(vtt|ttml|dfxp)$/i.test(file);
}

export function selectRepresentations(period: DashPeriod, choice: MediaChoice = DEFAULT_MEDIA_CHOICE): PeriodSelection {
  const notes: string[] = [];
  const videos = period.representations.filter((representation) => representation.kind === 'video').sort(compareVideo);
  let video: DashRepresentation | null = null;
  if (choice.quality !== 'audio' && videos.length > 0) {
    const picked = pickByHeight(videos, (representation) => representation.height, choice.quality);
    video = picked.item;
    if (picked.fallback) notes.push(picked.fallback);
  }

  const audios = period.representations.filter((representation) => representation.kind === 'audio').sort(compareAudio);
  const preferred = pickByLanguage(audios, (representation) => representation.language, choice.audioLanguages);
  const audio = preferred?.item ?? audios[0] ?? null;
  if (!preferred && audio && choice.audioLanguages.length > 0) {
    notes.push(`no audio in ${choice.audioLanguages.join(' or ')} is offered (offered: ${offeredLanguages(audios.map((representation) => representation.language))}); took "${audio.id}"${audio.language ? ` [${audio.language}]` : ''}`);
  }
  if (choice.quality === 'audio' && !audio && videos.length > 0) notes.push('the presentation has no audio track: nothing can be saved for quality "audio"');

  const texts = period.representations.filter((representation) => representation.kind === 'text');
  const usable = texts.filter(isSavableText);
  const { picked, missing } = pickEachLanguage(usable, (representation) => representation.language, choice.subtitleLanguages);
  for (const language of missing) {
    const unsupported = texts.find((representation) => !isSavableText(representation) && pickByLanguage([representation], (each) => each.language, [language]));
    notes.push(
      unsupported
        ? `the ${language} subtitles are ${describeText(unsupported)}, which is not converted: WebVTT and TTML are saved`
        : `no subtitles in ${language} (offered: ${offeredLanguages(texts.map((representation) => representation.language))})`,
    );
  }
  const text = picked.map(({ item, language }) => ({ representation: item, language: fileLanguage(item.language, language) }));
  return { period, video, audio, text, notes };
}

function describeText(representation: DashRepresentation): string {
  const codecs = (representation.codecs ?? '').toLowerCase();
  if (codecs.startsWith('stpp') || (representation.mimeType ?? '').includes('ttml')) return 'TTML';
  if (codecs.startsWith('wvtt')) return 'WebVTT inside MP4 segments';
  return `${representation.mimeType ?? 'an unknown format'}${representation.codecs ? ` (${representation.codecs})` : ''}`;
}

/** A short description for the task log, e.g. `video "720p" 1280x720 3000 kbit/s avc1.64001f`. */
export function describeRepresentation(representation: DashRepresentation): string {
  const size = representation.width && representation.height ? ` ${representation.width}x${representation.height}` : '';
  const language = representation.language ? ` [${representation.language}]` : '';
  const codecs = representation.codecs ? ` ${representation.codecs}` : '';
  return `${representation.kind} "${representation.id}"${size}${language} ${Math.round(representation.bandwidth / 1000)} kbit/s${codecs}`;
}

function pixels(representation: DashRepresentation): number {
  return (representation.width ?? 0) * (representation.height ?? 0);
}

function secondary(representation: DashRepresentation): number {
  return representation.role && SECONDARY_AUDIO_ROLES.has(representation.role.toLowerCase()) ? 1 : 0;
}
