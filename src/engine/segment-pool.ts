import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Transform } from 'node:stream';
import { discardBody, headerValue } from './http-client.js';
import { pipeline } from 'node:stream/promises';
import { abortError, isAbortError } from './abort.js';
import type { HeaderPairs, HttpClient } from './http-client.js';
import { HttpError, PermanentError, describeError, isTransient, redactUrl, redactUrlKeepingParameterNames } from './http-error.js';
import { type MediaCheck, NotMediaError, assertMedia, mediaCheckStage } from './media-sniff.js';
import { type RetryPolicy, retryDelay } from './retry.js';

/** One piece of media to fetch into its own file. */
export interface SegmentRequest {
  /** How the piece is named in messages, e.g. "segment 17 of https://host/index.m3u8". */
  label: string;
  url: string;
  /** The same piece at other addresses (DASH BaseURL mirrors): when `url` fails, each is tried in turn. */
  mirrors?: string[];
  /** Inclusive byte range of the resource; null or absent means the whole resource. */
  range?: { start: number; end?: number } | null;
  /** Final path; the piece is written under a temporary name and renamed here when complete. */
  path: string;
  /** Stages the body passes through before the file (e.g. a decipher); built anew for every try. */
  stages?: (signal: AbortSignal) => Promise<Transform[]>;
  /** What the piece must be, checked on its first bytes after the stages; a piece that is not fails the pool. */
  check?: MediaCheck;
}

export interface SegmentPoolOptions {
  http: HttpClient;
  headers: HeaderPairs;
  /** Requests in flight at most, over all hosts. */
  concurrency: number;
  retry: RetryPolicy;
  /** No body bytes for this long: the request is aborted and tried again. */
  stallTimeoutMs: number;
  signal: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (progress: PoolProgress) => void;
  /** Called when a piece is complete on disk (fetched now or found from an earlier run). */
  onComplete?: (request: SegmentRequest, result: SegmentResult) => void;
  /** When true, a piece that never succeeds is reported to onGiveUp instead of failing the pool (live recording). */
  tolerateFailures?: boolean;
  onGiveUp?: (request: SegmentRequest, error: Error) => void;
  /** Retry 404/410 as well: CDN edges often answer them briefly for pieces that exist (default true). */
  retryNotFound?: boolean;
}

export interface PoolProgress {
  total: number;
  done: number;
  /** Bytes of completed pieces (as stored on disk) plus bytes received for pieces still in flight. */
  bytes: number;
  /** Bytes of completed pieces only, for averages. */
  completedBytes: number;
}

export interface SegmentResult {
  bytes: number;
  /** True when the file was already complete from an earlier run and nothing was fetched. */
  reused: boolean;
}

/**
 * A piece that failed for good: names the piece, the URL it was asked at (query values redacted: a user with
 * an expired token sees which request failed, never the token), the HTTP status when there was one, and the tries.
 */
export class SegmentFailedError extends PermanentError {
  constructor(
    readonly label: string,
    readonly status: number | null,
    readonly tries: number,
    cause: unknown,
    url: string | null = null,
  ) {
    const triesText = `${tries} ${tries === 1 ? 'try' : 'tries'}`;
    const what = url ? `${label} (${redactUrlKeepingParameterNames(url)})` : label;
    super(status !== null ? `${what} answered HTTP ${status} after ${triesText}` : `${what} failed after ${triesText}: ${describeError(cause)}`);
    this.name = 'SegmentFailedError';
  }
}

/** Raised by the watchdog; carries a transient code so the retry logic treats it like a timeout. */
class StallError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`no data received for ${ms} ms`);
    this.name = 'StallError';
  }
}

interface Entry {
  request: SegmentRequest;
  /** Where the piece is asked for now: the request's URL, then its mirrors in turn. */
  url: string;
  mirror: number;
  host: string;
  tries: number;
  inFlightBytes: number;
  /** Frees the entry's request slot; idempotent. */
  release?: () => void;
}

/** Bodies up to this size are received into memory, so that their request slot frees before the disk write. */
const BUFFERED_BODY_LIMIT = 4 * 1024 * 1024;
/** Received bytes that may wait for the disk at once; past this a piece keeps its slot while it is written. */
const WRITE_BACKLOG_LIMIT = 32 * 1024 * 1024;

/**
 * Buffers that small bodies are received into, reused from piece to piece. A body kept as the chunks
 * it arrived in (then joined by a copy) lives through its request and its write, long enough to be
 * promoted out of the small young generation the service runs with (young-generation.ts); promoted
 * buffers are freed only by a full collection, which V8 starts once some 64 MiB of them have piled
 * up, so an HLS download held that much dead media in memory. Copied into a reused buffer, each
 * chunk dies young, and the live bytes are those in flight and waiting for the disk.
 */
class BodyBuffers {
  private readonly free: Buffer[] = [];

  /** A buffer of at least `size` bytes, for this piece alone until it is given back. */
  take(size: number): Buffer {
    const index = this.free.findIndex((buffer) => buffer.length >= size);
    if (index >= 0) return this.free.splice(index, 1)[0];
    // a little room, so that the next piece of about the same size fits
    return Buffer.allocUnsafeSlow(Math.min(BUFFERED_BODY_LIMIT, Math.ceil((size * 1.25) / 65_536) * 65_536) || 65_536);
  }

  /** Only once nothing reads it any more (the file is written); a buffer an aborted write may still read is left to the GC. */
  giveBack(buffer: Buffer): void {
    this.free.push(buffer);
  }
}

/** Per-host concurrency that halves when the host pushes back (429/503) and creeps back up on success. */
class HostLimit {
  active = 0;
  private successes = 0;
  private loweredAt = 0;

  constructor(
    public limit: number,
    private readonly max: number,
  ) {}

  pushBack(now: number): boolean {
    // one burst of 429s from the requests already in flight counts as one signal
    if (now - this.loweredAt < 1_000 || this.limit === 1) return false;
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.loweredAt = now;
    this.successes = 0;
    return true;
  }

  succeeded(): void {
    if (this.limit < this.max && ++this.successes >= this.limit * 4) {
      this.limit++;
      this.successes = 0;
    }
  }
}

/**
 * Fetches many small pieces (HLS/DASH segments) concurrently over the shared keep-alive client:
 * per-piece retries with backoff, stall abort, per-host back-off on 429/503, write-then-rename,
 * and skip-if-complete so that a new run resumes where the last one stopped.
 */
export class SegmentPool {
  private readonly queue: Entry[] = [];
  private readonly hosts = new Map<string, HostLimit>();
  private readonly controller = new AbortController();
  private readonly signal: AbortSignal;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Entry>();
  private readonly madeDirs = new Map<string, Promise<unknown>>();
  /** Files found in each directory before this pool wrote anything there. */
  private readonly listings = new Map<string, Promise<Set<string>>>();
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private failure: Error | null = null;
  private active = 0;
  /** Pieces received and being written after their slot was freed, and their bytes. */
  private writing = 0;
  private writingBytes = 0;
  private total = 0;
  private done = 0;
  private completedBytes = 0;
  private lastProgressAt = 0;
  private readonly bodies = new BodyBuffers();

  constructor(private readonly options: SegmentPoolOptions) {
    this.signal = AbortSignal.any([options.signal, this.controller.signal]);
    options.signal.addEventListener('abort', () => this.fail(abortError(options.signal)), { once: true });
  }

  /** Queues pieces; they start as slots free up, in the order given. */
  add(requests: SegmentRequest[]): void {
    if (this.failure) return;
    for (const request of requests) {
      this.queue.push({ request, url: request.url, mirror: 0, host: hostOf(request.url), tries: 0, inFlightBytes: 0 });
      this.total++;
    }
    this.pump();
  }

  /** Resolves once every queued piece is complete; rejects with the first piece that failed for good (or the abort). */
  settled(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  progress(): PoolProgress {
    let inFlight = 0;
    for (const entry of this.inFlight) inFlight += entry.inFlightBytes;
    return { total: this.total, done: this.done, bytes: this.completedBytes + inFlight, completedBytes: this.completedBytes };
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.active === 0 && this.writing === 0 && this.retryTimers.size === 0;
  }

  private pump(): void {
    if (this.failure) return;
    for (let index = 0; index < this.queue.length && this.active < this.options.concurrency; ) {
      const entry = this.queue[index];
      const host = this.hostLimit(entry.host);
      if (host.active >= host.limit) {
        index++;
        continue;
      }
      this.queue.splice(index, 1);
      this.start(entry, host);
    }
    if (this.isIdle()) this.settle(null);
  }

  private hostLimit(host: string): HostLimit {
    let limit = this.hosts.get(host);
    if (!limit) {
      limit = new HostLimit(this.options.concurrency, this.options.concurrency);
      this.hosts.set(host, limit);
    }
    return limit;
  }

  private start(entry: Entry, host: HostLimit): void {
    this.active++;
    host.active++;
    this.inFlight.add(entry);
    let released = false;
    entry.release = () => {
      if (released) return;
      released = true;
      this.active--;
      host.active--;
      this.pump();
    };
    this.attempt(entry, host).finally(() => {
      entry.release!();
      this.inFlight.delete(entry);
      entry.inFlightBytes = 0;
      this.pump();
    });
  }

  private async attempt(entry: Entry, host: HostLimit): Promise<void> {
    try {
      const result = await this.fetchOrReuse(entry);
      if (!result.reused) host.succeeded();
      this.done++;
      this.completedBytes += result.bytes;
      this.options.onComplete?.(entry.request, result);
      this.reportProgress(true);
    } catch (error) {
      if (this.failure) return;
      if (isAbortError(error) && this.options.signal.aborted) return this.fail(abortError(this.options.signal));
      this.retryOrGiveUp(entry, host, error);
    }
  }

  private retryOrGiveUp(entry: Entry, host: HostLimit, error: unknown): void {
    const { retry, log } = this.options;
    const status = error instanceof HttpError ? error.status : null;
    const mirrors = entry.request.mirrors ?? [];
    if (entry.mirror < mirrors.length) {
      // another address serves the same piece: move on at once rather than wait on the failing one
      const next = mirrors[entry.mirror];
      log?.(`${entry.request.label}: ${redactUrl(entry.url)} failed (${describeError(error)}); trying mirror ${entry.mirror + 2} of ${mirrors.length + 1}, ${redactUrl(next)}`);
      entry.mirror++;
      entry.url = next;
      entry.host = hostOf(next);
      entry.tries = 0;
      this.queue.unshift(entry);
      return;
    }
    if (!this.isRetryable(error) || entry.tries >= retry.attempts) {
      // a piece that is not media says so in its own words, naming the piece
      const label = mirrors.length > 0 ? `${entry.request.label} (after ${mirrors.length + 1} mirrors)` : entry.request.label;
      const failed = error instanceof NotMediaError ? error : new SegmentFailedError(label, status, entry.tries, error, entry.url);
      if (!this.options.tolerateFailures) return this.fail(failed);
      this.done++;
      log?.(`${failed.message}; skipped`);
      this.options.onGiveUp?.(entry.request, failed);
      return;
    }
    if ((status === 429 || status === 503) && host.pushBack(Date.now())) {
      log?.(`${entry.host} answered HTTP ${status}: lowering its concurrency to ${host.limit}`);
    }
    const delay = retryDelay(retry, entry.tries, error);
    log?.(`${entry.request.label}: ${describeError(error)}; try ${entry.tries + 1} of ${retry.attempts} in ${delay} ms`);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.unshift(entry);
      this.pump();
    }, delay);
    this.retryTimers.add(timer);
  }

  private isRetryable(error: unknown): boolean {
    if (error instanceof StallError || isTransient(error)) return true;
    const notFound = error instanceof HttpError && (error.status === 404 || error.status === 410);
    return notFound && this.options.retryNotFound !== false;
  }

  private async fetchOrReuse(entry: Entry): Promise<SegmentResult> {
    // what an earlier run left is listed once per directory: a stat per piece would hold every slot a little longer
    const earlier = await this.listDir(dirname(entry.request.path));
    const existing = earlier.has(basename(entry.request.path)) ? await stat(entry.request.path).catch(() => null) : null;
    if (existing?.isFile()) return { bytes: existing.size, reused: true };
    entry.tries++;
    return { bytes: await this.fetchToFile(entry), reused: false };
  }

  /**
   * One try: receives the body (into memory when small, so the next request can start while this
   * one is written), passes it through the stages into <path>.part, checks its length, renames it.
   */
  private async fetchToFile(entry: Entry): Promise<number> {
    const { request } = entry;
    const stall = new AbortController();
    const signal = AbortSignal.any([this.signal, stall.signal]);
    const watchdog = setTimeout(() => stall.abort(new StallError(this.options.stallTimeoutMs)), this.options.stallTimeoutMs);
    const temporary = `${request.path}.part`;
    let backlog = 0;
    try {
      const range = request.range ?? undefined;
      const response = await this.options.http.open(entry.url, { headers: this.options.headers, signal, range });
      watchdog.refresh();
      const expected = range?.end !== undefined ? range.end - range.start + 1 : null;
      // a server that ignores Range answers 200 with the whole resource: cut the range out ourselves
      const cut = range && response.status === 200 ? new ByteWindow(range.start, expected) : null;
      const received = (chunk: Buffer) => {
        watchdog.refresh();
        entry.inFlightBytes += chunk.length;
        // a range answered with more than was asked is cut there, not written on without end
        if (expected !== null && entry.inFlightBytes > expected) throw Object.assign(new Error(`received more than the ${expected} bytes asked for`), { code: 'ECONNRESET' });
        this.reportProgress(false);
      };
      // a CDN that answers a media request with its HTML error page would corrupt the output silently
      if (/^text\/html\b/i.test(headerValue(response.headers, 'content-type') ?? '')) {
        discardBody(response);
        throw Object.assign(new Error('answered an HTML page instead of media'), { code: 'ECONNRESET' });
      }
      const announced = Number(headerValue(response.headers, 'content-length') ?? NaN);
      if (!(announced <= BUFFERED_BODY_LIMIT)) {
        // large or of unknown size: streamed to disk while the slot is held
        const meter = new Transform({
          transform: (chunk: Buffer, _encoding, callback) => {
            watchdog.refresh();
            const wanted = cut ? cut.take(chunk) : chunk;
            try {
              if (wanted.length > 0) received(wanted);
            } catch (error) {
              return callback(error as Error);
            }
            callback(null, wanted.length > 0 ? wanted : undefined);
          },
        });
        const stages = [...((await request.stages?.(signal)) ?? []), ...checkStage(request)];
        await this.ensureDir(dirname(request.path));
        const file = createWriteStream(temporary);
        await pipeline([response.body, meter, ...stages, file], { signal });
        this.checkLength(entry, expected);
        await rename(temporary, request.path);
        return file.bytesWritten;
      }
      const body = this.bodies.take(announced);
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        watchdog.refresh();
        const wanted = cut ? cut.take(chunk) : chunk;
        if (wanted.length > 0) {
          received(wanted);
          // Node's parser stops at Content-Length; this guards the buffer all the same
          if (size + wanted.length > body.length) throw Object.assign(new Error(`received more than the announced ${announced} bytes`), { code: 'ECONNRESET' });
          size += wanted.copy(body, size);
        }
        // leaving the loop ends the transfer: the rest of an unranged answer is not wanted
        if (cut?.done) break;
      }
      const data = body.subarray(0, size);
      clearTimeout(watchdog);
      this.checkLength(entry, expected);
      // the bytes are here: the slot goes to the next request unless too many writes already wait
      if (this.writingBytes + entry.inFlightBytes <= WRITE_BACKLOG_LIMIT) {
        backlog = entry.inFlightBytes;
        this.writing++;
        this.writingBytes += backlog;
        entry.release?.();
      }
      const stages = (await request.stages?.(this.signal)) ?? [];
      await this.ensureDir(dirname(request.path));
      let bytes: number;
      if (stages.length === 0) {
        if (request.check) assertMedia(data.subarray(0, 189), request.check, request.label);
        await writeFile(temporary, data, { signal: this.signal });
        bytes = data.length;
      } else {
        const file = createWriteStream(temporary);
        await pipeline([Readable.from([data]), ...stages, ...checkStage(request), file], { signal: this.signal });
        bytes = file.bytesWritten;
      }
      await rename(temporary, request.path);
      this.bodies.giveBack(body);
      return bytes;
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      entry.inFlightBytes = 0;
      throw stall.signal.aborted && !this.signal.aborted ? stall.signal.reason : error;
    } finally {
      clearTimeout(watchdog);
      if (backlog > 0) {
        this.writing--;
        this.writingBytes -= backlog;
      }
    }
  }

  private checkLength(entry: Entry, expected: number | null): void {
    if (expected !== null && entry.inFlightBytes !== expected) {
      throw Object.assign(new Error(`received ${entry.inFlightBytes} of ${expected} bytes`), { code: 'ECONNRESET' });
    }
  }

  private listDir(dir: string): Promise<Set<string>> {
    let listing = this.listings.get(dir);
    if (!listing) {
      listing = readdir(dir).then((names) => new Set(names), () => new Set<string>());
      this.listings.set(dir, listing);
    }
    return listing;
  }

  /** One recursive mkdir per directory rather than per piece. */
  private ensureDir(dir: string): Promise<unknown> {
    let made = this.madeDirs.get(dir);
    if (!made) {
      made = mkdir(dir, { recursive: true });
      made.catch(() => this.madeDirs.delete(dir));
      this.madeDirs.set(dir, made);
    }
    return made;
  }

  private reportProgress(force: boolean): void {
    const now = Date.now();
    if (!this.options.onProgress || (!force && now - this.lastProgressAt < 200)) return;
    this.lastProgressAt = now;
    this.options.onProgress(this.progress());
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.queue.length = 0;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.controller.abort(error);
    this.settle(error);
  }

  private settle(error: Error | null): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }
}

function checkStage(request: SegmentRequest): Transform[] {
  return request.check ? [mediaCheckStage(request.check, request.label)] : [];
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** The part of a byte stream from `start`, `length` bytes long (null: the rest), chunk by chunk. */
export class ByteWindow {
  private position = 0;
  private readonly end: number;

  constructor(
    private readonly start: number,
    length: number | null,
  ) {
    this.end = length === null ? Infinity : start + length;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  /** The bytes of this chunk that fall inside the window (possibly none). */
  take(chunk: Buffer): Buffer {
    const from = Math.max(0, this.start - this.position);
    const to = Math.min(chunk.length, this.end - this.position);
    this.position += chunk.length;
    return to > from ? chunk.subarray(from, to) : chunk.subarray(0, 0);
  }
}
