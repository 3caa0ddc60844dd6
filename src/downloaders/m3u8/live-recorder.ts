import { isAbortError, sleep } from '../../engine/abort.js';
import { describeError } from '../../engine/http-error.js';
import type { RecordedSegment } from './hls-state.js';
import type { MediaPlaylistInfo, MediaSegment } from './playlist.js';

export interface NewSegments {
  /** Segments not recorded yet, in sequence order. */
  fresh: MediaSegment[];
  /** True when the window moved past segments we never saw (we fell behind, or the stream restarted). */
  gap: boolean;
}

/** The segments of a reloaded window that follow the last one recorded: each sequence number once, in order. */
export function pickNewSegments(segments: MediaSegment[], lastSequence: number | null): NewSegments {
  if (lastSequence === null) return { fresh: [...segments], gap: false };
  const fresh = segments.filter((segment) => segment.sequence > lastSequence).sort((a, b) => a.sequence - b.sequence);
  return { fresh, gap: fresh.length > 0 && fresh[0].sequence > lastSequence + 1 };
}

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
    const { signal, log, kind } = this.options;
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
      try {
        await sleep(reloadDelayMs(playlist, fresh.length > 0), signal);
        playlist = await this.options.reload(playlist.url, signal);
      } catch (error) {
        if (isAbortError(error) || signal.aborted) return 'stopped';
        log(`${kind}: the live playlist could not be reloaded (${describeError(error)}); ending the recording`);
        return 'ended';
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
    this.recorded.push({ sequence: segment.sequence, discontinuity: !first && (segment.discontinuity || newPeriod || afterGap), file, init });
  }
}
