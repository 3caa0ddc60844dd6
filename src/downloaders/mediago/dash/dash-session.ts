import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../../../engine/abort.js';
import { discardBody } from '../../../engine/http-client.js';
import { PermanentError, redactUrl } from '../../../engine/http-error.js';
import { withRetry } from '../../../engine/retry.js';
import { inTurn } from '../../../engine/in-turn.js';
import { MP4_PIECE, sniffContainer } from '../../../engine/media-sniff.js';
import { readStateFile, writeStateFile } from '../../../engine/task-workspace.js';
import { ByteWindow, SegmentPool, type SegmentRequest } from '../../../engine/segment-pool.js';
import type { DownloadContext, DownloadJob, DownloadOutput, SegmentSessionDependencies, SubtitleFile } from '../../../engine/download-job.js';
import { mergeWebVtt } from '../../../engine/webvtt.js';
import { looksLikeTtml, ttmlDocumentsInMp4, ttmlToWebVtt } from '../../../engine/ttml.js';
import { type MergeResult, type TrackFiles, mergeTracks } from '../../../engine/merge-tracks.js';
import { vodProgress } from '../../../engine/hls/hls-session.js';
import { type StreamTrackIndex, trackIndex, writeStreamIndex } from '../../../engine/stream-index.js';
import { type ByteRange, type DashManifest, type DashRepresentation, type MediaReference, parseMpd } from './mpd-manifest.js';
import { type PeriodSelection, describeRepresentation, selectRepresentations } from './representation-selection.js';
import { loadSidxSegments } from './sidx.js';
import { type GapFiller, fillerProblem, makeFiller } from './gap-filler.js';
import { DashLiveRecording } from './dash-live.js';

type TrackKind = 'video' | 'audio' | 'text';

/** One output track: the representation chosen in each period that has one, joined in order. */
interface TrackPlan {
  kind: TrackKind;
  /** Its folder under segments/: "video", "audio", "text-0"… */
  dir: string;
  /** The language a subtitle file is named by. */
  language?: string;
  requests: SegmentRequest[];
  files: TrackFiles['segments'];
  /** Silence or black made for the periods without this track, so that the tracks stay in sync. */
  fillers: GapFiller[];
  /** Seconds of each file of `files` as planned, for the growing local playlist. */
  durations: number[];
  bandwidth: number | null;
  codecs: string | null;
}

interface DashState {
  version: 1;
  fingerprint: string;
}

const SEGMENTS_DIR = 'segments';
const STATE_FILE = 'dash-state.json';
/** An XML DOM of this size is built on the main thread in well under a second. */
const MANIFEST_MAX_BYTES = 8 * 1024 * 1024;
const INDEX_MAX_BYTES = 4 * 1024 * 1024;
/** How far into a file that ignores Range the index may be read for (the bytes before it are dropped, not kept). */
const INDEX_SKIP_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Downloads one static DASH presentation into a single MP4 in job.workDir: the best video and audio
 * representation of each period, fetched by the segment pool, joined per track and muxed by ffmpeg.
 * A dynamic (live) presentation is recorded until it ends or the task is stopped (dash-live.ts).
 * Not a Nest provider: the mediago strategy drives it after its probe.
 */
export class DashSession {
  private readonly segmentsDir: string;

  constructor(
    private readonly deps: SegmentSessionDependencies,
    private readonly job: DownloadJob,
    private readonly ctx: DownloadContext,
  ) {
    this.segmentsDir = join(job.workDir, SEGMENTS_DIR);
  }

  /** Runs the download; `prefetched` lets a caller that already fetched the manifest (a probe) hand it over. */
  async run(prefetched?: { text: string; url: string }): Promise<DownloadOutput> {
    const { job, ctx } = this;
    await mkdir(job.workDir, { recursive: true });
    const source = prefetched ?? (await this.fetchManifest());
    const manifest = await inTurn(() => parseMpd(source.text, source.url));
    assertDownloadable(manifest);
    if (manifest.dynamic) {
      const recording = new DashLiveRecording({
        deps: this.deps,
        job,
        ctx,
        segmentsDir: this.segmentsDir,
        statePath: join(job.workDir, STATE_FILE),
        reload: async (signal) => {
          const again = await this.fetchManifest(signal);
          return inTurn(() => parseMpd(again.text, again.url));
        },
        request: (what, reference, path) => this.request(what, reference, path),
      });
      const result = await recording.run(manifest);
      const liveTitle = job.nameIsDerived ? (manifest.title ?? titleFromMpdUrl(job.url)) : undefined;
      return { ...result, ...(liveTitle ? { title: liveTitle } : {}) };
    }
    const choice = { quality: job.quality, audioLanguages: job.audioLanguages, subtitleLanguages: job.subtitleLanguages };
    const selections = manifest.periods.map((period) => selectRepresentations(period, choice)).filter((selection) => selection.video || selection.audio);
    if (selections.length === 0) throw new PermanentError(`the DASH manifest ${redactUrl(manifest.url)} has no video or audio representation`);
    this.logChoice(manifest, selections);
    await this.resolveIndexes(selections);

    const plans = await inTurn(() => this.planTracks(selections));
    await this.adoptState(fingerprint(plans));
    // subtitles are saved as side files, not played in the local stream
    const played = plans.filter((plan): plan is TrackPlan & { kind: 'video' | 'audio' } => plan.kind === 'video' || plan.kind === 'audio');
    await writeStreamIndex(job.workDir, { version: 1, live: false, tracks: played.map((plan) => streamTrack(job.workDir, plan)) });
    const pool = new SegmentPool({
      http: this.deps.http,
      headers: job.headers,
      concurrency: this.deps.config.segmentConcurrency,
      retry: { attempts: this.deps.config.retryAttempts, baseDelayMs: this.deps.config.retryBaseDelayMs },
      stallTimeoutMs: this.deps.config.stallTimeoutMs,
      signal: ctx.signal,
      log: (line) => ctx.log(line),
      onProgress: (progress) => ctx.progress(vodProgress(progress)),
    });
    pool.add(plans.flatMap((plan) => plan.requests));
    await pool.settled();
    ctx.progress(vodProgress(pool.progress()));

    const result = await this.merge(plans);
    const subtitles = await this.joinSubtitles(plans);
    if (job.deleteSegments) await rm(this.segmentsDir, { recursive: true, force: true });
    const title = job.nameIsDerived ? (manifest.title ?? titleFromMpdUrl(job.url)) : undefined;
    return { ...result, ...(title ? { title } : {}), ...(subtitles.length > 0 ? { subtitles } : {}) };
  }

  private async fetchManifest(signal = this.ctx.signal): Promise<{ text: string; url: string }> {
    const { text, url } = await this.deps.http.fetchText(this.job.url, {
      headers: this.job.headers,
      signal,
      maxBytes: MANIFEST_MAX_BYTES,
      onRetry: (_attempt, error, delay) => this.ctx.log(`manifest ${redactUrl(this.job.url)}: ${(error as Error).message}; retrying in ${delay} ms`),
    });
    return { text, url };
  }

  private logChoice(manifest: DashManifest, selections: PeriodSelection[]): void {
    const periods = selections.length > 1 ? ` in ${selections.length} periods` : '';
    this.ctx.log(`DASH: ${redactUrl(manifest.url)}${periods}`);
    const noted = new Set<string>();
    for (const { period, video, audio, text, notes } of selections) {
      const offered = period.representations.length;
      const chosen = [video, audio, ...text.map((entry) => entry.representation)].filter((choice): choice is DashRepresentation => choice !== null).map(describeRepresentation).join(' + ');
      this.ctx.log(`${selections.length > 1 ? `period ${period.index + 1}: ` : ''}${offered} representations; chose ${chosen}${this.job.quality === 'audio' ? ' (the sound alone)' : ''}`);
      for (const note of notes.filter((each) => !noted.has(each))) {
        noted.add(note);
        this.ctx.log(`quality/language: ${note}`);
      }
    }
  }

  /** SegmentBase representations list their segments in a sidx box: read it to get byte ranges. */
  private async resolveIndexes(selections: PeriodSelection[]): Promise<void> {
    const indexed = selections.flatMap(({ video, audio, text }) => [video, audio, ...text.map((entry) => entry.representation)]).filter((choice): choice is DashRepresentation => choice?.index != null);
    await Promise.all(
      indexed.map(async (representation) => {
        const index = representation.index!;
        const segments = await loadSidxSegments((range) => this.readRangeFromMirrors([index.url, ...(index.mirrors ?? [])], range), index.range);
        representation.segments = segments.map(({ range, duration }) => ({ url: index.url, range, mirrors: index.mirrors, duration }));
        this.ctx.log(`${representation.kind} "${representation.id}": ${segments.length} segments from the index of ${redactUrl(index.url)}`);
      }),
    );
  }

  /** The index from the first BaseURL mirror that serves it. */
  private async readRangeFromMirrors(urls: string[], range: ByteRange): Promise<Buffer> {
    for (const [position, url] of urls.entries()) {
      try {
        return await this.readRange(url, range);
      } catch (error) {
        if (position === urls.length - 1 || this.ctx.signal.aborted) throw error;
        this.ctx.log(`index of ${redactUrl(url)} failed (${(error as Error).message}); trying mirror ${position + 2} of ${urls.length}, ${redactUrl(urls[position + 1])}`);
      }
    }
    throw new Error('no URL to read the index from');
  }

  /** A small byte range (a sidx box), with retries; a server that ignores Range still works. */
  private readRange(url: string, range: ByteRange): Promise<Buffer> {
    const length = range.end - range.start + 1;
    if (length > INDEX_MAX_BYTES) throw new PermanentError(`the DASH index range of ${redactUrl(url)} is ${length} bytes, more than an index can be`);
    return withRetry(
      async () => {
        const response = await this.deps.http.open(url, { headers: this.job.headers, signal: this.ctx.signal, range });
        // a 200 answer is the whole file: only bytes inside the range are kept, and reading stops after it
        const ignored = response.status === 200;
        if (ignored && range.start > INDEX_SKIP_MAX_BYTES) {
          discardBody(response);
          throw new PermanentError(`${redactUrl(url)} ignored the Range request for its index at byte ${range.start}; reading that far into the file is refused`);
        }
        const window = new ByteWindow(ignored ? range.start : 0, length);
        const chunks: Buffer[] = [];
        try {
          for await (const chunk of response.body as AsyncIterable<Buffer>) {
            const wanted = window.take(chunk);
            if (wanted.length > 0) chunks.push(wanted);
            if (window.done) break;
          }
        } finally {
          discardBody(response);
        }
        const data = Buffer.concat(chunks);
        if (data.length < length) throw Object.assign(new Error(`received ${data.length} of ${length} index bytes`), { code: 'ECONNRESET' });
        return data;
      },
      this.deps.http.retryPolicy,
      {
        signal: this.ctx.signal,
        onRetry: (_attempt, error, delay) => this.ctx.log(`index of ${redactUrl(url)}: ${(error as Error).message}; retrying in ${delay} ms`),
      },
    );
  }

  /**
   * One plan per track kind. A period without the track (an ad break with video only) gets a filler of its
   * length, silence or black, made after the download: leaving it out would shift the rest of the track
   * against the other one. Without ffmpeg or a known period length, the period is left out of that track.
   */
  private planTracks(selections: PeriodSelection[]): TrackPlan[] {
    const plans: TrackPlan[] = [];
    for (const kind of ['video', 'audio'] as const) {
      const chosen = selections.filter((selection) => selection[kind] !== null);
      if (chosen.length === 0) continue;
      const missing = selections.filter((selection) => selection[kind] === null);
      const like = chosen[0][kind]!;
      const problem = missing.length === 0 ? null : !this.deps.ffmpeg ? 'ffmpeg was not found' : (missing.map((selection) => fillerProblem(kind, like.codecs, selection.period.duration)).find(Boolean) ?? null);
      if (missing.length > 0) {
        const periods = missing.map((selection) => selection.period.index + 1).join(', ');
        this.ctx.log(
          problem
            ? `${kind}: only ${chosen.length} of ${selections.length} periods have it; period ${periods} cannot be padded (${problem}) and is left out of this track, which shifts it against the other track`
            : `${kind}: period ${periods} has none; padded with ${kind === 'audio' ? 'silence' : 'black'} for its length so that audio and video stay in sync`,
        );
      }
      const plan: TrackPlan = { kind, dir: kind, requests: [], files: [], fillers: [], durations: [], bandwidth: like.bandwidth || null, codecs: like.codecs };
      let reference: string[] | null = null;
      for (const [order, selection] of selections.entries()) {
        const representation = selection[kind];
        if (representation) {
          const first = this.planPeriod(plan, representation, order, selection.period.duration);
          reference ??= first;
        } else if (!problem) {
          const file = join(this.segmentsDir, plan.dir, `p${order}-filler.mp4`);
          plan.fillers.push({ kind, path: file, seconds: selection.period.duration!, reference: [] });
          plan.files.push({ file, init: null, discontinuity: order > 0 });
          plan.durations.push(selection.period.duration!);
        }
      }
      for (const filler of plan.fillers) filler.reference = reference!;
      plans.push(plan);
    }
    // one subtitle track per language, from each period that has it (cue times as written: no filler, no period offset)
    const languages = [...new Set(selections.flatMap((selection) => selection.text.map((entry) => entry.language)))];
    for (const [index, language] of languages.entries()) {
      const plan: TrackPlan = { kind: 'text', dir: `text-${index}`, language, requests: [], files: [], fillers: [], durations: [], bandwidth: null, codecs: null };
      const chosen = selections.flatMap((selection) => selection.text.filter((entry) => entry.language === language).map((entry) => entry.representation));
      for (const [order, representation] of chosen.entries()) this.planPeriod(plan, representation, order, null);
      plans.push(plan);
    }
    return plans;
  }

  /** Plans one period of a track; returns the files of its first piece (init section and first segment). */
  private planPeriod(plan: TrackPlan, representation: DashRepresentation, order: number, periodSeconds: number | null): string[] {
    const dir = join(this.segmentsDir, plan.dir);
    const where = `${plan.kind} ${representation.periodIndex > 0 || order > 0 ? `period ${representation.periodIndex + 1} ` : ''}`;
    const init = representation.init ? join(dir, `p${order}-init.mp4`) : null;
    if (init) plan.requests.push(this.request(`${where}initialization segment`, representation.init!, init));
    if (representation.segments.length === 0) throw new PermanentError(`${plan.kind} representation "${representation.id}" of ${redactUrl(this.job.url)} lists no segments`);
    const files = representation.segments.map((segment, index) => {
      const file = join(dir, `p${order}-${String(index).padStart(6, '0')}.${plan.kind === 'text' ? 'vtt' : 'm4s'}`);
      plan.requests.push(this.request(`${where}segment ${index + 1}`, segment, file, plan.kind !== 'text'));
      // each period restarts its timestamps and may change encoding: the merge treats it like an HLS discontinuity
      plan.files.push({ file, init, discontinuity: index === 0 && order > 0 });
      // a manifest that gives no duration (a SegmentList without one) gets an even share of its period
      plan.durations.push(segment.duration ?? (periodSeconds ? periodSeconds / representation.segments.length : 2));
      return file;
    });
    return init ? [init, files[0]] : [files[0]];
  }

  /** Makes the fillers; a track whose filler cannot be made loses those periods instead, as before padding existed. */
  private async makeFillers(plans: TrackPlan[]): Promise<void> {
    for (const plan of plans) {
      try {
        for (const filler of plan.fillers) await makeFiller(this.deps.ffmpeg!, filler, { signal: this.ctx.signal, log: (line) => this.ctx.log(line) });
      } catch (error) {
        if (this.ctx.signal.aborted) throw error;
        this.ctx.log(`${plan.kind}: the ${plan.kind === 'audio' ? 'silence' : 'black'} filler could not be made (${(error as Error).message}); the periods without ${plan.kind} are left out of this track`);
        const fillers = new Set(plan.fillers.map((filler) => filler.path));
        plan.files = plan.files.filter((file) => !fillers.has(file.file));
      }
    }
  }

  /** `media`: the piece must look like MP4 before it is kept; subtitles are text, read by the WebVTT merge. */
  private request(what: string, reference: MediaReference, path: string, media = true): SegmentRequest {
    return { label: `${what} of ${redactUrl(this.job.url)}`, url: reference.url, mirrors: reference.mirrors, range: reference.range, path, check: media ? MP4_PIECE : undefined };
  }

  /** Keeps the segments of an earlier run when they belong to the same presentation, and starts clean otherwise. */
  private async adoptState(print: string): Promise<void> {
    const path = join(this.job.workDir, STATE_FILE);
    const previous = await readStateFile<DashState>(path);
    if (previous?.version === 1 && previous.fingerprint === print) {
      this.ctx.log('resuming: segments already on disk are kept');
      return;
    }
    if (previous) this.ctx.log('the presentation changed since the last run: starting over');
    await rm(this.segmentsDir, { recursive: true, force: true });
    const state: DashState = { version: 1, fingerprint: print };
    await writeStateFile(path, state);
  }

  private async merge(plans: TrackPlan[]): Promise<MergeResult> {
    throwIfAborted(this.ctx.signal);
    await this.makeFillers(plans);
    const video = plans.find((plan) => plan.kind === 'video');
    const audio = plans.find((plan) => plan.kind === 'audio') ?? null;
    // an audio-only presentation goes in as the main input; the mux maps its audio either way
    const main = video ?? audio!;
    const second = video ? audio : null;
    this.ctx.log(`merging ${main.files.length} ${main.kind} segments${second ? ` with ${second.files.length} audio segments` : ''}`);
    return mergeTracks({
      ffmpeg: this.deps.ffmpeg,
      workDir: this.job.workDir,
      baseName: 'output',
      video: { kind: main.kind === 'video' ? 'video' : 'audio', segments: main.files },
      audio: second ? { kind: 'audio', segments: second.files } : null,
      subtitles: null,
      audioOnly: this.job.quality === 'audio',
      signal: this.ctx.signal,
      log: (line) => this.ctx.log(line),
    });
  }

  /**
   * Each subtitle track as one WebVTT file in workDir (outside segments/, which deleteSegments removes); cue times as
   * written. TTML pieces (a file, or `stpp` samples in MP4 segments) are converted first; a piece that cannot be
   * read is left out with a line in the task log.
   */
  private async joinSubtitles(plans: TrackPlan[]): Promise<SubtitleFile[]> {
    const files: SubtitleFile[] = [];
    for (const [index, plan] of plans.filter((each) => each.kind === 'text').entries()) {
      const texts: string[] = [];
      for (const [position, segment] of plan.files.entries()) {
        try {
          texts.push(...subtitlePieceAsWebVtt(await readFile(segment.file)));
        } catch (error) {
          this.ctx.log(`the ${plan.language} subtitles: piece ${position + 1} is left out (${(error as Error).message})`);
        }
      }
      const merged = mergeWebVtt(texts);
      if (!merged.includes('-->')) {
        this.ctx.log(`the ${plan.language} subtitle track has no cues: no file is saved for it`);
        continue;
      }
      const path = join(this.job.workDir, `subtitles-${index}.vtt`);
      await writeFile(path, merged);
      files.push({ path, language: plan.language ?? 'und' });
    }
    return files;
  }
}

/**
 * A track as the growing local playlist plays it: the downloaded segments with their durations. Fillers are made
 * only after the download, so they are left out (the segment after one starts a discontinuity).
 */
function streamTrack(workDir: string, plan: TrackPlan & { kind: 'video' | 'audio' }): StreamTrackIndex {
  const fillers = new Set(plan.fillers.map((filler) => filler.path));
  const segments: Array<TrackFiles['segments'][number] & { duration: number }> = [];
  let skipped = false;
  for (const [index, file] of plan.files.entries()) {
    if (fillers.has(file.file)) {
      skipped = true;
      continue;
    }
    segments.push({ ...file, discontinuity: file.discontinuity || (skipped && segments.length > 0), duration: plan.durations[index] });
    skipped = false;
  }
  return trackIndex(workDir, plan.kind, segments, { bandwidth: plan.bandwidth, codecs: plan.codecs });
}

/** A downloaded subtitle piece as WebVTT documents: WebVTT as it is, TTML converted, an MP4 segment's `stpp` samples converted. */
function subtitlePieceAsWebVtt(data: Buffer): string[] {
  if (sniffContainer(data) === 'mp4') return ttmlDocumentsInMp4(data).map(ttmlToWebVtt);
  const text = data.toString('utf8');
  return [looksLikeTtml(text) ? ttmlToWebVtt(text) : text];
}

/** Encrypted presentations fail before anything is fetched, with a message a user can act on. */
export function assertDownloadable(manifest: DashManifest): void {
  const where = redactUrl(manifest.url);
  if (manifest.protection.length > 0) {
    throw new PermanentError(`the DASH stream ${where} is encrypted (ContentProtection: ${manifest.protection.join(', ')}); DRM-protected content cannot be downloaded`);
  }
}

/** Identifies the presentation: each track's segment URLs (query strings left out, tokens change) and ranges. */
export function fingerprint(plans: Array<{ kind: string; requests: SegmentRequest[] }>): string {
  const hash = createHash('sha1');
  for (const plan of plans) {
    hash.update(`${plan.kind}\n`);
    for (const request of plan.requests) hash.update(`${request.url.replace(/[?#].*$/, '')} ${request.range?.start ?? ''}-${request.range?.end ?? ''} ${request.path}\n`);
  }
  return hash.digest('hex');
}

/** A title from the manifest URL: the last path part that is not a generic manifest name. */
export function titleFromMpdUrl(url: string): string | undefined {
  let parts: string[];
  try {
    parts = new URL(url).pathname.split('/').filter(Boolean).map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
  } catch {
    return undefined;
  }
  const generic = /^(index|manifest|master|main|stream|playlist|video|dash|mpd|default|live|output|media)$/i;
  for (let index = parts.length - 1; index >= 0; index--) {
    const stem = parts[index].replace(/\.mpd$/i, '').trim();
    if (stem && !generic.test(stem)) return stem;
  }
  return undefined;
}
