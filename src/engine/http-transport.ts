import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { EnvHttpProxyAgent, request as undiciRequest } from 'undici';
import { isHopByHopHeader } from '../common/header-lines.js';
import type { AddressGuard } from './address-guard.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface SendInit {
  method: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

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
      // errors after the answer reach its body; this listener keeps a late one from going uncaught
      request.on('error', reject);
      request.once('response', (response) => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response }));
      request.end();
    });
  }

  async close(): Promise<void> {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** Requests through an HTTP(S) proxy, with NO_PROXY honoured; undici does the CONNECT tunnelling. */
export class ProxyHttpTransport implements HttpTransport {
  private readonly dispatcher: EnvHttpProxyAgent;

  /** guard: names are resolved and checked here before the request goes to the proxy. */
  constructor(
    proxy: string,
    noProxy: string,
    stallTimeoutMs: number,
    private readonly guard: AddressGuard | null = null,
  ) {
    this.dispatcher = new EnvHttpProxyAgent({
      httpProxy: proxy,
      httpsProxy: proxy,
      noProxy,
      headersTimeout: stallTimeoutMs,
      bodyTimeout: stallTimeoutMs,
      connect: { timeout: stallTimeoutMs },
    });
  }

  async send(url: string, init: SendInit): Promise<RawResponse> {
    await this.guard?.checkUrl(url);
    const response = await undiciRequest(url, { method: init.method as 'GET', headers: sendable(init.headers), signal: init.signal, dispatcher: this.dispatcher });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
