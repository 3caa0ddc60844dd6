import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type IncomingHttpHeaders, type Server, createServer, request } from 'node:http';
import { type AddressInfo, type Socket, connect, createServer as createTcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AddressGuard, AddressNotAllowedError } from './address-guard.js';
import { GuardedProxy } from './guarded-proxy.js';

/** The guard under test refuses 127.0.0.2 (and, for names, whatever `refused` holds); the origins live on 127.0.0.1. */
const refused = new Set(['127.0.0.2']);
const guard = new AddressGuard((address) => (refused.has(address) ? 'a refused test address' : null));

/** A plain-HTTP GET through the proxy, in absolute form. */
function getThrough(proxy: URL, target: string, authorized = true): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  const headers: Record<string, string> = authorized ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` } : {};
  return new Promise((resolve, reject) => {
    request({ host: proxy.hostname, port: proxy.port, path: target, headers: { ...headers, 'x-asked': 'yes' } }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    })
      .on('error', reject)
      .end();
  });
}

/** A CONNECT through the proxy: the status line it answers, and the socket (tunnelled when 200). */
async function connectThrough(proxy: URL, target: string, authorized = true): Promise<{ statusLine: string; answer: string; socket: Socket }> {
  const socket = connect({ host: proxy.hostname, port: Number(proxy.port) });
  await once(socket, 'connect');
  const auth = authorized ? `proxy-authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n` : '';
  socket.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n${auth}\r\n`);
  let text = '';
  while (!text.includes('\r\n\r\n')) {
    const [chunk] = (await Promise.race([once(socket, 'data'), once(socket, 'end').then(() => [Buffer.from('\r\n\r\n')])])) as [Buffer];
    text += chunk.toString('latin1');
  }
  const [head, ...rest] = text.split('\r\n\r\n');
  if (!/ 200 /.test(head.split('\r\n')[0])) {
    // a refusal ends the connection: its whole text
    for await (const chunk of socket) rest.push((chunk as Buffer).toString('latin1'));
  }
  return { statusLine: head.split('\r\n')[0], answer: rest.join(''), socket };
}

describe('GuardedProxy', () => {
  let origin: Server;
  let originPort: number;
  let asked: Array<{ url: string; headers: IncomingHttpHeaders }>;
  let echo: ReturnType<typeof createTcpServer>;
  let echoPort: number;
  let refusedHits = 0;
  let refusedOrigin: Server;
  let refusedPort: number;

  before(async () => {
    asked = [];
    origin = createServer((req, res) => {
      asked.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': 'one' }).end(`hello from ${req.url}`);
    }).listen(0, '127.0.0.1');
    await once(origin, 'listening');
    originPort = (origin.address() as AddressInfo).port;
    echo = createTcpServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1');
    await once(echo, 'listening');
    echoPort = (echo.address() as AddressInfo).port;
    // the refused origin listens: a request that reached it would be counted
    refusedOrigin = createServer((_req, res) => {
      refusedHits += 1;
      res.end('reached');
    }).listen(0, '127.0.0.2');
    await once(refusedOrigin, 'listening');
    refusedPort = (refusedOrigin.address() as AddressInfo).port;
  });

  after(async () => {
    origin.close();
    echo.close();
    refusedOrigin.close();
  });

  it('relays a plain HTTP request to an allowed address, without the proxy credentials', async () => {
    const proxy = await GuardedProxy.start(guard, 10_000);
    try {
      const answer = await getThrough(new URL(proxy.url), `http://127.0.0.1:${originPort}/a/b?c=d`);
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'hello from /a/b?c=d');
      assert.equal(answer.headers['x-origin'], 'one');
      const seen = asked.at(-1)!;
      assert.equal(seen.url, '/a/b?c=d');
      assert.equal(seen.headers['x-asked'], 'yes');
      assert.equal(seen.headers['proxy-authorization'], undefined, 'the credentials stay with the proxy');
      assert.equal(proxy.refusal, null);
    } finally {
      await proxy.close();
    }
  });

  it('tunnels CONNECT to an allowed address, bytes both ways', async () => {
    const proxy = await GuardedProxy.start(guard, 10_000);
    try {
      const { statusLine, socket } = await connectThrough(new URL(proxy.url), `127.0.0.1:${echoPort}`);
      assert.match(statusLine, /^HTTP\/1\.1 200/);
      socket.write('ping');
      const [echoed] = (await once(socket, 'data')) as [Buffer];
      assert.equal(echoed.toString(), 'ping');
      socket.destroy();
    } finally {
      await proxy.close();
    }
  });

  it('asks for its password: 407 without it, for requests and tunnels alike', async () => {
    const proxy = await GuardedProxy.start(guard, 10_000);
    try {
      const before = asked.length;
      const answer = await getThrough(new URL(proxy.url), `http://127.0.0.1:${originPort}/`, false);
      assert.equal(answer.status, 407);
      assert.match(String(answer.headers['proxy-authenticate']), /^Basic/);
      const tunnel = await connectThrough(new URL(proxy.url), `127.0.0.1:${echoPort}`, false);
      assert.match(tunnel.statusLine, /^HTTP\/1\.1 407/);
      const wrong = new URL(proxy.url);
      wrong.password = 'not-the-password';
      assert.equal((await getThrough(wrong, `http://127.0.0.1:${originPort}/`)).status, 407);
      assert.equal(asked.length, before, 'nothing reached the origin');
    } finally {
      await proxy.close();
    }
  });

  it('refuses a refused address, as an IP literal or behind a name, and remembers the first refusal', async () => {
    const proxy = await GuardedProxy.start(guard, 10_000);
    try {
      const literal = await getThrough(new URL(proxy.url), `http://127.0.0.2:${refusedPort}/secret`);
      assert.equal(literal.status, 403);
      assert.match(literal.body, /127\.0\.0\.2 is a refused test address/);
      assert.ok(proxy.refusal instanceof AddressNotAllowedError);
      const first = proxy.refusal;

      const tunnel = await connectThrough(new URL(proxy.url), `127.0.0.2:${refusedPort}`);
      assert.match(tunnel.statusLine, /^HTTP\/1\.1 403/);
      assert.match(tunnel.answer, /127\.0\.0\.2 is a refused test address/);

      // a name is checked at the moment of connecting, on every address it resolves to
      refused.add('127.0.0.1').add('::1');
      try {
        const named = await getThrough(new URL(proxy.url), `http://localhost:${originPort}/`);
        assert.equal(named.status, 403);
        assert.match(named.body, /localhost \(which resolves to (127\.0\.0\.1|::1)\) is a refused test address/);
        const namedTunnel = await connectThrough(new URL(proxy.url), `localhost:${echoPort}`);
        assert.match(namedTunnel.statusLine, /^HTTP\/1\.1 403/);
      } finally {
        refused.delete('127.0.0.1');
        refused.delete('::1');
      }
      assert.equal(proxy.refusal, first, 'the first refusal is the one kept');
      assert.equal(refusedHits, 0, 'the refused origin was never reached');
    } finally {
      await proxy.close();
    }
  });

  it('answers 502 when the origin cannot be reached, and ends open tunnels when closed', async () => {
    const proxy = await GuardedProxy.start(guard, 10_000);
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createTcpServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const unreachable = await getThrough(new URL(proxy.url), `http://127.0.0.1:${closedPort}/`);
    assert.equal(unreachable.status, 502);
    assert.equal(proxy.refusal, null, 'a connection error is not a refusal');

    const { statusLine, socket } = await connectThrough(new URL(proxy.url), `127.0.0.1:${echoPort}`);
    assert.match(statusLine, /^HTTP\/1\.1 200/);
    const ended = once(socket, 'close');
    await proxy.close();
    await ended;
  });
});
