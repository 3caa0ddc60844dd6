import type { RenditionInfo, VariantInfo } from './playlist.js';

export interface Selection {
  variant: VariantInfo;
  /** An alternate audio rendition with its own playlist, to be muxed in; null when the variant carries its audio. */
  audio: RenditionInfo | null;
  /** A WebVTT subtitle rendition to mux as a text track; null when there is none. */
  subtitles: RenditionInfo | null;
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

/**
 * The rendition a player would pick from the variant's group: DEFAULT=YES, else AUTOSELECT=YES,
 * else the first. Null when the group is empty or the pick has no URI of its own (it rides in the variant).
 */
export function chooseRendition(renditions: RenditionInfo[]): RenditionInfo | null {
  const pick = renditions.find((rendition) => rendition.isDefault) ?? renditions.find((rendition) => rendition.autoselect) ?? renditions[0];
  return pick?.url ? pick : null;
}

export function selectStreams(variants: VariantInfo[]): Selection {
  const variant = chooseVariant(variants);
  return { variant, audio: chooseRendition(variant.audio), subtitles: chooseRendition(variant.subtitles) };
}
