import { createHash } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { abortError, isAbortError, sleep } from '../../../engine/abort.js';
import type { DownloadContext, DownloadJob } from '../../../engine/download-job.js';
import { describeError, PermanentError, redactUrl } from '../../../engine/http-error.js';
import { type MergeResult, type TrackFiles, mergeTracks } from '../../../engine/merge-tracks.js';
import { SegmentPool, type SegmentRequest } from '../../../engine/segment-pool.js';
import { readStateFile, writeStateFile } from '../../../engine/task-workspace.js';
import type { SegmentSessionDependencies } from '../../../engine/download-job.js';
import type { DashManifest, MediaReference } from './mpd-manifest.js';
import { describeRepresentation, selectRepresentations } from './representation-selection.js';

type TrackKind = 'video' | 'audio';

/** A live segment as recorded, kept across runs so that a resumed recording continues the same file. */
export interface RecordedPiece {
  /** The segment's address without its query string (tokens change): each is recorded once. */
  id: string;
  file: string;
  init: string | null;
  discontinuity: boolean;
}

interface DashLiveState {
  version: 1;
  fingerprint: string;
  live: Record<TrackKind, RecordedPiece[]>;
}

export interface DashLiveOptions {
  deps: SegmentSessionDependencies;
  job: DownloadJob;
  ctx: DownloadContext;
  segmentsDir: string;
  statePath: string;
  /** Fetches and parses the manifest again. */
  reload: (signal: AbortSignal) => Promise<DashManifest>;
  /** The pool request of one piece (label, mirrors, media check). */
  request: (what: string, reference: MediaReference, path: string) => SegmentRequest;
}

/** Reloads at this pace at the least and at the most, whatever minimumUpdatePeriod says. */
const MIN_RELOAD_MS = 500;
const MAX_RELOAD_MS = 10_000;
const DEFAULT_RELOAD_MS = 2_000;
/** A manifest that cannot be reloaded for this long ends the recording (CDN edges fail briefly now and then). */
const RELOAD_BUDGET_MS = 60_000;

/** The id of a piece: its URL without query string, and its byte range. */
export function pieceId(reference: MediaReference): string {
  return `${reference.url.replace(/[?#].*$/, '')} ${reference.range ? `${reference.range.start}-${reference.range.end}` : ''}`;
}

/** What identifies a live presentation across runs: its manifest address, query string left out. */
export function liveFingerprint(url: string): string {
  return createHash('sha1').update(`live dash\n${url.replace(/[?#].*$/, '')}\n`).digest('hex');
}

/**
 * Records a dynamic (live) DASH presentation as the HLS live recorder records a live playlist: reloads the
 * manifest on its update period, queues every new segment of the chosen video and audio once, in order,
 * until the manifest turns static (the stream ended) or the task is stopped; a stop keeps what was recorded
 * as the file. A resumed run continues the recording after a discontinuity.
 */
export class DashLiveRecording {
  private readonly recorded: Record<TrackKind, RecordedPiece[]> = { video: [], audio: [] };
  private readonly seen = new Set<string>();
  private readonly queuedInits = new Set<string>();
  private readonly afterGap: Record<TrackKind, boolean> = { video: false, audio: false };
  private readonly lastInit: Record<TrackKind, string | null> = { video: null, audio: null };
  private kinds: TrackKind[] = [];
  private saving = Promise.resolve();
  private fingerprint = '';

  constructor(private readonly options: DashLiveOptions) {}

  async run(initial: DashManifest): Promise<MergeResult & { partial?: boolean }> {
    const { ctx, job, deps } = this.options;
    await this.adoptState(initial.url);
    this.kinds = this.chooseKinds(initial);
    const pool = new SegmentPool({
      http: deps.http,
      headers: job.headers,
      concurrency: deps.config.segmentConcurrency,
      retry: { attempts: deps.config.retryAttempts, baseDelayMs: deps.config.retryBaseDelayMs },
      stallTimeoutMs: deps.config.stallTimeoutMs,
      signal: ctx.signal,
      log: (line) => ctx.log(line),
      onProgress: (progress) => ctx.progress({ downloadedBytes: progress.bytes, totalBytes: null, percent: null }),
      tolerateFailures: true,
    });
    ctx.log(`live DASH: recording ${this.kinds.join(' and ')} until the stream ends or the task is stopped`);
    const outcome = await this.follow(initial, pool);
    let stopped = outcome === 'stopped' || ctx.signal.aborted;
    if (!stopped) {
      try {
        await pool.settled();
      } catch (error) {
        if (!isAbortError(error)) throw error;
        stopped = true;
      }
    }
    await this.saving;
    const plans = await Promise.all(this.kinds.map((kind) => completedTrack(kind, this.recorded[kind])));
    const main = plans.find((plan) => plan.kind === 'video') ?? plans[0];
    const audio = main.kind === 'video' ? (plans.find((plan) => plan.kind === 'audio') ?? null) : null;
    if (main.segments.length === 0) {
      if (stopped) throw abortError(ctx.signal);
      throw new Error(`no segment of the live DASH stream ${redactUrl(initial.url)} could be recorded`);
    }
    ctx.log(`live: ${stopped ? 'stopped' : 'the stream ended'}; ${main.segments.length} ${main.kind} segments recorded`);
    // after a stop the task's signal is already aborted: the merge of what was recorded runs on its own
    const result = await mergeTracks({
      ffmpeg: deps.ffmpeg,
      workDir: job.workDir,
      baseName: 'output',
      video: main,
      audio,
      subtitles: null,
      audioOnly: job.quality === 'audio',
      signal: stopped ? undefined : ctx.signal,
      log: (line) => ctx.log(line),
    });
    if (job.deleteSegments) await rm(this.options.segmentsDir, { recursive: true, force: true });
    return stopped ? { ...result, partial: true } : result;
  }

  /** Takes every new segment of each manifest until it turns static ('ended') or the task stops ('stopped'). */
  private async follow(initial: DashManifest, pool: SegmentPool): Promise<'ended' | 'stopped'> {
    const { ctx, reload } = this.options;
    let manifest = initial;
    for (;;) {
      this.take(manifest, pool);
      if (!manifest.dynamic) return 'ended';
      const delay = Math.min(MAX_RELOAD_MS, Math.max(MIN_RELOAD_MS, manifest.updatePeriod ? manifest.updatePeriod * 1000 : DEFAULT_RELOAD_MS));
      let failingSince: number | null = null;
      for (;;) {
        try {
          await sleep(delay, ctx.signal);
          manifest = await reload(ctx.signal);
          break;
        } catch (error) {
          if (isAbortError(error) || ctx.signal.aborted) return 'stopped';
          failingSince ??= Date.now();
          if (Date.now() - failingSince >= RELOAD_BUDGET_MS) {
            ctx.log(`live: the manifest could not be reloaded for ${RELOAD_BUDGET_MS / 1000} s (${describeError(error)}); ending the recording`);
            return 'ended';
          }
          ctx.log(`live: the manifest could not be reloaded (${describeError(error)}); trying again`);
        }
      }
    }
  }

  private chooseKinds(manifest: DashManifest): TrackKind[] {
    const period = manifest.periods.at(-1);
    const selection = period ? selectRepresentations(period, this.options.job) : null;
    const kinds = (['video', 'audio'] as const).filter((kind) => selection?.[kind]);
    if (!selection || kinds.length === 0) throw new PermanentError(`the live DASH manifest ${redactUrl(manifest.url)} has no video or audio representation in its current period`);
    const chosen = [selection.video, selection.audio].filter((choice) => choice !== null).map(describeRepresentation).join(' + ');
    this.options.ctx.log(`live DASH: ${redactUrl(manifest.url)}; chose ${chosen}`);
    for (const note of selection.notes) this.options.ctx.log(`quality/language: ${note}`);
    if (selection.text.length > 0) this.options.ctx.log('quality/language: subtitles are not recorded from live DASH');
    return kinds;
  }

  /** Queues the segments of the window that were not seen before, each track in order. */
  private take(manifest: DashManifest, pool: SegmentPool): void {
    const { segmentsDir, request } = this.options;
    let added = false;
    for (const period of manifest.periods) {
      const selection = selectRepresentations(period, this.options.job);
      for (const kind of this.kinds) {
        const representation = selection[kind];
        if (!representation) continue;
        const dir = join(segmentsDir, kind);
        let init: string | null = null;
        if (representation.init) {
          init = join(dir, `init-${createHash('sha1').update(pieceId(representation.init)).digest('hex').slice(0, 12)}.mp4`);
          if (!this.queuedInits.has(init)) {
            this.queuedInits.add(init);
            pool.add([request(`live ${kind} initialization segment`, representation.init, init)]);
          }
        }
        for (const segment of representation.segments) {
          const id = pieceId(segment);
          if (this.seen.has(id)) continue;
          this.seen.add(id);
          const list = this.recorded[kind];
          const file = join(dir, `live-${list.length}.m4s`);
          pool.add([request(`live ${kind} segment ${list.length + 1}`, segment, file)]);
          // a new init section is a new period or encoding: its timestamps start again
          list.push({ id, file, init, discontinuity: list.length > 0 && (this.afterGap[kind] || init !== this.lastInit[kind]) });
          this.afterGap[kind] = false;
          this.lastInit[kind] = init;
          added = true;
        }
      }
    }
    if (added) this.save();
  }

  private save(): void {
    const state: DashLiveState = { version: 1, fingerprint: this.fingerprint, live: this.recorded };
    const snapshot = JSON.parse(JSON.stringify(state)) as DashLiveState;
    this.saving = this.saving.then(() => writeStateFile(this.options.statePath, snapshot)).catch(() => undefined);
  }

  /** Continues the recording of an earlier run of the same stream; starts clean otherwise. */
  private async adoptState(url: string): Promise<void> {
    const { statePath, segmentsDir, ctx } = this.options;
    this.fingerprint = liveFingerprint(url);
    const previous = await readStateFile<DashLiveState>(statePath);
    if (previous?.version === 1 && previous.fingerprint === this.fingerprint && previous.live) {
      for (const kind of ['video', 'audio'] as const) {
        const list = Array.isArray(previous.live[kind]) ? previous.live[kind] : [];
        this.recorded[kind] = list;
        for (const piece of list) this.seen.add(piece.id);
        // the next segment comes after a hole in time: the merge re-bases timestamps there
        this.afterGap[kind] = list.length > 0;
        this.lastInit[kind] = list.at(-1)?.init ?? null;
      }
      ctx.log(`resuming the live recording: ${this.recorded.video.length + this.recorded.audio.length} segments already recorded`);
      return;
    }
    if (previous) ctx.log('the stream changed since the last run: starting over');
    await rm(segmentsDir, { recursive: true, force: true });
    await writeStateFile(statePath, { version: 1, fingerprint: this.fingerprint, live: this.recorded } satisfies DashLiveState);
  }
}

/** Recorded segments that made it to disk, in order; a missing one turns the next into a discontinuity. */
async function completedTrack(kind: TrackKind, recorded: RecordedPiece[]): Promise<TrackFiles> {
  const segments: TrackFiles['segments'] = [];
  let missing = false;
  for (const piece of recorded) {
    if (!(await isFile(piece.file)) || (piece.init && !(await isFile(piece.init)))) {
      missing = true;
      continue;
    }
    segments.push({ file: piece.file, init: piece.init, discontinuity: segments.length > 0 && (piece.discontinuity || missing) });
    missing = false;
  }
  return { kind, segments };
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}
