import { Inject, Injectable } from '@nestjs/common';
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { abortError, isAbortError, throwIfAborted } from '../../engine/abort.js';
import { AddressGuard, AddressNotAllowedError } from '../../engine/address-guard.js';
import { GuardedProxy } from '../../engine/guarded-proxy.js';
import { PermanentError, redactUrlsIn } from '../../engine/http-error.js';
import { DependencyMissingError } from '../../engine/task-errors.js';
import { ToolsService } from '../../engine/tools.service.js';
import { DownloadType } from '../../common/download-type.enum.js';
import type { DownloadContext, DownloadJob, DownloadOutput, SubtitleFile } from '../../engine/download-job.js';
import type { ResolveContext, ResolveRequest, ResolvedLink } from '../../engine/resolved-link.js';
import { languageMatches } from '../../config/media-choice.js';
import type { Downloader } from '../downloader.interface.js';
import { COOKIES_FILE, RESULT_FILE, buildYtdlpArguments, cookiesFileText, describeArguments, workFileName, ytdlpHeaders } from './ytdlp-arguments.js';
import { LISTING_MAX_BYTES, buildYtdlpListArguments, parseYtdlpListing, runYtdlpListing } from './ytdlp-listing.js';
import { type YtdlpExit, runYtdlpProcess } from './ytdlp-process.js';
import { YtdlpProgressTracker, errorWithCause, meaningfulError, parseYtdlpLine } from './ytdlp-progress.js';

/** Time an interrupted live recording gets to finish ffmpeg's file and yt-dlp's remux to mp4. */
const LIVE_FINALISE_TIMEOUT_MS = 60_000;
/** Time yt-dlp gets after SIGTERM before SIGKILL when a normal download is stopped. */
const KILL_GRACE_MS = 3_000;

export const YTDLP_MISSING_MESSAGE =
  'yt-dlp is not installed, so "youtube" tasks cannot run: install it with "apt-get install yt-dlp" or "pip install yt-dlp", or set YTDLP_PATH to its location';

/** Failures no retry can mend: the URL is not a media page, the page or the format is not there. */
const PERMANENT_FAILURES = [
  /Unsupported URL/i,
  /is not a valid URL/i,
  /HTTP Error (?!408|425|429)4\d\d/,
  /Requested format is not available/i,
  /Video unavailable|This video is (?:private|unavailable)|Private video/i,
];

interface YtdlpResult {
  title?: unknown;
  filepath?: unknown;
  ext?: unknown;
  height?: unknown;
  language?: unknown;
}

/**
 * The "youtube" type: YouTube and the other sites yt-dlp supports, with yt-dlp as a child process.
 * Partial data stays in the task's working directory, where a later run resumes it.
 */
@Injectable()
export class YoutubeDownloader implements Downloader {
  readonly type = DownloadType.Youtube;

  /** The address check of every connection yt-dlp makes (ALLOW_PRIVATE_ADDRESSES=false); replaceable so that a test can let one loopback origin through. */
  addressGuard = new AddressGuard();

  constructor(
    private readonly tools: ToolsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(job: DownloadJob, ctx: DownloadContext): Promise<DownloadOutput> {
    throwIfAborted(ctx.signal);
    const ytdlp = this.tools.ytdlp;
    if (!ytdlp) throw new DependencyMissingError('yt-dlp', YTDLP_MISSING_MESSAGE);
    await mkdir(job.workDir, { recursive: true });
    // a result left by an earlier run must not be taken for this run's
    await rm(join(job.workDir, RESULT_FILE), { force: true });
    if (!this.config.allowPrivateAddresses) await checkTaskHost(this.addressGuard, job.url);
    const { cookies, withheld } = ytdlpHeaders(job.headers);
    if (withheld.length > 0) {
      ctx.log(`${withheld.join(', ')} not passed to yt-dlp: it would send it to every host the page leads to, not only ${new URL(job.url).host}; a Cookie header is passed, limited to that host`);
    }
    const cookiesPath = join(job.workDir, COOKIES_FILE);
    // removed first: a file left by a crash would keep its mode when written over
    await rm(cookiesPath, { force: true });
    if (cookies.length > 0) await writeFile(cookiesPath, cookiesFileText(job.url, cookies), { mode: 0o600 });
    try {
      return await this.throughGuard((route) => this.runTool(ytdlp, job, ctx, route));
    } finally {
      await rm(cookiesPath, { force: true });
    }
  }

  /**
   * Runs yt-dlp with the route its connections take. Unless private addresses are allowed, that is a GuardedProxy:
   * every connection yt-dlp (or the ffmpeg it starts) opens is checked when it is made, redirects and hosts the page
   * leads to included, and a refusal is the task's error. With a PROXY set, the connections are that proxy's to
   * make: only the task's own host is checked, before the start.
   */
  private async throughGuard<T>(work: (route: { proxy: string | null; noProxy: string | null }) => Promise<T>): Promise<T> {
    if (this.config.allowPrivateAddresses || this.config.proxy) return work({ proxy: this.config.proxy, noProxy: this.config.noProxy });
    const proxy = await GuardedProxy.start(this.addressGuard, this.config.stallTimeoutMs);
    try {
      // every host through the guard: NO_PROXY names hosts to reach directly, which here would skip the check
      return await work({ proxy: proxy.url, noProxy: null });
    } catch (error) {
      // a stop stays a stop; any other failure after a refused connection is that refusal's doing
      throw proxy.refusal && !isAbortError(error) ? proxy.refusal : error;
    } finally {
      await proxy.close();
    }
  }

  /**
   * A playlist's or channel's entries, as yt-dlp lists them without resolving each (--flat-playlist -J),
   * under the same address check, proxy and header rules as a run; a page that is one video is one entry.
   */
  async resolve(request: ResolveRequest, ctx: ResolveContext): Promise<ResolvedLink> {
    throwIfAborted(ctx.signal);
    const ytdlp = this.tools.ytdlp;
    if (!ytdlp) throw new DependencyMissingError('yt-dlp', YTDLP_MISSING_MESSAGE);
    if (!this.config.allowPrivateAddresses) await checkTaskHost(this.addressGuard, request.url);
    const { cookies } = ytdlpHeaders(request.headers);
    const workDir = await mkdtemp(join(tmpdir(), 'mediago-resolve-'));
    try {
      if (cookies.length > 0) await writeFile(join(workDir, COOKIES_FILE), cookiesFileText(request.url, cookies), { mode: 0o600 });
      const text = await this.throughGuard(async (route) => {
        const args = buildYtdlpListArguments(request.url, request.headers, request.limit, {
          ...route,
          retries: this.config.retryAttempts,
          socketTimeoutSeconds: Math.max(1, Math.ceil(this.config.stallTimeoutMs / 1000)),
        });
        ctx.log(`yt-dlp ${describeArguments(args)}`);
        try {
          return await runYtdlpListing(ytdlp, args, { cwd: workDir, signal: ctx.signal, maxBytes: LISTING_MAX_BYTES, killGraceMs: KILL_GRACE_MS });
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === 'ENOENT' || code === 'EACCES') throw new DependencyMissingError('yt-dlp', YTDLP_MISSING_MESSAGE);
          throw error;
        }
      });
      return parseYtdlpListing(text, request.url, request.limit);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async runTool(ytdlp: string, job: DownloadJob, ctx: DownloadContext, route: { proxy: string | null; noProxy: string | null }): Promise<DownloadOutput> {
    const args = buildYtdlpArguments(job, {
      ffmpegPath: this.tools.ffmpeg,
      ...route,
      concurrentFragments: this.config.segmentConcurrency,
      retries: this.config.retryAttempts,
      socketTimeoutSeconds: Math.max(1, Math.ceil(this.config.stallTimeoutMs / 1000)),
    });
    ctx.log(`yt-dlp ${describeArguments(args)}`);

    const tracker = new YtdlpProgressTracker(workFileName(job));
    const errors: string[] = [];
    const lastLines: string[] = [];
    /** The last line that was neither progress nor an error: where yt-dlp often puts an error's cause. */
    let previous: string | null = null;
    let exit: YtdlpExit;
    try {
      exit = await runYtdlpProcess(ytdlp, args, {
        cwd: job.workDir,
        signal: ctx.signal,
        interruptOnAbort: job.isLive,
        finaliseTimeoutMs: LIVE_FINALISE_TIMEOUT_MS,
        killGraceMs: KILL_GRACE_MS,
        onLine: (raw) => {
          const line = parseYtdlpLine(raw);
          const report = tracker.update(line);
          if (report) ctx.progress(report);
          if (line.kind === 'error') errors.push(errorWithCause(line.message, previous));
          else if (line.kind !== 'progress' && line.kind !== 'recording' && line.kind !== 'noise' && raw.trim()) previous = raw;
          // progress has its own channel; the log keeps what a person reading it needs
          if (line.kind === 'progress' || line.kind === 'recording' || line.kind === 'noise' || !raw.trim() || raw.includes(RESULT_FILE)) return;
          const shown = redactUrlsIn(raw);
          ctx.log(shown);
          lastLines.push(shown.trim());
          if (lastLines.length > 5) lastLines.shift();
        },
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EACCES') throw new DependencyMissingError('yt-dlp', `${YTDLP_MISSING_MESSAGE} (${code === 'ENOENT' ? 'it is not there' : 'it may not be run'})`);
      throw error;
    }

    if (exit.aborted) {
      // a stopped live recording is a finished recording, as long as something was recorded
      const recording = job.isLive ? ((await this.readResult(job)) ?? (await this.findRecording(job))) : null;
      if (!recording) throw abortError(ctx.signal);
      ctx.log(`Recording stopped; keeping ${recording.path.slice(job.workDir.length + 1)}`);
      return { ...(await this.finish(job, ctx, recording)), partial: true };
    }
    if (exit.code !== 0) throw this.failure(errors, lastLines, exit);
    const result = await this.readResult(job);
    if (!result) {
      throw new Error(`yt-dlp finished without saving a file${lastLines.length ? `: ${lastLines.at(-1)}` : ''}`);
    }
    await this.reportChoice(job, ctx);
    const subtitles = await this.findSubtitles(job, ctx);
    return { ...(await this.finish(job, ctx, result)), ...(subtitles.length > 0 ? { subtitles } : {}) };
  }

  /** Says in the log where yt-dlp's choice differs from the task's: a taller picture, another audio language. */
  private async reportChoice(job: DownloadJob, ctx: DownloadContext): Promise<void> {
    const result = await this.readResultLine(job);
    if (!result) return;
    if (typeof job.quality === 'number' && typeof result.height === 'number' && result.height > job.quality) {
      ctx.log(`quality/language: no format of at most ${job.quality} lines is offered; yt-dlp took the nearest, ${result.height}p`);
    }
    const language = typeof result.language === 'string' ? result.language : null;
    if (job.audioLanguages.length > 0 && !job.audioLanguages.some((wanted) => languageMatches(wanted, language))) {
      ctx.log(`quality/language: no audio in ${job.audioLanguages.join(' or ')} is offered; yt-dlp took ${language ? `audio in ${language}` : 'the default audio (its language is not given)'}`);
    }
  }

  /** The subtitle files yt-dlp wrote beside the media (task-<id>.<language>.vtt), and the requested languages it found none for. */
  private async findSubtitles(job: DownloadJob, ctx: DownloadContext): Promise<SubtitleFile[]> {
    if (job.subtitleLanguages.length === 0) return [];
    const prefix = `${workFileName(job)}.`;
    const files: SubtitleFile[] = [];
    for (const entry of await readdir(job.workDir)) {
      const language = entry.startsWith(prefix) && entry.endsWith('.vtt') ? entry.slice(prefix.length, -'.vtt'.length) : null;
      if (language && /^[A-Za-z0-9-]{1,35}$/.test(language)) files.push({ path: join(job.workDir, entry), language });
    }
    const missing = job.subtitleLanguages.filter((wanted) => !files.some((file) => languageMatches(wanted, file.language)));
    if (missing.length > 0) ctx.log(`quality/language: no subtitles in ${missing.join(', ')}${files.length > 0 ? ` (saved: ${files.map((file) => file.language).join(', ')})` : ''}`);
    return files;
  }

  private async finish(job: DownloadJob, ctx: DownloadContext, output: DownloadOutput): Promise<DownloadOutput> {
    const { size } = await stat(output.path);
    ctx.progress({ downloadedBytes: size, totalBytes: size, percent: 100 });
    return job.nameIsDerived && output.title ? output : { path: output.path, extension: output.extension };
  }

  /** The last JSON line yt-dlp wrote to the result file, if any. */
  private async readResultLine(job: DownloadJob): Promise<YtdlpResult | null> {
    let text: string;
    try {
      text = await readFile(join(job.workDir, RESULT_FILE), 'utf8');
    } catch {
      return null;
    }
    const line = text.split('\n').filter((entry) => entry.trim()).at(-1);
    if (!line) return null;
    try {
      return JSON.parse(line) as YtdlpResult;
    } catch {
      return null;
    }
  }

  /** What yt-dlp reported after moving the finished file into place, if it got that far. */
  private async readResult(job: DownloadJob): Promise<DownloadOutput | null> {
    const result = await this.readResultLine(job);
    if (!result) return null;
    if (typeof result.filepath !== 'string' || !result.filepath) return null;
    const path = resolve(job.workDir, result.filepath);
    const inside = relative(job.workDir, path);
    if (!inside || inside.startsWith('..') || isAbsolute(inside)) {
      throw new PermanentError(`yt-dlp saved its file outside the task's working directory (${result.filepath})`);
    }
    if (!(await isNonEmptyFile(path))) return null;
    const extension = extname(path).slice(1) || (typeof result.ext === 'string' && result.ext) || 'mp4';
    const title = typeof result.title === 'string' && result.title.trim() ? result.title.trim() : undefined;
    return { path, extension, ...(title ? { title } : {}) };
  }

  /**
   * The largest file a killed live recording left behind (yt-dlp's .part, written by ffmpeg).
   * ffmpeg records live HLS as MPEG-TS whatever the name says, so the extension follows the content.
   */
  private async findRecording(job: DownloadJob): Promise<DownloadOutput | null> {
    const base = workFileName(job);
    let best: { path: string; size: number } | null = null;
    for (const entry of await readdir(job.workDir, { withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.startsWith(`${base}.`) || /\.(ytdl|temp\.\w+|part-Frag\d+.*)$/.test(entry.name)) continue;
      const path = join(job.workDir, entry.name);
      const { size } = await stat(path);
      if (size > 0 && (!best || size > best.size)) best = { path, size };
    }
    if (!best) return null;
    const named = extname(best.path.replace(/\.part$/, '')).slice(1) || 'mp4';
    return { path: best.path, extension: (await isMpegTs(best.path)) ? 'ts' : named };
  }

  /** An Error carrying yt-dlp's own words: its ERROR line, else its last lines, never just a code. */
  private failure(errors: string[], lastLines: string[], exit: YtdlpExit): Error {
    let message = meaningfulError(errors) ?? lastLines.slice(-2).join(' | ');
    if (!message) message = exit.signal ? `yt-dlp was ended by ${exit.signal}` : `yt-dlp stopped with exit code ${exit.code} without saying why`;
    if (!this.tools.ffmpeg && /Requested format is not available/i.test(message)) {
      message += ' (this site offers video and audio separately: install ffmpeg so that they can be merged)';
    }
    return PERMANENT_FAILURES.some((pattern) => pattern.test(message)) ? new PermanentError(message) : new Error(message);
  }
}

/**
 * yt-dlp connects on its own, so the task's host is resolved and checked before it starts: a clear error at once,
 * before any process. What yt-dlp reaches later (redirects, media hosts the page names) the GuardedProxy checks.
 */
async function checkTaskHost(guard: AddressGuard, url: string): Promise<void> {
  try {
    await guard.checkUrl(url);
  } catch (error) {
    if (error instanceof AddressNotAllowedError) throw error;
    // a name we cannot check is not handed over: it could resolve to a refused address for yt-dlp
    throw new PermanentError(`${new URL(url).hostname} could not be resolved to check its address (${(error as { code?: string }).code ?? 'no answer'})`);
  }
}

async function isNonEmptyFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size > 0;
  } catch {
    return false;
  }
}

/** MPEG-TS packets are 188 bytes long and each starts with the sync byte 0x47. */
async function isMpegTs(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(189);
    const { bytesRead } = await handle.read(buffer, 0, 189, 0);
    return bytesRead === 189 && buffer[0] === 0x47 && buffer[188] === 0x47;
  } finally {
    await handle.close();
  }
}
