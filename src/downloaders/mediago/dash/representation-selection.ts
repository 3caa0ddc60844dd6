import type { DashPeriod, DashRepresentation } from './mpd-manifest.js';

/** What one period contributes to the download: the best video and the best audio (either may be absent). */
export interface PeriodSelection {
  period: DashPeriod;
  video: DashRepresentation | null;
  audio: DashRepresentation | null;
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

export function selectRepresentations(period: DashPeriod): PeriodSelection {
  const video = period.representations.filter((representation) => representation.kind === 'video').sort(compareVideo)[0] ?? null;
  const audio = period.representations.filter((representation) => representation.kind === 'audio').sort(compareAudio)[0] ?? null;
  return { period, video, audio };
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
