import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import { type Socket, connect, isIP } from 'node:net';
import { type AddressGuard, AddressNotAllowedError } from './address-guard.js';

/** Headers that belong to the hop between the client and this proxy, not to the request it forwards. */
const HOP_BY_HOP = new Set(['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const USER = 'mediago';

/**
 * A forward proxy on loopback for a child process that makes its own connections (yt-dlp, and the ffmpeg it
 * starts): every connection it opens goes through the AddressGuard's lookup, so a redirect or a page that leads
 * to a loopback, private or link-local address is refused, as the service's own HTTP client refuses it.
 * Only the process given `url` (which carries a random password) can use it. Written here because what it adds is
 * the guard at the moment of connecting (DNS rebinding included); the relaying itself is node:http and node:net.
 */
export class GuardedProxy {
  /** The first connection the guard refused: the task's error, clearer than the tool's own "403". */
  refusal: AddressNotAllowedError | null = null;

  private readonly sockets = new Set<Socket>();
  private readonly expected: Buffer;

  private constructor(
    private readonly server: Server,
    private readonly guard: AddressGuard,
    private readonly password: string,
    private readonly idleTimeoutMs: number,
  ) {
    this.expected = Buffer.from(`Basic ${Buffer.from(`${USER}:${password}`).toString('base64')}`);
    server.on('connection', (socket: Socket) => this.track(socket));
    server.on('request', (request: IncomingMessage, response: ServerResponse) => this.forward(request, response));
    server.on('connect', (request: IncomingMessage, socket: Socket, head: Buffer) => this.tunnel(request, socket, head));
  }

  /** A proxy listening on 127.0.0.1 at a port of its own; `idleTimeoutMs`: a connection silent this long is closed. */
  static async start(guard: AddressGuard, idleTimeoutMs: number): Promise<GuardedProxy> {
    const server = createServer();
    const proxy = new GuardedProxy(server, guard, randomBytes(18).toString('base64url'), idleTimeoutMs);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** The proxy URL to give the child process, credentials included. */
  get url(): string {
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('the guarded proxy is not listening');
    return `http://${USER}:${this.password}@127.0.0.1:${address.port}`;
  }

  /** Stops listening and ends every connection still open. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setTimeout(this.idleTimeoutMs, () => socket.destroy());
  }

  private authorized(request: IncomingMessage): boolean {
    const offered = Buffer.from(request.headers['proxy-authorization'] ?? '');
    return offered.length === this.expected.length && timingSafeEqual(offered, this.expected);
  }

  /** A plain-HTTP request in absolute form (GET http://host/path): sent on by the guard's lookup, the answer relayed. */
  private forward(request: IncomingMessage, response: ServerResponse): void {
    if (!this.authorized(request)) {
      response.writeHead(407, { 'proxy-authenticate': `Basic realm="${USER}"`, connection: 'close' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(request.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      response.writeHead(400, { connection: 'close' }).end('this proxy forwards absolute http:// requests and CONNECT tunnels only');
      return;
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const refused = this.refusedLiteral(host);
    if (refused) return this.fail(refused, response);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    const outgoing = httpRequest({ hostname: host, port: target.port || 80, path: `${target.pathname}${target.search}`, method: request.method, headers, lookup: this.guard.lookup, agent: false });
    outgoing.on('response', (answer) => {
      const relayed: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) relayed[name] = value;
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, relayed);
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    });
    outgoing.on('error', (error) => this.fail(error, response));
    response.on('close', () => outgoing.destroy());
    request.pipe(outgoing);
  }

  /** CONNECT host:port (HTTPS): a TCP connection through the guard's lookup, then bytes both ways. */
  private tunnel(request: IncomingMessage, client: Socket, head: Buffer): void {
    const refuse = (status: string, text = '') => {
      client.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${status.startsWith('407') ? `proxy-authenticate: Basic realm="${USER}"\r\n` : ''}\r\n${text}`);
    };
    if (!this.authorized(request)) return refuse('407 Proxy Authentication Required');
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(request.url ?? '');
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65_535) return refuse('400 Bad Request', 'CONNECT needs host:port');
    const host = match[1] ?? match[2];
    const refused = this.refusedLiteral(host);
    if (refused) {
      this.remember(refused);
      return refuse('403 Forbidden', refused.message);
    }
    const upstream = connect({ host, port, lookup: this.guard.lookup });
    this.track(upstream);
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      if (!connected) {
        this.remember(error);
        return refuse(error instanceof AddressNotAllowedError ? '403 Forbidden' : '502 Bad Gateway', error.message);
      }
      client.destroy();
    });
    // before it connected, the refusal above is still being written to the client
    upstream.on('close', () => connected && client.destroy());
  }

  /** An IP literal is connected to without a lookup, so it is checked here: the refusal, or null (a name, or an allowed address). */
  private refusedLiteral(host: string): AddressNotAllowedError | null {
    if (!isIP(host)) return null;
    try {
      this.guard.check(host, host);
      return null;
    } catch (error) {
      if (error instanceof AddressNotAllowedError) return error;
      throw error;
    }
  }

  private fail(error: Error, response: ServerResponse): void {
    this.remember(error);
    if (response.headersSent) return void response.destroy();
    const status = error instanceof AddressNotAllowedError ? 403 : 502;
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(error.message);
  }

  private remember(error: unknown): void {
    if (error instanceof AddressNotAllowedError) this.refusal ??= error;
  }
}
