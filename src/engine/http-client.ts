import { type Readable, pipeline } from 'node:stream';
import type { AddressGuard } from './address-guard.js';
import { HttpError, PermanentError, redactUrl } from './http-error.js';
import { type HttpTransport, NodeHttpTransport, ProxyHttpTransport } from './http-transport.js';
import { currentSpeedLimits, throttled } from './rate-limiter.js';
import { type RetryHooks, type RetryPolicy, withRetry } from './retry.js';

export type HeaderPairs = Array<[string, string]>;

export interface HttpClientOptions {
  proxy?: string | null;
  noProxy?: string | null;
  /** No response head, or no body bytes, for this long: the request is aborted as stalled. */
  stallTimeoutMs: number;
  /** The response head must be complete within this long (default: stallTimeoutMs). */
  headTimeoutMs?: number;
  /** A small document (playlist, key, manifest, API answer) must arrive whole within this long (default 60 s). */
  documentTimeoutMs?: number;
  retry: RetryPolicy;
  userAgent?: string;
  /** Refuses loopback, private, link-local and unique-local addresses; null or absent: every address is allowed. */
  addressGuard?: AddressGuard | null;
}

export interface OpenOptions {
  headers?: HeaderPairs;
  signal?: AbortSignal;
  method?: 'GET' | 'HEAD';
  /** Inclusive byte range; end omitted means "to the end". */
  range?: { start: number; end?: number };
  maxRedirects?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** The URL that answered, after redirects: relative references resolve against it. */
  url: string;
}

const DEFAULT_DOCUMENT_TIMEOUT_MS = 60_000;

/** Transient, so the document is asked for again, within the task's tries. */
function documentTimedOut(url: string, ms: number): Error {
  return Object.assign(new Error(`${redactUrl(url)} did not arrive whole within ${ms} ms`), { code: 'ETIMEDOUT' });
}

const DEFAULT_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

/** A body read under the speed limits of the task whose work opened it (none outside a task, or when none is set). */
function underSpeedLimits(body: Readable, signal: AbortSignal | undefined): Readable {
  const limits = currentSpeedLimits();
  if (limits.length === 0) return body;
  const limited = throttled(limits, signal);
  // errors and early ends travel both ways: a destroyed reader also ends the connection
  pipeline(body, limited, () => undefined);
  return limited;
}

/** The one HTTP client every strategy uses: keep-alive pools, proxy, redirects, stall detection, retries. */
export class HttpClient {
  private transport: HttpTransport;
  /** transports replaced by a proxy change: requests under way finish on them; closed with the client */
  private readonly retired: HttpTransport[] = [];

  constructor(private readonly options: HttpClientOptions) {
    this.transport = this.transportFor(options.proxy ?? null);
  }

  /** Requests from now on go through this proxy (or directly, with null); those under way finish as they began. */
  useProxy(proxy: string | null): void {
    this.retired.push(this.transport);
    this.options.proxy = proxy;
    this.transport = this.transportFor(proxy);
  }

  private transportFor(proxy: string | null): HttpTransport {
    return proxy
      ? new ProxyHttpTransport(proxy, withLoopback(this.options.noProxy), this.options.stallTimeoutMs, this.options.addressGuard)
      : new NodeHttpTransport(this.options.stallTimeoutMs, this.options.addressGuard);
  }

  get retryPolicy(): RetryPolicy {
    return this.options.retry;
  }

  /** One request, redirects followed; an HTTP error status is thrown as HttpError. */
  async open(url: string, options: OpenOptions = {}): Promise<HttpResponse> {
    let current = url;
    const headers = this.buildHeaders(options);
    const firstOrigin = new URL(url).origin;
    for (let hop = 0; hop <= (options.maxRedirects ?? 10); hop++) {
      const response = await this.transport.send(current, {
        method: options.method ?? 'GET',
        headers: new URL(current).origin === firstOrigin ? headers : withoutCredentials(headers),
        signal: options.signal,
        headTimeoutMs: this.options.headTimeoutMs ?? this.options.stallTimeoutMs,
      });
      if (response.status >= 300 && response.status < 400 && response.headers.location) {
        drain(response.body);
        current = new URL(String(response.headers.location), current).toString();
        continue;
      }
      if (response.status >= 400) {
        drain(response.body);
        throw new HttpError(response.status, current, parseRetryAfter(response.headers['retry-after']));
      }
      return { status: response.status, headers: response.headers, body: underSpeedLimits(response.body, options.signal), url: current };
    }
    throw new PermanentError(`${redactUrl(url)} redirected more than ${options.maxRedirects ?? 10} times`);
  }

  /**
   * Follows redirects one hop at a time without requesting a Location that `arrived` accepts (a page that would
   * refuse or cost a request), and returns that Location; a URL that stops redirecting is returned as it answered.
   * An error status on the way is thrown as HttpError. Bodies are never read.
   */
  async followRedirectsUntil(url: string, arrived: (location: string) => boolean, options: OpenOptions = {}): Promise<string> {
    let current = url;
    const headers = this.buildHeaders(options);
    const firstOrigin = new URL(url).origin;
    const limit = options.maxRedirects ?? 10;
    for (let hop = 0; hop <= limit; hop++) {
      const response = await this.transport.send(current, {
        method: 'GET',
        headers: new URL(current).origin === firstOrigin ? headers : withoutCredentials(headers),
        signal: options.signal,
        headTimeoutMs: this.options.headTimeoutMs ?? this.options.stallTimeoutMs,
      });
      drain(response.body);
      if (response.status >= 300 && response.status < 400 && response.headers.location) {
        current = new URL(String(response.headers.location), current).toString();
        if (arrived(current)) return current;
        continue;
      }
      if (response.status >= 400) throw new HttpError(response.status, current, parseRetryAfter(response.headers['retry-after']));
      return current;
    }
    throw new PermanentError(`${redactUrl(url)} redirected more than ${limit} times`);
  }

  /** A whole small body (playlist, key, API answer) with retries; refuses bodies over maxBytes. */
  async fetchBuffer(url: string, options: OpenOptions & RetryHooks & { maxBytes?: number } = {}): Promise<{ data: Buffer; url: string; headers: HttpResponse['headers'] }> {
    const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    return withRetry(
      async () => {
        // a trickling server resets every inactivity timer: a small document gets a deadline for the whole of it
        return this.withDeadline(url, options.signal, async (signal) => {
          const response = await this.open(url, { ...options, signal });
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of response.body) {
            size += chunk.length;
            if (size > maxBytes) {
              discardBody(response);
              throw new PermanentError(`${redactUrl(url)} sent more than ${maxBytes} bytes where a small document was expected`);
            }
            chunks.push(chunk as Buffer);
          }
          return { data: Buffer.concat(chunks), url: response.url, headers: response.headers };
        });
      },
      this.options.retry,
      options,
    );
  }

  /**
   * Runs one try at reading a small document under the document deadline: `work` gets a signal that
   * also aborts when the deadline passes, and a deadline that passed is thrown as a transient timeout.
   */
  async withDeadline<T>(url: string, outer: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadlineMs = this.options.documentTimeoutMs ?? DEFAULT_DOCUMENT_TIMEOUT_MS;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(documentTimedOut(url, deadlineMs)), deadlineMs);
    const signal = outer ? AbortSignal.any([outer, deadline.signal]) : deadline.signal;
    try {
      return await work(signal);
    } catch (error) {
      throw deadline.signal.aborted && !outer?.aborted ? deadline.signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
  }

  async fetchText(url: string, options: OpenOptions & RetryHooks & { maxBytes?: number } = {}): Promise<{ text: string; url: string; headers: HttpResponse['headers'] }> {
    const { data, url: finalUrl, headers } = await this.fetchBuffer(url, options);
    return { text: data.toString('utf8'), url: finalUrl, headers };
  }

  async close(): Promise<void> {
    await Promise.all([this.transport, ...this.retired].map((transport) => transport.close()));
  }

  private buildHeaders(options: OpenOptions): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? DEFAULT_USER_AGENT, accept: '*/*' };
    for (const [name, value] of options.headers ?? []) headers[name.toLowerCase()] = value;
    if (options.range) headers.range = `bytes=${options.range.start}-${options.range.end ?? ''}`;
    return headers;
  }
}

/** What a redirect to another origin must not carry, as browsers do: the task's credentials were meant for the first host. */
function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const { cookie: _cookie, authorization: _authorization, 'proxy-authorization': _proxy, ...rest } = headers;
  return rest;
}

/** Loopback never goes through the proxy, whatever NO_PROXY says. */
function withLoopback(noProxy: string | null | undefined): string {
  return [noProxy, 'localhost', '127.0.0.1', '[::1]'].filter(Boolean).join(',');
}

function parseRetryAfter(value: string | string[] | undefined): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** Reads a short answer (a redirect, an error page) to its end, so that its connection can serve the next request. */
function drain(body: Readable): void {
  body.on('error', () => undefined);
  body.resume();
}

/** Drops a response body nobody will read; the error undici emits for an unread aborted body is expected. */
export function discardBody(response: Pick<HttpResponse, 'body'> | null | undefined): void {
  if (!response) return;
  response.body.on('error', () => undefined);
  response.body.destroy();
}

export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
