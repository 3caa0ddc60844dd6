import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { EnvHttpProxyAgent } from 'undici';
import { isHopByHopHeader } from '../common/header-lines.js';
import type { AddressGuard } from './address-guard.js';
import { PermanentError, redactUrl } from './http-error.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface SendInit {
  method: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** The whole response head must have arrived within this long, however slowly it trickles. */
  headTimeoutMs?: number;
}

/** Interim answers (103 Early Hints, 100 Continue) tolerated before the real one; past this the server is flooding. */
const MAX_INTERIM_ANSWERS = 8;

/** One HTTP exchange, no redirects followed: the client above handles those. */
export interface HttpTransport {
  send(url: string, init: SendInit): Promise<RawResponse>;
  close(): Promise<void>;
}

/** The last guard: whatever reaches the wire, framing and connection headers are the transport's own. */
function sendable(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !isHopByHopHeader(name)));
}

/** A timeout error the retry logic treats as transient. */
function stalled(ms: number): Error {
  return Object.assign(new Error(`no data for ${ms} ms`), { code: 'ETIMEDOUT' });
}

function headTimedOut(ms: number): Error {
  return Object.assign(new Error(`no complete answer head within ${ms} ms`), { code: 'ETIMEDOUT' });
}

/** A download can use no protocol switch and no stream of interim answers: the server is not serving media. */
function unexpectedInterim(url: string, status: number, count: number): Error {
  const what = status === 101 ? 'answered 101 Switching Protocols' : `sent ${count} interim ${status} answers`;
  return new PermanentError(`${redactUrl(url)} ${what} instead of the media`);
}

/**
 * Node's own http/https over keep-alive agents. Its parser copes with a server that closes the
 * connection while the reader is paused by backpressure, which undici 6 and 7 turn into an
 * uncatchable assertion (nodejs/undici#5360) that would take the whole service down.
 */
export class NodeHttpTransport implements HttpTransport {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  /** guard: checks every address a connection is made to (null: ALLOW_PRIVATE_ADDRESSES=true). */
  constructor(
    private readonly stallTimeoutMs: number,
    private readonly guard: AddressGuard | null = null,
  ) {
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: 10_000,
      maxSockets: Infinity,
      maxFreeSockets: 256,
      scheduling: 'lifo' as const,
      ...(guard ? { lookup: guard.lookup } : {}),
    };
    this.httpAgent = new HttpAgent(agentOptions);
    this.httpsAgent = new HttpsAgent(agentOptions);
  }

  send(url: string, init: SendInit): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      this.guard?.checkLiteralHost(url);
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const request = (secure ? httpsRequest : httpRequest)(target, {
        method: init.method,
        headers: sendable(init.headers),
        agent: secure ? this.httpsAgent : this.httpAgent,
        signal: init.signal,
        // socket inactivity, from connecting to the last body byte: a stalled exchange is cut and retried
        timeout: this.stallTimeoutMs,
      });
      request.on('timeout', () => request.destroy(stalled(this.stallTimeoutMs)));
      // the inactivity timeout above is reset by every trickled header byte: the head gets a deadline of its own
      const headDeadline = init.headTimeoutMs ? setTimeout(() => request.destroy(headTimedOut(init.headTimeoutMs!)), init.headTimeoutMs) : null;
      const settle = () => headDeadline && clearTimeout(headDeadline);
      let interim = 0;
      request.on('information', (info) => {
        if (++interim > MAX_INTERIM_ANSWERS) request.destroy(unexpectedInterim(url, info.statusCode, interim));
      });
      // without this listener Node closes the socket on a 101 and the request never settles
      request.on('upgrade', (response, socket) => {
        socket.destroy();
        settle();
        reject(unexpectedInterim(url, response.statusCode ?? 101, 1));
      });
      // errors after the answer reach its body; this listener keeps a late one from going uncaught
      request.on('error', (error) => {
        settle();
        reject(error);
      });
      request.once('response', (response) => {
        settle();
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response });
      });
      // a close with no answer and no error (a refused upgrade, say) must still end the wait
      request.once('close', () => {
        settle();
        reject(Object.assign(new Error('the connection closed before an answer'), { code: 'ECONNRESET' }));
      });
      request.end();
    });
  }

  async close(): Promise<void> {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * Requests through an HTTP(S) proxy, with NO_PROXY honoured; undici does the CONNECT tunnelling.
 * undici is loaded only here, when a proxy is set: it is some 5 MiB of heap that a service without
 * a proxy would carry for nothing.
 */
export class ProxyHttpTransport implements HttpTransport {
  private readonly undici: Promise<{ dispatcher: EnvHttpProxyAgent; request: typeof import('undici').request }>;

  /** guard: names are resolved and checked here before the request goes to the proxy. */
  constructor(
    proxy: string,
    noProxy: string,
    stallTimeoutMs: number,
    private readonly guard: AddressGuard | null = null,
  ) {
    this.undici = import('undici').then(({ EnvHttpProxyAgent, request }) => ({
      dispatcher: new EnvHttpProxyAgent({
        httpProxy: proxy,
        httpsProxy: proxy,
        noProxy,
        headersTimeout: stallTimeoutMs,
        bodyTimeout: stallTimeoutMs,
        connect: { timeout: stallTimeoutMs },
      }),
      request,
    }));
  }

  async send(url: string, init: SendInit): Promise<RawResponse> {
    await this.guard?.checkUrl(url);
    const { dispatcher, request } = await this.undici;
    const response = await request(url, {
      method: init.method as 'GET',
      headers: sendable(init.headers),
      signal: init.signal,
      dispatcher,
      ...(init.headTimeoutMs ? { headersTimeout: init.headTimeoutMs } : {}),
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  async close(): Promise<void> {
    await (await this.undici).dispatcher.close();
  }
}
