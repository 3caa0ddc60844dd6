import { DEFAULT_MEDIA_CHOICE, type MediaQuality } from '../../config/media-choice.js';
import { offeredLanguages, pickByHeight, pickByLanguage, pickEachLanguage } from '../track-choice.js';
import type { RenditionInfo, VariantInfo } from './playlist.js';

export interface StreamChoice {
  quality: MediaQuality;
  audioLanguages: string[];
  subtitleLanguages: string[];
}

export interface Selection {
  /** The variant downloaded as the main track; null when the sound alone comes from an audio rendition. */
  variant: VariantInfo | null;
  /** An alternate audio rendition with its own playlist, to be muxed in (or, without a variant, the only track). */
  audio: RenditionInfo | null;
  /** WebVTT subtitle renditions, one per requested language the stream has. */
  subtitles: Array<{ rendition: RenditionInfo; language: string }>;
  /** Only the sound is kept (quality "audio"). */
  audioOnly: boolean;
  /** What could not be had as asked, and what was taken instead: lines for the task log. */
  notes: string[];
}

/** The best variant: highest BANDWIDTH, then the larger picture, then the higher AVERAGE-BANDWIDTH. */
export function chooseVariant(variants: VariantInfo[]): VariantInfo {
  if (variants.length === 0) throw new Error('chooseVariant needs at least one variant');
  return variants.reduce((best, candidate) => (compareVariants(candidate, best) > 0 ? candidate : best));
}

/** Positive when a is better than b. */
export function compareVariants(a: VariantInfo, b: VariantInfo): number {
  return (
    a.bandwidth - b.bandwidth ||
    pixels(a) - pixels(b) ||
    (a.averageBandwidth ?? 0) - (b.averageBandwidth ?? 0)
  );
}

function pixels(variant: VariantInfo): number {
  return variant.resolution ? variant.resolution.width * variant.resolution.height : 0;
}

const AUDIO_CODEC = /^(mp4a|ac-3|ec-3|ac-4|opus|flac|alac|mp3|dts[cehlx])/i;

/** A variant that carries sound only: no picture size, and audio codecs alone. */
export function isAudioOnlyVariant(variant: VariantInfo): boolean {
  if (variant.resolution || !variant.codecs) return false;
  const codecs = variant.codecs.split(',').map((codec) => codec.trim()).filter(Boolean);
  return codecs.length > 0 && codecs.every((codec) => AUDIO_CODEC.test(codec));
}

/**
 * The rendition a player would pick from the variant's group: DEFAULT=YES, else AUTOSELECT=YES,
 * else the first. Null when the group is empty or the pick has no URI of its own (it rides in the variant).
 */
export function chooseRendition(renditions: RenditionInfo[]): RenditionInfo | null {
  const pick = renditions.find((rendition) => rendition.isDefault) ?? renditions.find((rendition) => rendition.autoselect) ?? renditions[0];
  return pick?.url ? pick : null;
}

/** The variant, audio and subtitles a task's choice asks for, falling back to the nearest with a note for the log. */
export function selectStreams(variants: VariantInfo[], choice: StreamChoice = DEFAULT_MEDIA_CHOICE): Selection {
  if (variants.length === 0) throw new Error('selectStreams needs at least one variant');
  const notes: string[] = [];
  const ordered = [...variants].sort((a, b) => compareVariants(b, a));
  const withPicture = ordered.filter((variant) => !isAudioOnlyVariant(variant));
  const soundOnly = ordered.filter(isAudioOnlyVariant);

  let variant: VariantInfo | null;
  let audioOnly = false;
  if (choice.quality === 'audio') {
    audioOnly = true;
    const group = ordered[0].audio.filter((rendition) => rendition.url);
    if (soundOnly.length > 0) variant = soundOnly[0];
    else if (group.length > 0) variant = null;
    else {
      // the sound rides inside every variant: the smallest costs least, and its picture is dropped in the mux
      variant = ordered.at(-1)!;
      notes.push('the stream has no audio-only rendition: the smallest variant is downloaded and its picture dropped');
    }
  } else {
    const picked = pickByHeight(withPicture.length > 0 ? withPicture : ordered, (candidate) => candidate.resolution?.height ?? null, choice.quality);
    variant = picked.item;
    if (picked.fallback) notes.push(picked.fallback);
  }

  const groupOwner = variant ?? ordered[0];
  let audio: RenditionInfo | null = null;
  if (!variant || !isAudioOnlyVariant(variant)) {
    const renditions = groupOwner.audio;
    const preferred = pickByLanguage(renditions, (rendition) => rendition.language, choice.audioLanguages);
    if (preferred) audio = preferred.item.url ? preferred.item : null;
    else {
      audio = chooseRendition(renditions) ?? (variant ? null : (renditions.find((rendition) => rendition.url) ?? null));
      if (choice.audioLanguages.length > 0) {
        const taken = audio ? `"${audio.name}"${audio.language ? ` [${audio.language}]` : ''}` : 'the audio inside the variant';
        notes.push(`no audio in ${choice.audioLanguages.join(' or ')} is offered (offered: ${offeredLanguages(renditions.map((rendition) => rendition.language))}); took ${taken}`);
      }
    }
  }

  const subtitleRenditions = groupOwner.subtitles.filter((rendition) => rendition.url);
  const { picked, missing } = pickEachLanguage(subtitleRenditions, (rendition) => rendition.language, choice.subtitleLanguages);
  if (missing.length > 0) notes.push(`no subtitles in ${missing.join(', ')} (offered: ${offeredLanguages(subtitleRenditions.map((rendition) => rendition.language))})`);
  return { variant, audio, subtitles: picked.map(({ item, language }) => ({ rendition: item, language })), audioOnly, notes };
}
