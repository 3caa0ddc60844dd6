import { Inject, Injectable, Optional } from '@nestjs/common';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DownloadType } from '../../common/download-type.enum.js';
import { isAbortError, throwIfAborted } from '../../engine/abort.js';
import { runFfmpeg } from '../../engine/ffmpeg.js';
import { type MediaCheck, checkedInput } from '../../engine/media-sniff.js';
import { type HeaderPairs, HttpClient } from '../../engine/http-client.js';
import { PermanentError, describeError, redactUrl } from '../../engine/http-error.js';
import { DependencyMissingError } from '../../engine/task-errors.js';
import { type RangedState, downloadRanged } from '../../engine/ranged-download.js';
import { withRetry } from '../../engine/retry.js';
import { ToolsService } from '../../engine/tools.service.js';
import type { DownloadContext, DownloadJob, DownloadOutput, ProgressReport } from '../../engine/download-job.js';
import { type ResolveContext, type ResolveRequest, type ResolvedLink, listedLink, singleEntryLink } from '../../engine/resolved-link.js';
import type { Downloader } from '../downloader.interface.js';
import { BilibiliApiClient, WbiKeyCache } from './bilibili-api.client.js';
import type { PlayInfo, SeasonResult, ViewData } from './bilibili-api.types.js';
import { allEpisodes, episodeEntries, episodeId, episodeName, partEntries, seasonEpisodes, seasonName, viewPages } from './bilibili-entries.js';
import { type BilibiliTarget, av2bv, parseBilibiliInput, parseBilibiliPath } from './bilibili-url.js';
import { DEFAULT_STREAM_PREFERENCES, type DashAudio, type DashVideo, type StreamChoice, type StreamPreferences, chooseStreams } from './stream-selection.js';

/** Optional provider overriding DEFAULT_STREAM_PREFERENCES, e.g. `{ videoCodecs: ['hevc', 'avc', 'av1'] }`. */
export const BILIBILI_STREAM_PREFERENCES = Symbol('BILIBILI_STREAM_PREFERENCES');

/** The API and the CDN refuse requests that do not look like they come from the site's own pages. */
export const BILIBILI_REFERER = 'https://www.bilibili.com';
export const BROWSER_USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

/** The output in workDir: bilibili.mp4, or bilibili.m4a for the sound alone. */
const OUTPUT_NAME = 'bilibili';

/** One playable item, resolved from the task URL through the API. */
interface ResolvedMedia {
  title: string;
  /** Names the stream files in workDir, so that a resumed run finds its own data. */
  cid: number;
  /** For the log: "BV17x411w7KC p2" or "ep1234". */
  label: string;
  play: PlayInfo;
}

interface RunScope {
  job: DownloadJob;
  ctx: DownloadContext;
  headers: HeaderPairs;
}

/**
 * The `bilibili` type: resolves videos (BV/av, ?p=), bangumi episodes (ep/ss) and short links through the
 * Bilibili web API (WBI-signed playurl), downloads the best DASH video and audio with the ranged downloader,
 * and muxes them into an mp4 with ffmpeg; progressive durl parts are concatenated when there is no DASH.
 */
@Injectable()
export class BilibiliDownloader implements Downloader {
  readonly type = DownloadType.Bilibili;
  private readonly wbiKeys = new WbiKeyCache();
  private readonly preferences: StreamPreferences;

  constructor(
    private readonly http: HttpClient,
    private readonly tools: ToolsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(BILIBILI_STREAM_PREFERENCES) preferences?: Partial<StreamPreferences> | null,
  ) {
    this.preferences = { ...DEFAULT_STREAM_PREFERENCES, ...(preferences ?? {}) };
  }

  async run(job: DownloadJob, ctx: DownloadContext): Promise<DownloadOutput> {
    const ffmpeg = this.tools.ffmpeg;
    if (!ffmpeg) throw new DependencyMissingError('ffmpeg', 'ffmpeg is needed to assemble Bilibili videos but was not found (install it or set FFMPEG_PATH)');
    const scope: RunScope = { job, ctx, headers: bilibiliHeaders(job.headers) };
    const api = this.apiClient(scope.headers, ctx.signal, ctx.log);

    const media = await this.locate(parseBilibiliInput(job.url), api, scope);
    const choice = chooseStreams(media.play, this.preferences, job.quality);
    ctx.log(`${media.label} (cid ${media.cid}): "${media.title}"; ${describeChoice(choice)}`);
    for (const note of choice.notes) ctx.log(`quality/language: ${note}`);
    if (job.audioLanguages.length > 0 || job.subtitleLanguages.length > 0) {
      ctx.log('quality/language: Bilibili offers one audio stream per video and its subtitles are not downloaded: the languages asked for do not apply');
    }

    const audioOnly = job.quality === 'audio';
    const extension = audioOnly ? 'm4a' : 'mp4';
    const output = join(job.workDir, `${OUTPUT_NAME}.${extension}`);
    const downloaded = choice.mode === 'dash' ? await this.fetchDash(choice.video, choice.audio, media, scope) : await this.fetchDurl(choice, media, scope, audioOnly);
    throwIfAborted(ctx.signal);
    await runFfmpeg(ffmpeg, await downloaded.ffmpegArgs(output), { signal: ctx.signal, log: ctx.log, cwd: job.workDir });
    if (job.deleteSegments) await Promise.all(downloaded.files.map((file) => rm(file, { force: true })));
    return { path: output, extension, ...(job.nameIsDerived && media.title ? { title: media.title } : {}) };
  }

  /**
   * What a link holds: a multi-part video without ?p= its parts, a season (ss…, md…) its episodes, anything
   * else (a part, an episode, a one-part video) itself. Only API answers are read, never media.
   */
  async resolve(request: ResolveRequest, ctx: ResolveContext): Promise<ResolvedLink> {
    const headers = bilibiliHeaders(request.headers);
    const api = this.apiClient(headers, ctx.signal, ctx.log);
    let target = parseBilibiliInput(request.url);
    if (target.kind === 'link') target = await this.followLink(target.url, headers, ctx.signal, ctx.log);
    switch (target.kind) {
      case 'video': {
        const view = await api.view(target.bvid ? { bvid: target.bvid } : { aid: target.aid! });
        const bvid = view.bvid ?? target.bvid ?? av2bv(view.aid ?? target.aid!);
        const title = (view.title ?? bvid).trim();
        const pages = viewPages(view);
        if (view.redirect_url || target.page !== null || pages.length <= 1) {
          const page = pages.find((candidate) => candidate.page === (target.page ?? 1));
          if (target.page !== null && !view.redirect_url && !page) throw new PermanentError(`${bvid} has ${pages.length} part${pages.length === 1 ? '' : 's'}; there is no part p=${target.page}`);
          const part = page?.part?.trim();
          return singleEntryLink(request.url, pages.length > 1 && part && part !== title ? `${title} - ${part}` : title, page?.duration ?? null);
        }
        return listedLink('parts', title, partEntries(bvid, pages), request.limit, pages.length);
      }
      case 'episode': {
        const season = await api.season({ epId: target.epId });
        const episode = allEpisodes(season).find((candidate) => episodeId(candidate) === target.epId);
        const name = episode ? episodeName(episode) : '';
        return singleEntryLink(request.url, [seasonName(season), name].filter(Boolean).join(' - ') || `ep${target.epId}`, episode?.duration ? episode.duration / 1000 : null);
      }
      case 'season':
      case 'media': {
        const seasonId = target.kind === 'season' ? target.seasonId : await api.mediaSeasonId(target.mediaId);
        const season = await api.season({ seasonId });
        const episodes = seasonEpisodes(season);
        if (episodes.length === 0) throw new PermanentError(`the Bilibili season "${seasonName(season)}" (ss${seasonId}) has no episodes`);
        return listedLink('season', seasonName(season) || `ss${seasonId}`, episodeEntries(episodes), request.limit, episodes.length);
      }
      case 'link':
        throw new PermanentError(`${redactUrl(target.url)} leads to another link rather than a Bilibili page`);
    }
  }

  private apiClient(headers: HeaderPairs, signal: AbortSignal, log: (line: string) => void): BilibiliApiClient {
    return new BilibiliApiClient({ http: this.http, apiBase: this.config.bilibiliApiBase.replace(/\/+$/, ''), headers, signal, wbiKeys: this.wbiKeys, log });
  }

  private async locate(target: BilibiliTarget, api: BilibiliApiClient, scope: RunScope): Promise<ResolvedMedia> {
    switch (target.kind) {
      case 'link':
        return this.locate(await this.followLink(target.url, scope.headers, scope.ctx.signal, scope.ctx.log), api, scope);
      case 'video':
        return this.resolveVideo(target, api, scope);
      case 'episode':
        return this.resolveEpisode(await api.season({ epId: target.epId }), target.epId, api);
      case 'season':
        return this.resolveEpisode(await api.season({ seasonId: target.seasonId }), null, api);
      case 'media':
        return this.resolveEpisode(await api.season({ seasonId: await api.mediaSeasonId(target.mediaId) }), null, api);
    }
  }

  /**
   * Short links (b23.tv) answer a redirect to the real page. The redirects are followed by hand only until a
   * Location names a video or episode: that page itself is never loaded (www.bilibili.com answers 412 to
   * clients that are not browsers), its URL is all that is needed.
   */
  private async followLink(url: string, headers: HeaderPairs, signal: AbortSignal, log: (line: string) => void): Promise<BilibiliTarget> {
    const landed = await withRetry(() => this.http.followRedirectsUntil(url, (location) => safeParsePath(location) !== null, { headers, signal }), this.http.retryPolicy, {
      signal,
      onRetry: (_attempt, error, delay) => log(`${redactUrl(url)}: ${describeError(error)}; retrying in ${delay} ms`),
    });
    const target = parseBilibiliPath(new URL(landed));
    if (!target) throw new PermanentError(`${redactUrl(url)} led to ${redactUrl(landed)}, which is not a Bilibili video or episode page`);
    log(`${redactUrl(url)} leads to ${redactUrl(landed)}`);
    return target;
  }

  private async resolveVideo(target: Extract<BilibiliTarget, { kind: 'video' }>, api: BilibiliApiClient, scope: RunScope): Promise<ResolvedMedia> {
    const view: ViewData = await api.view(target.bvid ? { bvid: target.bvid } : { aid: target.aid! });
    // an av/BV id of a bangumi episode plays through the pgc endpoints, as the site redirects to it
    const redirected = view.redirect_url ? safeParsePath(view.redirect_url) : null;
    if (redirected?.kind === 'episode') {
      scope.ctx.log(`${target.bvid ?? `av${target.aid}`} is a bangumi episode: ${redactUrl(view.redirect_url!)}`);
      return this.resolveEpisode(await api.season({ epId: redirected.epId }), redirected.epId, api);
    }
    const pages = viewPages(view);
    if (pages.length === 0) throw new PermanentError(`Bilibili API x/web-interface/view listed no parts for ${target.bvid ?? `av${target.aid}`}`);
    const number = target.page ?? 1;
    const page = pages.find((candidate) => candidate.page === number) ?? (pages.every((candidate) => candidate.page === undefined) ? pages[number - 1] : undefined);
    if (!page) throw new PermanentError(`${view.bvid ?? target.bvid} has ${pages.length} part${pages.length === 1 ? '' : 's'}; there is no part p=${number}`);
    const bvid = view.bvid ?? target.bvid ?? av2bv(view.aid ?? target.aid!);
    const title = (view.title ?? bvid).trim();
    const part = page.part?.trim();
    return {
      title: pages.length > 1 && part && part !== title ? `${title} - ${part}` : title,
      cid: page.cid,
      label: pages.length > 1 ? `${bvid} p${number}` : bvid,
      play: await api.playUrl(bvid, page.cid),
    };
  }

  private async resolveEpisode(season: SeasonResult, epId: number | null, api: BilibiliApiClient): Promise<ResolvedMedia> {
    const episodes = allEpisodes(season);
    const episode = epId === null ? episodes[0] : episodes.find((candidate) => episodeId(candidate) === epId);
    const name = seasonName(season);
    if (!episode) {
      throw new PermanentError(epId === null ? `the Bilibili season "${name}" has no episodes` : `episode ep${epId} is not listed in its season "${name}"`);
    }
    const id = episodeId(episode);
    if (id === null || !episode.cid) throw new PermanentError(`Bilibili API pgc/view/web/season gave episode "${episode.title ?? ''}" without an id or cid`);
    return {
      title: [name, episodeName(episode)].filter(Boolean).join(' - ') || `ep${id}`,
      cid: episode.cid,
      label: `ep${id}`,
      play: await api.pgcPlayUrl(id, episode.cid),
    };
  }

  /** The chosen DASH streams (the video, the audio, or both) side by side; either failing stops the other. */
  private async fetchDash(video: DashVideo | null, audio: DashAudio | null, media: ResolvedMedia, scope: RunScope): Promise<DownloadedMedia> {
    const streams = [
      ...(video ? [{ key: 'video', label: `video stream ${video.id}`, urls: video.urls, file: join(scope.job.workDir, `${media.cid}-video-${video.id}-${video.codec ?? 'other'}.m4s`) }] : []),
      ...(audio ? [{ key: 'audio', label: `audio stream ${audio.id}`, urls: audio.urls, file: join(scope.job.workDir, `${media.cid}-audio-${audio.id}.m4s`) }] : []),
    ];
    const progress = new ProgressSum(scope.ctx.progress, new Map(streams.map((stream) => [stream.key, null])));
    // one stream failing stops the other, so that no download outlives the run
    const stop = new AbortController();
    const onAbort = () => stop.abort(scope.ctx.signal.reason);
    scope.ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const results = await Promise.allSettled(
        streams.map((stream) =>
          this.fetchStream(stream.label, stream.urls, stream.file, scope, stop.signal, (done, total) => progress.update(stream.key, done, total)).catch((error: unknown) => {
            stop.abort(error);
            throw error;
          }),
        ),
      );
      throwIfAborted(scope.ctx.signal);
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw stop.signal.reason ?? failed.reason;
    } finally {
      scope.ctx.signal.removeEventListener('abort', onAbort);
    }
    return {
      files: streams.flatMap((stream) => [stream.file, `${stream.file}.state.json`]),
      ffmpegArgs: async (output) => {
        const inputs: string[] = [];
        for (const stream of streams) inputs.push(...(await checkedInput(stream.file, BILIBILI_STREAM, `the ${stream.label}`)));
        return [
          ...inputs,
          ...streams.flatMap((stream, index) => ['-map', `${index}:${stream.key === 'video' ? 'v' : 'a'}:0`]),
          '-c',
          'copy',
          // hvc1 is the tag Apple players require for HEVC in mp4
          ...(video?.codec === 'hevc' ? ['-tag:v', 'hvc1'] : []),
          // ffmpeg 5/6 still label FLAC in mp4 experimental, though players read it
          ...(audio?.format === 'flac' ? ['-strict', 'experimental'] : []),
          '-movflags',
          '+faststart',
          output,
        ];
      },
    };
  }

  /** Progressive parts, concatenated; `audioOnly` keeps their sound alone. */
  private async fetchDurl(choice: Extract<StreamChoice, { mode: 'durl' }>, media: ResolvedMedia, scope: RunScope, audioOnly: boolean): Promise<DownloadedMedia> {
    const keys = choice.parts.map((part) => `part ${part.order}`);
    // the API gives each part's size, so the total is known before the first byte
    const progress = new ProgressSum(scope.ctx.progress, new Map(choice.parts.map((part, index) => [keys[index], part.size])));
    const files: string[] = [];
    for (const [index, part] of choice.parts.entries()) {
      const file = join(scope.job.workDir, `${media.cid}-durl-${choice.quality ?? 0}-${part.order}.${choice.container}`);
      await this.fetchStream(`part ${part.order} of ${choice.parts.length}`, part.urls, file, scope, scope.ctx.signal, (done, total) => progress.update(keys[index], done, total ?? part.size));
      files.push(file);
    }
    const list = join(scope.job.workDir, `${media.cid}-durl-${choice.quality ?? 0}.txt`);
    if (files.length > 1) await writeFile(list, files.map((file) => `file '${file.replace(/'/g, `'\\''`)}'\n`).join(''));
    return {
      files: [...files, ...files.map((file) => `${file}.state.json`), ...(files.length > 1 ? [list] : [])],
      ffmpegArgs: async (output) => [
        ...(files.length > 1 ? await concatInput(files, list) : await checkedInput(files[0], BILIBILI_STREAM, 'part 1 of 1')),
        ...(audioOnly ? [] : ['-map', '0:v:0?']),
        '-map',
        '0:a:0?',
        '-c',
        'copy',
        '-movflags',
        '+faststart',
        output,
      ],
    };
  }

  /** One stream into `file`, resumable; the backup URLs are tried in turn when the main one fails. */
  private async fetchStream(
    label: string,
    urls: string[],
    file: string,
    scope: RunScope,
    signal: AbortSignal,
    onProgress: (done: number, total: number | null) => void,
  ): Promise<void> {
    const { log } = scope.ctx;
    const statePath = `${file}.state.json`;
    const complete = await completeSize(file, statePath);
    if (complete !== null) {
      // finished by an earlier run (which stopped before or during the mux): nothing to fetch
      onProgress(complete, complete);
      return;
    }
    let lastError: unknown = null;
    for (const [index, url] of urls.entries()) {
      try {
        await downloadRanged({
          http: this.http,
          url,
          headers: scope.headers,
          partPath: file,
          statePath,
          // the CDN signs its URLs anew on every playurl call: the file name is what stays the same
          resumeKey: fileNameOf(url) ?? undefined,
          connections: this.config.directConnections,
          signal,
          onProgress,
          log: (line) => log(`${label}: ${line}`),
        });
        if (index > 0) log(`${label}: downloaded from backup URL ${index}`);
        return;
      } catch (error) {
        if (isAbortError(error) || signal.aborted) throw error;
        lastError = error;
        const next = index + 1 < urls.length ? '; trying backup URL' : '';
        log(`${label}: ${index === 0 ? 'main URL' : `backup URL ${index}`} failed: ${describeError(error)}${next}`);
      }
    }
    const tried = urls.length === 1 ? 'its only URL' : `all ${urls.length} of its URLs`;
    throw new PermanentError(`Bilibili ${label} failed on ${tried}: ${describeError(lastError)}`);
  }
}

interface DownloadedMedia {
  /** Everything the run wrote besides the output, removed after success when the task asks. */
  files: string[];
  /** Checks the downloaded files' first bytes, then gives the mux arguments naming each input's format. */
  ffmpegArgs(output: string): Promise<string[]>;
}

/** What Bilibili serves: DASH m4s (MP4 fragments), or FLV/MP4 progressive parts. */
const BILIBILI_STREAM: MediaCheck = { accepts: new Set(['mp4', 'flv']), describe: 'MP4 or FLV' };

/** A concat list of progressive parts, each checked first; the parts stay local files. */
async function concatInput(files: string[], list: string): Promise<string[]> {
  for (const [index, file] of files.entries()) await checkedInput(file, BILIBILI_STREAM, `part ${index + 1} of ${files.length}`);
  return ['-protocol_whitelist', 'file', '-f', 'concat', '-safe', '0', '-i', list];
}

/** The site's Referer and a browser User-Agent, then the task's headers, which win on conflicts. */
export function bilibiliHeaders(taskHeaders: HeaderPairs): HeaderPairs {
  const merged = new Map<string, [string, string]>();
  for (const [name, value] of [['Referer', BILIBILI_REFERER], ['User-Agent', BROWSER_USER_AGENT], ...taskHeaders] as HeaderPairs) {
    merged.set(name.toLowerCase(), [name, value]);
  }
  return [...merged.values()];
}

/**
 * CDN URLs carry a signature that changes with every playurl answer: a state saved for the same file
 * on any mirror is moved to the new URL, so that the ranged downloader resumes instead of starting over
 * (it still starts over if the size or validators differ).
 */
/** The size of a stream an earlier run completed, per its saved state and the file on disk; null otherwise. */
async function completeSize(file: string, statePath: string): Promise<number | null> {
  try {
    const state = JSON.parse(await readFile(statePath, 'utf8')) as Partial<RangedState>;
    if (typeof state.total !== 'number' || !Array.isArray(state.ranges) || state.ranges.length === 0) return null;
    const covered = state.ranges.every((range) => range.end !== null && range.pos > range.end);
    return covered && (await stat(file)).size === state.total ? state.total : null;
  } catch {
    return null;
  }
}

function fileNameOf(url: string): string | null {
  try {
    const path = new URL(url).pathname;
    return path.slice(path.lastIndexOf('/') + 1) || null;
  } catch {
    return null;
  }
}

function safeParsePath(url: string): BilibiliTarget | null {
  try {
    return parseBilibiliPath(new URL(url));
  } catch {
    return null;
  }
}

function describeChoice(choice: StreamChoice): string {
  if (choice.mode === 'durl') return `progressive ${choice.container} in ${choice.parts.length} part(s), quality ${choice.quality ?? 'unknown'}`;
  const { video, audio } = choice;
  const size = video?.width && video.height ? `${video.width}x${video.height} ` : '';
  const videoText = video ? `video ${video.id} (${size}${video.codecs || video.codec || 'unknown codec'}, ${Math.round(video.bandwidth / 1000)} kb/s)` : 'no video (the sound alone)';
  const audioText = audio ? `audio ${audio.id} (${audio.format} ${audio.codecs}, ${Math.round(audio.bandwidth / 1000)} kb/s)` : 'no audio stream';
  return `${videoText}, ${audioText}`;
}

/** Sums the bytes of several streams; the total stays unknown until every stream's size is known. */
class ProgressSum {
  private readonly parts = new Map<string, { done: number; total: number | null }>();

  constructor(
    private readonly report: (progress: ProgressReport) => void,
    totals: Map<string, number | null>,
  ) {
    for (const [key, total] of totals) this.parts.set(key, { done: 0, total });
    this.emit();
  }

  update(key: string, done: number, total: number | null): void {
    this.parts.set(key, { done, total });
    this.emit();
  }

  private emit(): void {
    let downloadedBytes = 0;
    let totalBytes: number | null = 0;
    for (const part of this.parts.values()) {
      downloadedBytes += part.done;
      totalBytes = totalBytes === null || part.total === null ? null : totalBytes + part.total;
    }
    this.report({ downloadedBytes, totalBytes });
  }
}
