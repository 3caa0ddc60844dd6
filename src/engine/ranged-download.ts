import { setMaxListeners } from 'node:events';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { throwIfAborted } from './abort.js';
import { pathExists } from '../common/file-system.js';
import { type HeaderPairs, type HttpClient, type HttpResponse, discardBody, headerValue } from './http-client.js';
import { PermanentError, describeError, isTransient } from './http-error.js';
import { retryDelay } from './retry.js';
import { sleep } from './abort.js';

/** A part of the file one connection fetches; pos is the next byte to write. end is null while the size is unknown. */
export interface ByteRange {
  start: number;
  end: number | null;
  pos: number;
}

/** What is saved beside the .part file so that a later run resumes, or starts over if the file changed. */
export interface RangedState {
  version: 1;
  url: string;
  /** What identifies the remote file across runs (the URL unless the caller says otherwise). */
  key?: string;
  total: number | null;
  etag: string | null;
  lastModified: string | null;
  resumable: boolean;
  ranges: ByteRange[];
}

export interface RangedDownloadOptions {
  http: HttpClient;
  url: string;
  headers: HeaderPairs;
  /** The data file, written in place at each range's offset. */
  partPath: string;
  /** The JSON sidecar holding RangedState. */
  statePath: string;
  /** Identifies the remote file when its URL changes between runs (e.g. re-signed CDN URLs); default the URL. */
  resumeKey?: string;
  /** Connections at once when the server supports ranges. */
  connections: number;
  /** No range smaller than this is split further (default 1 MiB). */
  minSplitBytes?: number;
  signal: AbortSignal;
  onProgress?: (downloadedBytes: number, totalBytes: number | null) => void;
  log?: (line: string) => void;
  /** How often progress is flushed to disk for resuming (default 2 s). */
  checkpointMs?: number;
  /** Refuses an answer before anything is written, by returning why (e.g. an error page where media was expected). */
  refuse?: (response: HttpResponse) => string | null;
  /** Asked once the size is known, with the bytes still to write: rejects when they would not fit on the disk. */
  ensureSpace?: (bytes: number) => Promise<void>;
}

export interface RangedDownloadResult {
  totalBytes: number;
  /** The headers of the first answer: naming uses Content-Disposition and Content-Type. */
  headers: HttpResponse['headers'];
  finalUrl: string;
}

// small enough that the last stolen tail is short, large enough that a steal's new request pays for itself
const DEFAULT_MIN_SPLIT = 256 * 1024;

/** Splits [0, total) into up to `parts` ranges of at least minSplit bytes, their sizes differing by at most one. */
export function splitRanges(total: number, parts: number, minSplit: number): ByteRange[] {
  const count = Math.max(1, Math.min(parts, Math.floor(total / minSplit)));
  const base = Math.floor(total / count);
  const remainder = total % count;
  const ranges: ByteRange[] = [];
  let start = 0;
  for (let index = 0; index < count; index++) {
    const size = base + (index < remainder ? 1 : 0);
    ranges.push({ start, end: start + size - 1, pos: start });
    start += size;
  }
  return ranges;
}

/** Halves the range with the longest tail and returns the new back half, or null if none is worth splitting. */
export function stealLargestTail(ranges: ByteRange[], minSplit: number): ByteRange | null {
  let largest: ByteRange | null = null;
  let largestRemaining = 0;
  for (const range of ranges) {
    if (range.end === null) continue;
    const remaining = range.end + 1 - range.pos;
    if (remaining > largestRemaining) {
      largest = range;
      largestRemaining = remaining;
    }
  }
  if (!largest || largestRemaining < 2 * minSplit) return null;
  const mid = largest.pos + Math.floor(largestRemaining / 2);
  const stolen: ByteRange = { start: mid, end: largest.end, pos: mid };
  largest.end = mid - 1;
  return stolen;
}

export function downloadedBytes(ranges: ByteRange[]): number {
  return ranges.reduce((sum, range) => sum + (range.pos - range.start), 0);
}

function isComplete(range: ByteRange): boolean {
  return range.end !== null && range.pos > range.end;
}

/** The total after the slash of a Content-Range ("bytes 0-99/1000" gives 1000), or null. */
export function totalFromContentRange(value: string | undefined): number | null {
  const match = value ? /\/(\d+)\s*$/.exec(value) : null;
  return match ? Number(match[1]) : null;
}

function startFromContentRange(value: string | undefined): number | null {
  const match = value ? /bytes\s+(\d+)-/.exec(value) : null;
  return match ? Number(match[1]) : null;
}

/**
 * Downloads one URL into partPath: several ranged connections when the server allows,
 * one stream otherwise; resumes from statePath; starts over when the remote file changed.
 */
export async function downloadRanged(options: RangedDownloadOptions): Promise<RangedDownloadResult> {
  const minSplit = options.minSplitBytes ?? DEFAULT_MIN_SPLIT;
  const log = options.log ?? (() => undefined);
  // a state without its data file (moved into place, or removed by hand) describes nothing to resume
  const partExists = await pathExists(options.partPath);
  const key = options.resumeKey ?? options.url;
  const previous = partExists ? await loadState(options.statePath) : null;
  // partial data fetched from another URL (an expired link replaced by the user, a re-signed CDN URL):
  // resumed only when the new URL proves to serve the same file
  const urlChanged = previous !== null && (previous.key ?? previous.url) !== key;
  throwIfAborted(options.signal);

  // on a resume the probe asks for exactly the first missing range, so nothing past it is sent for nothing
  const firstMissing = previous?.resumable ? previous.ranges.find((range) => !isComplete(range)) : undefined;
  const probeStart = firstMissing ? firstMissing.pos : 0;
  const probe = await openWithRetry(options, { start: probeStart, end: firstMissing?.end ?? undefined }, log);
  const refusal = options.refuse?.(probe);
  if (refusal) {
    discardBody(probe);
    throw new PermanentError(refusal);
  }
  const resumable = probe.status === 206;
  const total = resumable ? totalFromContentRange(headerValue(probe.headers, 'content-range')) : lengthOf(probe);
  const etag = headerValue(probe.headers, 'etag') ?? null;
  const lastModified = headerValue(probe.headers, 'last-modified') ?? null;

  let state: RangedState;
  const verdict = previous ? (urlChanged ? await sameFileElsewhere(options, previous, { resumable, total, etag }, log) : await sameFileAgain(options, previous, { resumable, total, etag, lastModified }, log)) : null;
  if (previous && verdict === null) {
    state = previous;
    if (urlChanged) {
      log(`the URL changed since the last run and the new one serves the same file (same length and ${isStrongEtag(etag) && etag === previous.etag ? 'ETag' : 'bytes at the seam'}): resuming`);
      state.url = options.url;
      state.key = key;
    }
    log(`resuming: ${downloadedBytes(state.ranges)} of ${total ?? 'unknown'} bytes already on disk`);
  } else {
    if (previous) log(urlChanged ? `the URL changed since the last run and the new one serves other content (${verdict}): starting over` : 'the remote file changed or cannot be resumed: starting over');
    const ranges = resumable && total !== null ? splitRanges(total, options.connections, minSplit) : [{ start: 0, end: total === null ? null : total - 1, pos: 0 }];
    state = { version: 1, url: options.url, key, total, etag, lastModified, resumable, ranges };
    await rm(options.partPath, { force: true });
    await rm(options.statePath, { force: true });
  }
  if (total === 0) {
    discardBody(probe);
    await writeFile(options.partPath, '');
    return { totalBytes: 0, headers: probe.headers, finalUrl: probe.url };
  }

  if (state.total !== null && options.ensureSpace) {
    await options.ensureSpace(state.total - downloadedBytes(state.ranges)).catch((error: unknown) => {
      discardBody(probe);
      throw error;
    });
  }
  const file = await open(options.partPath, previous && state === previous ? 'r+' : 'w+').catch(() => open(options.partPath, 'w+'));
  const session = new RangedSession(options, state, file, minSplit, log);
  try {
    await session.run(probe, probeStart);
  } finally {
    await session.checkpoint().catch(() => undefined);
    await file.close();
  }
  const size = downloadedBytes(state.ranges);
  if (state.total !== null && size !== state.total) {
    throw new PermanentError(`downloaded ${size} bytes but the server announced ${state.total}`);
  }
  return { totalBytes: size, headers: probe.headers, finalUrl: probe.url };
}

function lengthOf(response: HttpResponse): number | null {
  const raw = headerValue(response.headers, 'content-length');
  const encoded = headerValue(response.headers, 'content-encoding');
  return raw && /^\d+$/.test(raw) && (!encoded || encoded === 'identity') ? Number(raw) : null;
}

interface ProbeAnswer {
  resumable: boolean;
  total: number | null;
  etag: string | null;
  lastModified?: string | null;
}

/** Null when the partial data of the same URL can be resumed, else why not. */
async function sameFileAgain(options: RangedDownloadOptions, previous: RangedState, answer: Required<ProbeAnswer>, log: (line: string) => void): Promise<string | null> {
  if (!previous.resumable || !answer.resumable) return 'no byte ranges';
  if (!sameRemoteFile(previous, answer.total, answer.etag, answer.lastModified)) return 'changed validators';
  // without a strong ETag the size alone cannot tell a changed file: compare bytes already on disk
  if (isStrongEtag(answer.etag) || (await sameBytesOnDisk(options, previous, log))) return null;
  return 'different bytes';
}

/**
 * Null when another URL serves the file the partial data came from: the same length, and the same strong
 * ETag or (CDNs differ in validators) the same bytes just before where the data stops. Else says why not.
 */
async function sameFileElsewhere(options: RangedDownloadOptions, previous: RangedState, answer: ProbeAnswer, log: (line: string) => void): Promise<string | null> {
  if (!previous.resumable) return 'the earlier download had no byte ranges to resume';
  if (!answer.resumable) return 'the new URL does not answer byte ranges';
  if (answer.total !== previous.total) return `its length is ${answer.total ?? 'unknown'} bytes where the partial file's is ${previous.total ?? 'unknown'}`;
  if (isStrongEtag(answer.etag) && answer.etag === previous.etag) return null;
  return (await sameBytesOnDisk(options, previous, log)) ? null : 'its bytes before the resume point differ from those on disk';
}

function sameRemoteFile(state: RangedState, total: number | null, etag: string | null, lastModified: string | null): boolean {
  return state.total === total && state.etag === etag && state.lastModified === lastModified;
}

function isStrongEtag(etag: string | null): boolean {
  return etag !== null && !etag.startsWith('W/');
}

const SAMPLE_BYTES = 64 * 1024;

/** Fetches again the last bytes written before the first gap and compares them with the file on disk. */
async function sameBytesOnDisk(options: RangedDownloadOptions, state: RangedState, log: (line: string) => void): Promise<boolean> {
  const written = state.ranges.find((range) => range.pos > range.start);
  if (!written) return true;
  const start = Math.max(written.start, written.pos - SAMPLE_BYTES);
  const length = written.pos - start;
  const response = await openWithRetry(options, { start, end: written.pos - 1 }, log);
  if (response.status !== 206) {
    discardBody(response);
    return false;
  }
  // only the asked bytes are kept: a server that sends more (or never stops) is cut there
  const remote = await readAtMost(response, length);
  const local = Buffer.alloc(length);
  const handle = await open(options.partPath, 'r');
  try {
    await handle.read(local, 0, length, start);
  } finally {
    await handle.close();
  }
  return remote.equals(local);
}

/** The first `limit` bytes of a body (fewer if it ends sooner); the rest is not read and the body is destroyed. */
export async function readAtMost(response: Pick<HttpResponse, 'body'>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      const wanted = chunk.subarray(0, limit - size);
      chunks.push(wanted);
      size += wanted.length;
      if (size >= limit) break;
    }
  } finally {
    discardBody(response);
  }
  return Buffer.concat(chunks);
}

async function loadState(path: string): Promise<RangedState | null> {
  try {
    const state = JSON.parse(await readFile(path, 'utf8')) as RangedState;
    return state.version === 1 && typeof (state.key ?? state.url) === 'string' && Array.isArray(state.ranges) ? state : null;
  } catch {
    return null;
  }
}

async function openWithRetry(options: RangedDownloadOptions, range: { start: number; end?: number }, log: (line: string) => void): Promise<HttpResponse> {
  const policy = options.http.retryPolicy;
  for (let attempt = 1; ; attempt++) {
    try {
      return await options.http.open(options.url, { headers: options.headers, signal: options.signal, range });
    } catch (error) {
      if (options.signal.aborted || !isTransient(error)) throw error;
      if (attempt >= policy.attempts) throw new PermanentError(`${describeError(error)} after ${attempt} tries`);
      const delay = retryDelay(policy, attempt, error);
      log(`try ${attempt} failed: ${describeError(error)}; retrying in ${delay} ms`);
      await sleep(delay, options.signal);
    }
  }
}

/** The connections of one run, sharing the file handle, the ranges and the checkpoint timer. */
class RangedSession {
  private downloaded: number;
  private lastCheckpoint = Date.now();
  private checkpointing: Promise<void> | null = null;
  /** Ranges some worker is on: only those are split, so a range nobody works on is taken whole. */
  private readonly active = new Set<ByteRange>();
  /** Aborted by the client's signal, or by the first worker that fails for good. */
  private readonly stop = new AbortController();

  constructor(
    private readonly options: RangedDownloadOptions,
    private readonly state: RangedState,
    private readonly file: FileHandle,
    private readonly minSplit: number,
    private readonly log: (line: string) => void,
  ) {
    this.downloaded = downloadedBytes(state.ranges);
    // every connection's request listens on this signal
    setMaxListeners(options.connections * 2 + 8, this.stop.signal);
  }

  async run(probe: HttpResponse, probeStart: number): Promise<void> {
    const pending = this.state.ranges.filter((range) => !isComplete(range));
    const probeRange = pending.find((range) => range.pos === probeStart);
    if (!probeRange) discardBody(probe);
    this.report();
    const onAbort = () => this.stop.abort(this.options.signal.reason);
    // a stop that came while the file was being opened counts as well
    if (this.options.signal.aborted) onAbort();
    this.options.signal.addEventListener('abort', onAbort, { once: true });
    // the probe was asked with the client's signal only: a failing sibling must end its transfer too
    this.stop.signal.addEventListener('abort', () => discardBody(probe), { once: true });
    try {
      const connections = this.state.resumable ? this.options.connections : 1;
      const workers = Array.from({ length: Math.min(connections, pending.length) }, (_, index) =>
        this.worker(index === 0 && probeRange ? probeRange : null, index === 0 && probeRange ? probe : null).catch((error) => {
          this.stop.abort(error);
          throw error;
        }),
      );
      const results = await Promise.allSettled(workers);
      if (this.options.signal.aborted) throwIfAborted(this.options.signal);
      const failed = results.find((result) => result.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw this.stop.signal.reason ?? failed.reason;
    } finally {
      this.options.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Takes ranges nobody works on, then keeps stealing the back half of the longest active one. */
  private async worker(first: ByteRange | null, probe: HttpResponse | null): Promise<void> {
    let range = first ?? this.takeIdle();
    let response = probe;
    while (range) {
      this.active.add(range);
      try {
        await this.fetchRange(range, response);
      } finally {
        this.active.delete(range);
      }
      response = null;
      range = this.takeIdle() ?? this.steal();
    }
  }

  private takeIdle(): ByteRange | null {
    return this.state.ranges.find((range) => !isComplete(range) && !this.active.has(range)) ?? null;
  }

  private steal(): ByteRange | null {
    if (!this.state.resumable) return null;
    const stolen = stealLargestTail([...this.active], this.minSplit);
    if (stolen) this.state.ranges.push(stolen);
    return stolen;
  }

  private async fetchRange(range: ByteRange, initial: HttpResponse | null): Promise<void> {
    const policy = this.options.http.retryPolicy;
    const signal = this.stop.signal;
    let failures = 0;
    let response = initial;
    while (!isComplete(range)) {
      throwIfAborted(signal);
      const before = range.pos;
      try {
        response ??= await this.options.http.open(this.options.url, {
          headers: this.options.headers,
          signal,
          range: this.state.resumable ? { start: range.pos, end: range.end ?? undefined } : undefined,
        });
        this.checkAnswer(response, range);
        await this.consume(response, range);
        response = null;
        if (range.end === null) {
          // the server gave no length: the end of the stream is the end of the file
          range.end = range.pos - 1;
          this.state.total = range.pos;
          return;
        }
        if (!isComplete(range)) throw Object.assign(new Error('the connection closed before the range was complete'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
      } catch (error) {
        discardBody(response);
        response = null;
        if (signal.aborted) throw error;
        // a try that moved bytes forward resets the count: only a stuck range exhausts its retries
        failures = range.pos > before ? 1 : failures + 1;
        if (!isTransient(error)) throw error;
        if (failures >= policy.attempts) throw new PermanentError(`${describeError(error)} after ${failures} tries`);
        if (!this.state.resumable) {
          // the stream starts again from byte 0: what the last try wrote must not linger past a shorter answer
          this.downloaded -= range.pos - range.start;
          range.pos = range.start;
          await this.file.truncate(0);
        }
        const delay = retryDelay(policy, failures, error);
        this.log(`bytes ${range.pos}-${range.end ?? ''}: ${describeError(error)}; retrying in ${delay} ms`);
        await sleep(delay, signal);
      }
    }
  }

  private checkAnswer(response: HttpResponse, range: ByteRange): void {
    if (!this.state.resumable) return;
    if (response.status !== 206) {
      throw new PermanentError(`the server stopped honouring byte ranges (answered ${response.status} to a range request)`);
    }
    const start = startFromContentRange(headerValue(response.headers, 'content-range'));
    if (start !== range.pos) throw new PermanentError(`the server answered bytes from ${start} when ${range.pos} was asked`);
  }

  private async consume(response: HttpResponse, range: ByteRange): Promise<void> {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      const room = range.end === null ? chunk.length : Math.min(chunk.length, range.end + 1 - range.pos);
      if (room <= 0) break;
      // positions move only once the bytes are written, so a checkpoint never claims bytes in flight
      await this.file.write(chunk, 0, room, range.pos);
      range.pos += room;
      this.downloaded += room;
      this.report();
      // the flush runs beside the transfer: no connection waits for the disk
      if (Date.now() - this.lastCheckpoint >= (this.options.checkpointMs ?? 2_000)) void this.checkpoint().catch((error) => this.log(`checkpoint not saved: ${describeError(error)}`));
      if (isComplete(range)) break;
    }
  }

  private report(): void {
    this.options.onProgress?.(this.downloaded, this.state.total);
  }

  /** Records the positions, then flushes the data before the record replaces the last one. */
  checkpoint(): Promise<void> {
    this.checkpointing ??= (async () => {
      this.lastCheckpoint = Date.now();
      const snapshot = JSON.stringify(this.state);
      await this.file.datasync();
      const temporary = `${this.options.statePath}.tmp`;
      await writeFile(temporary, snapshot);
      await rename(temporary, this.options.statePath);
    })().finally(() => {
      this.checkpointing = null;
    });
    return this.checkpointing;
  }
}
