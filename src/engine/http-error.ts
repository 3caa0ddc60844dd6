/** An HTTP answer that was not a success; the message says what was asked and what came back. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(`${redactUrl(url)} answered HTTP ${status}`);
    this.name = 'HttpError';
  }
}

/** A failure no retry can mend (bad content, unsupported format); fails the task at once. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

const TRANSIENT_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/** True for failures that a later attempt may not see: resets, timeouts, 5xx, 429. */
export function isTransient(error: unknown): boolean {
  if (error instanceof HttpError) return error.status >= 500 || TRANSIENT_STATUSES.has(error.status);
  if (error instanceof PermanentError) return false;
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: string }).code;
    if (code && TRANSIENT_CODES.has(code)) return true;
    if (current instanceof Error && /socket hang up|other side closed|terminated/i.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Drops query strings and credentials from a URL before it goes into a message or log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url.slice(0, 200);
  }
}

/**
 * A URL as a request is named to a user: scheme, host, path and the names of its query parameters, their
 * values (tokens, signatures, expiry stamps) replaced by "…", credentials dropped. Tells which request failed
 * and that it carried a token, without the token.
 */
export function redactUrlKeepingParameterNames(url: string): string {
  try {
    const parsed = new URL(url);
    const names = [...new Set([...parsed.searchParams.keys()])].slice(0, 12);
    const query = names.length > 0 ? `?${names.map((name) => `${encodeURIComponent(name).slice(0, 40)}=…`).join('&')}` : '';
    return `${redactUrl(url)}${query}`;
  } catch {
    return redactUrl(url);
  }
}

/** Every http(s) URL in a text with its query string and credentials dropped (they often carry tokens). */
export function redactUrlsIn(text: string): string {
  return text.replace(/https?:\/\/[^\s'"<>]+/g, (url) => {
    const trailing = /[.,;)]+$/.exec(url)?.[0] ?? '';
    return redactUrl(url.slice(0, url.length - trailing.length)) + trailing;
  });
}

/** A short sentence for a failure, without stack or internals. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = code && !error.message.includes(code) ? ` (${code})` : '';
    const causeText = cause?.code && !error.message.includes(cause.code) ? ` (${cause.code})` : '';
    return `${error.message}${detail}${causeText}`;
  }
  return String(error);
}
