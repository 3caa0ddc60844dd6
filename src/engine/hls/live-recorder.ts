import { isAbortError, sleep } from '../abort.js';
import { describeError } from '../http-error.js';
import type { RecordedSegment } from './hls-state.js';
import type { MediaPlaylistInfo, MediaSegment } from './playlist.js';

export interface NewSegments {
  /** Segments not recorded yet, in sequence order. */
  fresh: MediaSegment[];
  /** True when the window moved past segments we never saw (we fell behind, or the stream restarted). */
  gap: boolean;
}

/**
 * The segments of a reloaded window that follow the last one recorded: each sequence number once, in order.
 * A window far behind the last recorded sequence is a restarted stream (its numbering began again), not a
 * stale copy of an old window: all of it is new, after a gap.
 */
export function pickNewSegments(segments: MediaSegment[], lastSequence: number | null): NewSegments {
  if (lastSequence === null) return { fresh: [...segments], gap: false };
  const highest = segments.reduce((max, segment) => Math.max(max, segment.sequence), -Infinity);
  if (segments.length > 0 && highest < lastSequence - Math.max(RESTART_MARGIN, 3 * segments.length)) {
    return { fresh: [...segments].sort((a, b) => a.sequence - b.sequence), gap: true };
  }
  const fresh = segments.filter((segment) => segment.sequence > lastSequence).sort((a, b) => a.sequence - b.sequence);
  return { fresh, gap: fresh.length > 0 && fresh[0].sequence > lastSequence + 1 };
}

/** How far back a window may lag (a stale cached playlist) before it counts as a restarted stream. */
const RESTART_MARGIN = 10;

/** How long to wait before the next reload: a target duration after a change, half of it when nothing was new (RFC 8216 §6.3.4). */
export function reloadDelayMs(playlist: MediaPlaylistInfo, changed: boolean): number {
  const target = Math.max(0.5, playlist.targetDuration || playlist.segments.at(-1)?.duration || 2) * 1000;
  return Math.round(changed ? target : target / 2);
}

export interface LiveTrackOptions {
  kind: string;
  initial: MediaPlaylistInfo;
  /** Segments recorded by an earlier run, in order; recording continues after the last of them. */
  recorded: RecordedSegment[];
  reload: (url: string, signal: AbortSignal) => Promise<MediaPlaylistInfo>;
  /** How long reloads may keep failing before the recording ends (default 60 s, at least three target durations). */
  reloadBudgetMs?: number;
  /** Queues one segment for download and says which files it will produce. */
  enqueue: (segment: MediaSegment) => { file: string; init: string | null };
  onRecorded: () => void;
  signal: AbortSignal;
  log: (line: string) => void;
}

export type LiveOutcome = 'ended' | 'stopped';

/**
 * Follows one live media playlist: reloads it on the target-duration cadence and queues each new
 * segment exactly once, in order, until EXT-X-ENDLIST ('ended') or the signal aborts ('stopped').
 */
export class LiveTrackRecorder {
  readonly recorded: RecordedSegment[];
  private lastDiscontinuitySequence: number | null = null;

  constructor(private readonly options: LiveTrackOptions) {
    this.recorded = [...options.recorded];
  }

  async run(): Promise<LiveOutcome> {
    const { log, kind } = this.options;
    let playlist = this.options.initial;
    // a resumed recording starts after a hole in time: mark it so the merge re-bases timestamps
    let pendingGap = this.recorded.length > 0;
    for (;;) {
      const { fresh, gap } = pickNewSegments(playlist.segments, this.lastSequence());
      if (gap && !pendingGap) log(`${kind}: the live window moved past segments that were never seen; the recording has a gap before segment ${fresh[0].sequence}`);
      for (const [index, segment] of fresh.entries()) this.record(segment, index === 0 && (gap || pendingGap));
      if (fresh.length > 0) {
        pendingGap = false;
        this.options.onRecorded();
      }
      if (playlist.endList) return 'ended';
      const reloaded = await this.reloadPatiently(playlist, fresh.length > 0);
      if (reloaded === 'stopped' || reloaded === 'ended') return reloaded;
      playlist = reloaded;
    }
  }

  /**
   * The next window. A failed reload (a CDN edge answering 404 or 403 for a moment) is tried again on the
   * reload cadence; only a playlist that stays unreachable for the whole budget ends the recording.
   */
  private async reloadPatiently(playlist: MediaPlaylistInfo, changed: boolean): Promise<MediaPlaylistInfo | LiveOutcome> {
    const { signal, log, kind } = this.options;
    const budgetMs = Math.max(this.options.reloadBudgetMs ?? 60_000, 3 * reloadDelayMs(playlist, true));
    let failingSince: number | null = null;
    let delay = reloadDelayMs(playlist, changed);
    for (;;) {
      try {
        await sleep(delay, signal);
        return await this.options.reload(playlist.url, signal);
      } catch (error) {
        if (isAbortError(error) || signal.aborted) return 'stopped';
        failingSince ??= Date.now();
        if (Date.now() - failingSince >= budgetMs) {
          log(`${kind}: the live playlist could not be reloaded for ${Math.round(budgetMs / 1000)} s (${describeError(error)}); ending the recording`);
          return 'ended';
        }
        log(`${kind}: the live playlist could not be reloaded (${describeError(error)}); trying again`);
        delay = reloadDelayMs(playlist, false);
      }
    }
  }

  private lastSequence(): number | null {
    return this.recorded.at(-1)?.sequence ?? null;
  }

  private record(segment: MediaSegment, afterGap: boolean): void {
    const newPeriod = this.lastDiscontinuitySequence !== null && segment.discontinuitySequence !== this.lastDiscontinuitySequence;
    this.lastDiscontinuitySequence = segment.discontinuitySequence;
    const { file, init } = this.options.enqueue(segment);
    const first = this.recorded.length === 0;
    this.recorded.push({ sequence: segment.sequence, discontinuity: !first && (segment.discontinuity || newPeriod || afterGap), file, init, duration: segment.duration });
  }
}
