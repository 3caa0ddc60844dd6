import type { HeaderPairs, HttpClient, HttpResponse } from '../../engine/http-client.js';
import { headerValue } from '../../engine/http-client.js';
import { HttpError, redactUrl } from '../../engine/http-error.js';
import { totalFromContentRange } from '../../engine/ranged-download.js';
import { withRetry } from '../../engine/retry.js';
import { type ProbeDecision, decideMediaKind } from './media-probe.js';

export interface UrlProbe {
  decision: ProbeDecision;
  /** The URL that answered, after redirects: a manifest's relative references resolve against it. */
  url: string;
  contentType: string | null;
  /** The whole body when it fit in the probe (small manifests), so that it is not fetched twice. */
  whole: Buffer | null;
}

export interface ProbeOptions {
  headers: HeaderPairs;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** Enough bytes for any signature or manifest root, little enough that a large file costs nothing. */
export const PROBE_BYTES = 4096;
const MANIFEST_MAX_BYTES = 8 * 1024 * 1024;

/**
 * One ranged GET of the first bytes, then a decision. A server that ignores the range sends the
 * whole body: only the head is read then, unless it is a manifest, which is read to the end.
 */
export async function probeUrl(http: HttpClient, url: string, options: ProbeOptions): Promise<UrlProbe> {
  return withRetry(
    // the manifest read to its end is a small document: it gets the document deadline, however it trickles
    () => http.withDeadline(url, options.signal, async (signal) => {
      const response = await openHead(http, url, { ...options, signal });
      try {
        const body = (response.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        const { head, ended } = await readUpTo(body, PROBE_BYTES);
        const contentType = headerValue(response.headers, 'content-type') ?? null;
        const decision = decideMediaKind({ contentType, url: response.url, head });
        const total = response.status === 206 ? totalFromContentRange(headerValue(response.headers, 'content-range')) : null;
        let whole: Buffer | null = null;
        if (response.status === 206 ? total !== null && total <= head.length : ended) whole = head;
        else if (response.status === 200 && (decision.kind === 'hls' || decision.kind === 'dash')) {
          const rest = await readUpTo(body, MANIFEST_MAX_BYTES);
          if (rest.ended) whole = Buffer.concat([head, rest.head]);
        }
        return { decision, url: response.url, contentType, whole };
      } finally {
        response.body.destroy();
      }
    }),
    http.retryPolicy,
    {
      signal: options.signal,
      onRetry: (_attempt, error, delay) => options.log(`probing ${redactUrl(url)}: ${(error as Error).message}; retrying in ${delay} ms`),
    },
  );
}

async function openHead(http: HttpClient, url: string, options: ProbeOptions): Promise<HttpResponse> {
  try {
    return await http.open(url, { headers: options.headers, signal: options.signal, range: { start: 0, end: PROBE_BYTES - 1 } });
  } catch (error) {
    // an empty resource cannot satisfy any range: ask for it whole
    if (error instanceof HttpError && error.status === 416) return http.open(url, { headers: options.headers, signal: options.signal });
    throw error;
  }
}

/** Reads whole chunks until at least `limit` bytes (or the end); `ended` tells whether the body finished. */
async function readUpTo(body: AsyncIterator<Buffer>, limit: number): Promise<{ head: Buffer; ended: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < limit) {
    const next = await body.next();
    if (next.done) return { head: Buffer.concat(chunks), ended: true };
    chunks.push(next.value);
    size += next.value.length;
  }
  return { head: Buffer.concat(chunks), ended: false };
}
