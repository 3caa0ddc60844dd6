import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { abortError, isAbortError } from '../abort.js';
import { redactUrl } from '../http-error.js';
import { inTurn } from '../in-turn.js';
import { HLS_FRAGMENT, HLS_SEGMENT } from '../media-sniff.js';
import { type PoolProgress, SegmentPool, type SegmentRequest } from '../segment-pool.js';
import type { DownloadContext, DownloadJob, DownloadOutput, SegmentSessionDependencies, SubtitleFile } from '../download-job.js';
import { segmentStartSeconds } from '../media-start-time.js';
import { fileLanguage } from '../track-choice.js';
import { type MergeResult, type TrackFiles, mergeTracks } from '../merge-tracks.js';
import { type HlsState, type RecordedSegment, fingerprint, readState, writeState } from './hls-state.js';
import { LiveTrackRecorder } from './live-recorder.js';
import { type MediaPlaylistInfo, type MediaSegment, type PlaylistInfo, parsePlaylist, titleFromUrl } from './playlist.js';
import { KeyStore, assertSupportedEncryption } from './segment-crypto.js';
import { selectStreams } from './variant-selection.js';
import { mergeWebVtt } from '../webvtt.js';
import { type StreamTrackIndex, trackIndex, writeStreamIndex } from '../stream-index.js';

type TrackKind = 'video' | 'audio' | 'subtitles';

interface Track {
  kind: TrackKind;
  /** Its folder under segments/ and its key in the saved state: "video", "audio", "subtitles-0"… */
  dir: string;
  playlist: MediaPlaylistInfo;
  /** The language a subtitle file is named by. */
  language?: string;
  /** What the master playlist said of the chosen variant (its codecs cover the alternate audio too). */
  variant?: { bandwidth: number; codecs: string | null };
}

/** A track's download plan: the pool requests, and the files in playback order for the merge. */
interface TrackPlan {
  kind: TrackKind;
  language?: string;
  requests: SegmentRequest[];
  files: TrackFiles['segments'];
}

type SessionResult = MergeResult & { partial?: boolean; subtitles?: SubtitleFile[] };

const SEGMENTS_DIR = 'segments';
/** 30,000 segments with long signed URLs fit; a larger playlist is refused before it is parsed. */
const PLAYLIST_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Downloads one HLS stream (master or media playlist, VOD or live) into a single file in job.workDir.
 * Not a Nest provider on purpose: the m3u8 strategy and the mediago strategy (after its probe) both drive it.
 */
export class HlsSession {
  private readonly keys: KeyStore;
  private readonly segmentsDir: string;
  /** Quality "audio": the picture is dropped in the mux. */
  private audioOnly = false;

  constructor(
    private readonly deps: SegmentSessionDependencies,
    private readonly job: DownloadJob,
    private readonly ctx: DownloadContext,
  ) {
    this.keys = new KeyStore(deps.http, job.headers, ctx.signal);
    this.segmentsDir = join(job.workDir, SEGMENTS_DIR);
  }

  /** Runs the download; `prefetched` lets a caller that already fetched the playlist (a probe) hand it over. */
  async run(prefetched?: { text: string; url: string }): Promise<DownloadOutput> {
    const { job, ctx } = this;
    await mkdir(job.workDir, { recursive: true });
    const source = prefetched ? await inTurn(() => parsePlaylist(prefetched.text, prefetched.url)) : await this.loadPlaylist(job.url);
    const tracks = await this.resolveTracks(source);
    for (const track of tracks) assertSupportedEncryption(track.playlist.segments, track.playlist.url);
    const video = tracks[0].playlist;
    ctx.log(`HLS: ${video.segments.length} segments in ${redactUrl(video.url)}${tracks.length > 1 ? ` (+ ${tracks.slice(1).map((track) => (track.language ? `${track.kind} ${track.language}` : track.kind)).join(', ')})` : ''}`);
    const live = job.isLive || !video.endList;
    const result = live ? await this.record(tracks) : await this.download(tracks);
    const title = job.nameIsDerived ? titleFromUrl(job.url) : undefined;
    return { ...result, ...(title ? { title } : {}) };
  }

  private async loadPlaylist(url: string, signal = this.ctx.signal): Promise<PlaylistInfo> {
    const { text, url: finalUrl } = await this.deps.http.fetchText(url, {
      headers: this.job.headers,
      signal,
      maxBytes: PLAYLIST_MAX_BYTES,
      onRetry: (attempt, error, delay) => this.ctx.log(`playlist ${redactUrl(url)}: ${String((error as Error).message)}; retrying in ${delay} ms`),
    });
    return inTurn(() => parsePlaylist(text, finalUrl));
  }

  private async loadMedia(url: string, signal = this.ctx.signal): Promise<MediaPlaylistInfo> {
    const playlist = await this.loadPlaylist(url, signal);
    if (playlist.kind !== 'media') throw new Error(`${redactUrl(url)} is a master playlist where a media playlist was expected`);
    return playlist;
  }

  /**
   * The main track first (the chosen variant, or the audio rendition alone for quality "audio"), then the
   * alternate audio and the subtitles the task's choice takes from a master playlist.
   */
  private async resolveTracks(source: PlaylistInfo): Promise<Track[]> {
    const { job, ctx } = this;
    if (source.kind === 'media') {
      this.audioOnly = job.quality === 'audio';
      if (typeof job.quality === 'number' || job.audioLanguages.length > 0 || job.subtitleLanguages.length > 0) {
        ctx.log('the playlist is a single media playlist: there is no other quality, audio language or subtitle track to choose; it is downloaded as it is');
      }
      return [{ kind: 'video', dir: 'video', playlist: source }];
    }
    const selection = selectStreams(source.variants, job);
    const { variant } = selection;
    this.audioOnly = selection.audioOnly;
    const size = variant?.resolution ? ` ${variant.resolution.width}x${variant.resolution.height}` : '';
    const chosen = [
      variant ? `${variant.bandwidth} bit/s${size}` : 'no video',
      ...(selection.audio ? [`audio "${selection.audio.name}"${selection.audio.language ? ` [${selection.audio.language}]` : ''}`] : []),
      ...selection.subtitles.map(({ rendition }) => `subtitles "${rendition.name}"${rendition.language ? ` [${rendition.language}]` : ''}`),
    ];
    ctx.log(`master playlist: ${source.variants.length} variants; chose ${chosen.join(', ')}${selection.audioOnly ? ' (the sound alone)' : ''}`);
    for (const note of selection.notes) ctx.log(`quality/language: ${note}`);
    const [main, audio, ...subtitles] = await Promise.all([
      variant ? this.loadMedia(variant.url) : null,
      selection.audio?.url ? this.loadMedia(selection.audio.url) : null,
      ...selection.subtitles.map(({ rendition }) => this.loadMedia(rendition.url!)),
    ]);
    const tracks: Track[] = [];
    if (main) tracks.push({ kind: 'video', dir: 'video', playlist: main, variant: variant ? { bandwidth: variant.bandwidth, codecs: variant.codecs } : undefined });
    if (audio) tracks.push({ kind: 'audio', dir: 'audio', playlist: audio });
    subtitles.forEach((playlist, index) => {
      const { rendition, language } = selection.subtitles[index];
      tracks.push({ kind: 'subtitles', dir: `subtitles-${index}`, playlist: playlist!, language: fileLanguage(rendition.language, language) });
    });
    return tracks;
  }

  // ---- VOD ---------------------------------------------------------------------------------

  private async download(tracks: Track[]): Promise<SessionResult> {
    const { job, ctx } = this;
    await this.adoptState({ version: 1, fingerprint: fingerprint(tracks.map((track) => ({ kind: track.dir, segments: track.playlist.segments }))), live: null });
    const plans = await inTurn(() => tracks.map((track) => this.planTrack(track)));
    await this.writeIndex(tracks, plans);
    const pool = this.createPool(false, (progress) => ctx.progress(vodProgress(progress)));
    pool.add(plans.flatMap((plan) => plan.requests));
    await pool.settled();
    ctx.progress(vodProgress(pool.progress()));
    const result = await this.merge(plans, ctx.signal);
    if (job.deleteSegments) await rm(this.segmentsDir, { recursive: true, force: true });
    return result;
  }

  private planTrack(track: Track): TrackPlan {
    const requests: SegmentRequest[] = [];
    const inits = new Map<string, string>();
    const files = track.playlist.segments.map((segment) => {
      const init = segment.init ? this.initFile(track, segment, inits, requests) : null;
      const file = this.segmentFile(track, segment);
      requests.push(this.segmentRequest(track, segment, file));
      return { file, init, discontinuity: segment.discontinuity };
    });
    return { kind: track.kind, language: track.language, requests, files };
  }

  /** Lists the planned segments with their durations, so that the API can offer them as a growing local playlist. */
  private async writeIndex(tracks: Track[], plans: TrackPlan[]): Promise<void> {
    const indexed: StreamTrackIndex[] = [];
    for (const [position, plan] of plans.entries()) {
      if (plan.kind === 'subtitles') continue;
      const { segments } = tracks[position].playlist;
      const files = plan.files.map((file, index) => ({ ...file, duration: segments[index].duration }));
      indexed.push(trackIndex(this.job.workDir, plan.kind, files, streamInfo(tracks[position])));
    }
    await writeStreamIndex(this.job.workDir, { version: 1, live: false, tracks: indexed });
  }

  private segmentFile(track: Track, segment: MediaSegment, stem = String(segment.sequence)): string {
    const extension = track.kind === 'subtitles' ? '.vtt' : extname(new URL(segment.url).pathname).toLowerCase().replace(/[^.a-z0-9]/g, '').slice(0, 6) || '.seg';
    return join(this.segmentsDir, track.dir, `${stem}${extension}`);
  }

  private segmentRequest(track: Track, segment: MediaSegment, file: string): SegmentRequest {
    const prefix = track.kind === 'video' ? '' : `${track.kind} `;
    return {
      label: `${prefix}segment ${segment.position + 1} of ${redactUrl(track.playlist.url)}`,
      url: segment.url,
      range: segment.range ? { start: segment.range.offset, end: segment.range.offset + segment.range.length - 1 } : null,
      path: file,
      stages: segment.key ? () => this.keys.stagesFor(segment) : undefined,
      // subtitles are read as text by the WebVTT merge; media must look like media before ffmpeg sees it
      check: track.kind === 'subtitles' ? undefined : segment.init ? HLS_FRAGMENT : HLS_SEGMENT,
    };
  }

  /** The file of a segment's EXT-X-MAP, queued once per distinct map. */
  private initFile(track: Track, segment: MediaSegment, known: Map<string, string>, requests: SegmentRequest[]): string {
    const init = segment.init!;
    const identity = `${init.url.split('?')[0]} ${init.range?.offset ?? ''}-${init.range?.length ?? ''}${init.key ? ` ${init.key.url?.split('?')[0]}` : ''}`;
    let file = known.get(identity);
    if (!file) {
      file = join(this.segmentsDir, track.dir, `init-${createHash('sha1').update(identity).digest('hex').slice(0, 12)}.mp4`);
      known.set(identity, file);
      requests.push({
        label: `${track.kind === 'video' ? '' : `${track.kind} `}init section (EXT-X-MAP) of ${redactUrl(track.playlist.url)}`,
        url: init.url,
        range: init.range ? { start: init.range.offset, end: init.range.offset + init.range.length - 1 } : null,
        path: file,
        // an init section declared after an AES-128 EXT-X-KEY is encrypted with that key, like the segments
        stages: init.key ? () => this.keys.stagesFor({ key: init.key, sequence: init.sequence }) : undefined,
        check: HLS_FRAGMENT,
      });
    }
    return file;
  }

  private createPool(live: boolean, onProgress: (progress: PoolProgress) => void): SegmentPool {
    const { config, http } = this.deps;
    return new SegmentPool({
      http,
      headers: this.job.headers,
      concurrency: config.segmentConcurrency,
      retry: { attempts: config.retryAttempts, baseDelayMs: config.retryBaseDelayMs },
      stallTimeoutMs: config.stallTimeoutMs,
      signal: this.ctx.signal,
      log: (line) => this.ctx.log(line),
      onProgress,
      tolerateFailures: live,
    });
  }

  /** Keeps the segments of an earlier run when they belong to the same stream, and starts clean otherwise. */
  private async adoptState(next: HlsState): Promise<HlsState> {
    const previous = await readState(this.job.workDir);
    if (previous && previous.fingerprint === next.fingerprint) {
      this.ctx.log('resuming: segments already on disk are kept');
      return previous;
    }
    if (previous) this.ctx.log('the stream changed since the last run: starting over');
    await rm(this.segmentsDir, { recursive: true, force: true });
    await writeState(this.job.workDir, next);
    return next;
  }

  /** The media into one file; each subtitle track into a WebVTT file of its own, saved beside it by the scheduler. */
  private async merge(plans: TrackPlan[], signal: AbortSignal | undefined): Promise<SessionResult> {
    const video = plans.find((plan) => plan.kind === 'video');
    const audio = plans.find((plan) => plan.kind === 'audio') ?? null;
    // the sound alone from a rendition goes in as the main input; the mux maps its audio either way
    const main = video ?? audio!;
    const second = video ? audio : null;
    this.ctx.log(`merging ${main.files.length} ${main.kind === 'video' ? '' : `${main.kind} `}segments${second ? ` with ${second.files.length} audio segments` : ''}`);
    // cue times count from where the saved media begins: the earliest first timestamp of its tracks (the mux makes it zero)
    const starts = await Promise.all([main, second].map((plan) => (plan?.files[0] ? segmentStartSeconds(plan.files[0].file, plan.files[0].init) : null)));
    const known = starts.filter((start): start is number => start !== null);
    const streamStart = known.length > 0 ? Math.min(...known) : null;
    const subtitles: SubtitleFile[] = [];
    for (const [index, plan] of plans.filter((each) => each.kind === 'subtitles').entries()) {
      const file = await this.joinSubtitles(plan, index, streamStart);
      if (file) subtitles.push(file);
      else this.ctx.log(`the ${plan.language ?? ''} subtitle track has no cues: no file is saved for it`);
    }
    const result = await mergeTracks({
      ffmpeg: this.deps.ffmpeg,
      workDir: this.job.workDir,
      baseName: 'output',
      video: { kind: main.kind === 'video' ? 'video' : 'audio', segments: main.files },
      audio: second ? { kind: 'audio', segments: second.files } : null,
      subtitles: null,
      audioOnly: this.audioOnly,
      signal,
      log: (line) => this.ctx.log(line),
    });
    return { ...result, ...(subtitles.length > 0 ? { subtitles } : {}) };
  }

  /** A subtitle track's segments as one WebVTT file in workDir (outside segments/, which deleteSegments removes). */
  private async joinSubtitles(plan: TrackPlan, index: number, streamStart: number | null): Promise<SubtitleFile | null> {
    const texts = await Promise.all(plan.files.map((segment) => readFile(segment.file, 'utf8').catch(() => '')));
    const merged = mergeWebVtt(texts, { streamStart });
    if (!merged.includes('-->')) return null;
    const path = join(this.job.workDir, `subtitles-${index}.vtt`);
    await writeFile(path, merged);
    return { path, language: plan.language ?? 'und' };
  }

  // ---- live --------------------------------------------------------------------------------

  /** Records until EXT-X-ENDLIST or a stop; a stop still resolves with what was recorded. */
  private async record(tracks: Track[]): Promise<SessionResult> {
    const { ctx, job } = this;
    const recordable = tracks;
    const state = await this.adoptState({
      version: 1,
      fingerprint: fingerprint(recordable.map((track) => ({ kind: `live ${track.dir}`, url: track.playlist.url }))),
      live: {},
    });
    const pool = this.createPool(true, (progress) => ctx.progress({ downloadedBytes: progress.bytes, totalBytes: null, percent: null }));
    let saving = Promise.resolve();
    const recorders = recordable.map((track) => {
      const inits = new Map<string, string>();
      const recorder: LiveTrackRecorder = new LiveTrackRecorder({
        kind: track.kind === 'subtitles' ? `subtitles ${track.language ?? ''}`.trim() : track.kind,
        initial: track.playlist,
        recorded: state.live?.[track.dir] ?? [],
        reload: (url, signal) => this.loadMedia(url, signal),
        enqueue: (segment) => {
          const requests: SegmentRequest[] = [];
          const init = segment.init ? this.initFile(track, segment, inits, requests) : null;
          // named by recording order: a restarted stream numbers its segments again, and names must never repeat
          const file = this.segmentFile(track, segment, `live-${recorder.recorded.length}`);
          requests.push({ ...this.segmentRequest(track, segment, file), label: `live ${track.kind} segment ${segment.sequence} of ${redactUrl(track.playlist.url)}` });
          pool.add(requests);
          return { file, init };
        },
        onRecorded: () => {
          const live = Object.fromEntries(recorders.map((each, index) => [recordable[index].dir, each.recorded]));
          const indexed = recorders.map((each, index) => liveTrackIndex(job.workDir, recordable[index], each.recorded));
          saving = saving
            .then(() => writeState(job.workDir, { ...state, live }))
            .then(() => writeStreamIndex(job.workDir, { version: 1, live: true, tracks: indexed }))
            .catch(() => undefined);
        },
        signal: ctx.signal,
        log: (line) => ctx.log(line),
      });
      return recorder;
    });
    ctx.log(`live: recording ${recordable.map((track) => (track.language ? `${track.kind} ${track.language}` : track.kind)).join(' and ')} until the stream ends or the task is stopped`);
    const outcomes = await Promise.all(recorders.map((recorder) => recorder.run()));
    let stopped = outcomes.includes('stopped') || ctx.signal.aborted;
    if (!stopped) {
      try {
        await pool.settled();
      } catch (error) {
        if (!isAbortError(error)) throw error;
        stopped = true;
      }
    }
    await saving;
    const plans = await Promise.all(recorders.map((recorder, index) => completedPlan(recordable[index], recorder.recorded)));
    if (plans[0].files.length === 0) {
      if (stopped) throw abortError(ctx.signal);
      throw new Error(`no segment of the live stream ${redactUrl(tracks[0].playlist.url)} could be recorded`);
    }
    ctx.log(`live: ${stopped ? 'stopped' : 'the stream ended'}; ${plans[0].files.length} segments recorded`);
    // after a stop the task's signal is already aborted: the merge of what was recorded runs on its own
    const result = await this.merge(plans, stopped ? undefined : ctx.signal);
    if (job.deleteSegments) await rm(this.segmentsDir, { recursive: true, force: true });
    return stopped ? { ...result, partial: true } : result;
  }
}

function liveTrackIndex(workDir: string, track: Track, recorded: RecordedSegment[]): StreamTrackIndex {
  const fallback = track.playlist.targetDuration || 1;
  const segments = recorded.map((segment) => ({ file: segment.file, init: segment.init, duration: segment.duration ?? fallback, discontinuity: segment.discontinuity }));
  return trackIndex(workDir, track.kind === 'audio' ? 'audio' : 'video', segments, streamInfo(track));
}

function streamInfo(track: Track): { bandwidth?: number; codecs?: string } {
  return track.variant ? { bandwidth: track.variant.bandwidth, ...(track.variant.codecs ? { codecs: track.variant.codecs } : {}) } : {};
}

/** Live segments that made it to disk, in order; a missing one turns the next into a discontinuity. */
async function completedPlan({ kind, language }: Track, recorded: RecordedSegment[]): Promise<TrackPlan> {
  const present = await Promise.all(recorded.map((segment) => isFile(segment.file)));
  const files: TrackFiles['segments'] = [];
  let missing = false;
  for (const [index, segment] of recorded.entries()) {
    if (!present[index] || (segment.init && !(await isFile(segment.init)))) {
      missing = true;
      continue;
    }
    files.push({ file: segment.file, init: segment.init, discontinuity: files.length > 0 && (segment.discontinuity || missing) });
    missing = false;
  }
  return { kind, language, requests: [], files };
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** Bytes so far, a total estimated from the average segment, and percent from segments done. */
export function vodProgress(progress: PoolProgress): { downloadedBytes: number; totalBytes: number | null; percent: number | null } {
  const { total, done, bytes, completedBytes } = progress;
  const totalBytes = done === 0 ? null : done === total ? completedBytes : Math.max(bytes, Math.round((completedBytes / done) * total));
  return { downloadedBytes: bytes, totalBytes, percent: total === 0 ? null : Math.min(100, (done / total) * 100) };
}
