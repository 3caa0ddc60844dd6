import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { type IncomingHttpHeaders, createServer as createHttpServer, request as httpRequest } from 'node:http';
import { type AddressInfo, type Server, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from './fixtures/origin-server.js';
import { makeSampleVideo } from './fixtures/sample-media.js';
import { type TestApp, startTestApp, waitForStatus } from './helpers/app-harness.js';
import { bootAndExit } from './helpers/service-process.js';
import { SseRecorder } from './helpers/sse-client.js';

const KEY = 'a-long-enough-key';

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** A request with headers fetch() will not let us set (Host, Origin), over node's own client. */
function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}${path}`, { method, headers, timeout: 10_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${path} got no answer within 10 s`)));
    request.on('error', reject);
    request.end();
  });
}

const hostOf = (baseUrl: string) => new URL(baseUrl).host;
const portOf = (baseUrl: string) => new URL(baseUrl).port;

async function createTask(test: TestApp, task: Record<string, unknown>, startDownload = true): Promise<number> {
  const answer = await test.api('POST', '/api/downloads', { tasks: [task], startDownload });
  assert.equal(answer.status, 200, answer.text);
  return answer.body.data[0].id;
}

async function logOf(test: TestApp, id: number): Promise<string> {
  return (await test.api('GET', `/api/downloads/${id}/logs`)).body.data.log;
}

describe('security: who may drive the API', () => {
  let open: TestApp;

  before(async () => {
    open = await startTestApp();
  });

  after(async () => {
    await open.close();
  });

  describe('CORS and cross-site requests (no CORS_ORIGINS)', () => {
    it('gives a preflight from a web page no CORS permission', async () => {
      const answer = await rawRequest(open.baseUrl, 'OPTIONS', '/api/downloads', {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      });
      assert.equal(answer.headers['access-control-allow-origin'], undefined);
    });

    it('refuses a simple cross-site request outright, which CORS alone would let through', async () => {
      const id = await createTask(open, { type: 'direct', url: 'http://127.0.0.1:9/never.bin' }, false);
      for (const [method, path] of [
        ['GET', '/api/downloads'],
        ['POST', `/api/downloads/${id}/start`],
      ]) {
        const answer = await rawRequest(open.baseUrl, method, path, { origin: 'https://evil.example' });
        assert.equal(answer.status, 403, `${method} ${path}`);
        assert.equal(answer.body.errorCode, 'origin_not_allowed');
        assert.match(answer.body.message, /"https:\/\/evil\.example" are refused: list it in CORS_ORIGINS/);
        assert.equal(answer.headers['access-control-allow-origin'], undefined);
      }
      assert.equal((await open.api('GET', `/api/downloads/${id}`)).body.data.status, 'waiting', 'the refused start changed nothing');
      assert.equal((await open.api('GET', `/api/downloads/${id}`)).body.data.queuedAt ?? null, null);
    });

    it('serves the same origin (the dashboard), a browser extension and clients without an Origin', async () => {
      for (const origin of [open.baseUrl, 'chrome-extension://abcdefghijklmnop', 'moz-extension://1234-5678']) {
        const answer = await rawRequest(open.baseUrl, 'GET', '/api/downloads', { origin });
        assert.equal(answer.status, 200, origin);
      }
      assert.equal((await rawRequest(open.baseUrl, 'GET', '/api/downloads', {})).status, 200);
    });
  });

  describe('CORS with CORS_ORIGINS', () => {
    let listed: TestApp;

    before(async () => {
      listed = await startTestApp({ CORS_ORIGINS: 'https://app.example' });
    });

    after(async () => {
      await listed.close();
    });

    it('answers the listed origin with its methods and headers, and only it', async () => {
      const preflight = await rawRequest(listed.baseUrl, 'OPTIONS', '/api/downloads', {
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type,x-api-key',
      });
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
      assert.match(String(preflight.headers['access-control-allow-methods']), /GET, ?POST, ?PUT, ?DELETE, ?OPTIONS/);
      assert.match(String(preflight.headers['access-control-allow-headers']), /Content-Type, ?Authorization, ?X-API-Key/);
      const allowed = await rawRequest(listed.baseUrl, 'GET', '/api/downloads', { origin: 'https://app.example' });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example');
      const other = await rawRequest(listed.baseUrl, 'GET', '/api/downloads', { origin: 'https://other.example' });
      assert.equal(other.status, 403);
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    });
  });

  describe('Host check (DNS rebinding)', () => {
    it('answers 421 with the envelope to a Host the service does not go by, /healthy included', async () => {
      for (const path of ['/api/downloads', '/healthy', '/api/no-such-route']) {
        const answer = await rawRequest(open.baseUrl, 'GET', path, { host: `rebound.evil.example:${portOf(open.baseUrl)}` });
        assert.equal(answer.status, 421, path);
        assert.deepEqual(
          { success: answer.body.success, code: answer.body.code, data: answer.body.data, errorCode: answer.body.errorCode },
          { success: false, code: 421, data: null, errorCode: 'host_not_allowed' },
        );
        assert.match(answer.body.message, /does not answer to the host name "rebound\.evil\.example".*ALLOWED_HOSTS/);
      }
    });

    it('answers loopback names and addresses, with or without a port', async () => {
      for (const host of [hostOf(open.baseUrl), `localhost:${portOf(open.baseUrl)}`, 'localhost', '127.0.0.1', `[::1]:${portOf(open.baseUrl)}`, 'app.localhost']) {
        assert.equal((await rawRequest(open.baseUrl, 'GET', '/healthy', { host })).status, 200, host);
        assert.equal((await rawRequest(open.baseUrl, 'GET', '/api/downloads', { host })).status, 200, host);
      }
    });

    it('with an API key, checks Host only when ALLOWED_HOSTS is set', async () => {
      const keyed = await startTestApp({ API_KEY: KEY });
      const named = await startTestApp({ API_KEY: KEY, ALLOWED_HOSTS: 'media.lan,.home.arpa' });
      try {
        const auth = { authorization: `Bearer ${KEY}` };
        assert.equal((await rawRequest(keyed.baseUrl, 'GET', '/api/downloads', { ...auth, host: 'nas.local:9900' })).status, 200);
        assert.equal((await rawRequest(named.baseUrl, 'GET', '/api/downloads', { ...auth, host: 'media.lan:9900' })).status, 200);
        assert.equal((await rawRequest(named.baseUrl, 'GET', '/api/downloads', { ...auth, host: 'box.home.arpa' })).status, 200);
        assert.equal((await rawRequest(named.baseUrl, 'GET', '/api/downloads', { ...auth, host: 'nas.local:9900' })).status, 421);
      } finally {
        await keyed.close();
        await named.close();
      }
    });
  });

  describe('binding', () => {
    it('refuses to start on a non-loopback address without API_KEY, saying how to proceed', async () => {
      const root = await mkdtemp(join(tmpdir(), 'mediago-bind-'));
      try {
        const { code, output } = await bootAndExit({ HOST: '0.0.0.0', PORT: '9', DATA_DIR: join(root, 'data'), DOWNLOAD_DIR: join(root, 'downloads') });
        assert.equal(code, 2, output);
        assert.match(output, /HOST is 0\.0\.0\.0.*no API_KEY is set.*Set API_KEY.*ALLOW_NO_AUTH=true/);
        assert.doesNotMatch(output, /Listening/);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });
});

/** A keep-alive origin that frames requests by their own Content-Length, as servers do, and records each one raw. */
class RawRecordingOrigin {
  readonly requests: Array<{ head: string; body: string }> = [];
  private readonly server: Server;
  baseUrl = '';

  constructor(private readonly payload: Buffer) {
    this.server = createNetServer((socket) => {
      let buffer = Buffer.alloc(0);
      let bodyLeft = 0;
      let current: { head: string; body: string } | null = null;
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          if (current && bodyLeft > 0) {
            const taken = buffer.subarray(0, bodyLeft);
            current.body += taken.toString('latin1');
            bodyLeft -= taken.length;
            buffer = buffer.subarray(taken.length);
            if (bodyLeft > 0) return;
            current = null;
            continue;
          }
          const end = buffer.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = buffer.subarray(0, end).toString('latin1');
          buffer = buffer.subarray(end + 4);
          const request = { head, body: '' };
          this.requests.push(request);
          bodyLeft = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
          if (bodyLeft > 0) current = request;
          // answered at once, as a server does once it has the head
          const isHead = head.startsWith('HEAD ');
          socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${this.payload.length}\r\nConnection: keep-alive\r\n\r\n`);
          if (!isHead) socket.write(this.payload);
        }
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('security: what a task sends', () => {
  let test: TestApp;
  const origin = new OriginServer();

  before(async () => {
    origin.route('/file.bin', { body: Buffer.alloc(4096, 7) });
    await origin.start();
    test = await startTestApp({ STALL_TIMEOUT_MS: '3000', RETRY_ATTEMPTS: '2' });
  });

  after(async () => {
    await test.close();
    await origin.stop();
  });

  it('refuses header values that can never be sent, at create and at edit, naming the header', async () => {
    const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/file.bin'), headers: 'X-Vertical: a\u000bb' }] });
    assert.equal(created.status, 400);
    assert.equal((created.body as { errorCode?: string }).errorCode, 'validation_failed');
    assert.match(created.body.message, /"X-Vertical" contains a control character \(U\+000B\)/);
    const id = await createTask(test, { type: 'direct', url: origin.url('/file.bin') }, false);
    const edited = await test.api('PUT', `/api/downloads/${id}`, { headers: { Referer: 'https://site.example/€' } });
    assert.equal(edited.status, 400);
    assert.equal((edited.body as { errorCode?: string }).errorCode, 'validation_failed');
    assert.match(edited.body.message, /"Referer" contains a character HTTP headers cannot carry .*\(U\+20AC\)/);
  });

  it('drops hop-by-hop and framing headers with a line in the task log, and sends the rest', async () => {
    const headers = 'Host: evil.example\nContent-Length: 200\nTransfer-Encoding: chunked\nConnection: close\nExpect: 100-continue\nProxy-Authorization: Basic eA==\nReferer: https://site.example/';
    const created = await test.api('POST', '/api/downloads', { tasks: [{ type: 'direct', url: origin.url('/file.bin'), headers }], startDownload: true });
    assert.equal(created.status, 200, 'imports from browser extensions carry such headers: never a 400');
    const id = created.body.data[0].id;
    await waitForStatus(test, id, ['success']);
    const seen = origin.requests.filter((request) => request.path === '/file.bin');
    assert.ok(seen.length > 0);
    for (const request of seen) {
      assert.equal(request.headers.referer, 'https://site.example/');
      assert.equal(request.headers['content-length'], undefined);
      assert.equal(request.headers['transfer-encoding'], undefined);
      assert.equal(request.headers.expect, undefined);
      assert.equal(request.headers['proxy-authorization'], undefined);
      assert.equal(request.headers.host, hostOf(origin.baseUrl));
    }
    assert.match(await logOf(test, id), /headers not sent: Host, Content-Length, Transfer-Encoding, Connection, Expect, Proxy-Authorization/);
  });

  it('a task with "Content-Length: 200" cannot capture the next task\'s request on a shared keep-alive connection', async () => {
    const raw = new RawRecordingOrigin(Buffer.alloc(2048, 1));
    await raw.start();
    try {
      const first = await createTask(test, { type: 'direct', url: `${raw.baseUrl}/a.bin`, headers: 'Content-Length: 200\nX-Task: A' });
      await waitForStatus(test, first, ['success', 'failed']);
      const second = await createTask(test, { type: 'direct', url: `${raw.baseUrl}/b.bin`, headers: 'Cookie: secret-of-b=1\nX-Task: B' });
      const ended = await waitForStatus(test, second, ['success', 'failed'], 20_000);
      assert.equal(ended.status, 'success', ended.error);
      assert.ok(raw.requests.some((request) => request.head.startsWith('GET /b.bin ') && request.head.includes('secret-of-b=1')), 'B reached the origin as a request of its own');
      for (const request of raw.requests) {
        assert.equal(request.body, '', `no request carried another one as its body: ${request.head.split('\r\n')[0]}`);
        assert.doesNotMatch(request.head, /^content-length:/im);
      }
    } finally {
      await raw.stop();
    }
  });
});

/** An origin on another loopback address (127.0.0.2): where a redirect leads, recording what arrives. */
async function startSecondOrigin(file: string): Promise<{ url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const { size } = await stat(file);
  const server = createHttpServer((request, response) => {
    seen.push(request.headers);
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': size });
    if (request.method === 'HEAD') return void response.end();
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return {
    url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('security: yt-dlp gets cookies for the task host only', () => {
  let root: string;
  let test: TestApp;
  let elsewhere: Awaited<ReturnType<typeof startSecondOrigin>>;
  const origin = new OriginServer();
  let cookieFileModes: string[] = [];
  let taskId = 0;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mediago-ytdlp-cookies-'));
    const clip = await makeSampleVideo(join(root, 'clip.mp4'), 1);
    elsewhere = await startSecondOrigin(clip);
    test = await startTestApp({ RETRY_ATTEMPTS: '1' });
    origin.route('/page', {
      handler: async (_request, response) => {
        // while yt-dlp runs: the cookies file in the task's working directory, and its mode
        const file = join(test.config.downloadDir, `.mediago-task-${taskId}`, '.ytdlp-cookies.txt');
        cookieFileModes.push(await stat(file).then((info) => (info.mode & 0o777).toString(8), () => 'missing'));
        response.writeHead(302, { location: `${elsewhere.url}/clip.mp4` }).end();
      },
    });
    await origin.start();
  });

  after(async () => {
    await test.close();
    await origin.stop();
    await elsewhere.close();
    await rm(root, { recursive: true, force: true });
  });

  it('sends Cookie to the task host, neither Cookie nor Authorization to the host it redirects to', async () => {
    cookieFileModes = [];
    taskId = await createTask(test, { type: 'youtube', url: origin.url('/page'), headers: 'Cookie: session=s3cr3t; theme=dark\nAuthorization: Bearer t0ken\nReferer: https://site.example/' }, false);
    await test.api('POST', `/api/downloads/${taskId}/start`);
    const task = await waitForStatus(test, taskId, ['success', 'failed'], 90_000);
    assert.equal(task.status, 'success', task.error);

    const atTaskHost = origin.requests.filter((request) => request.path === '/page');
    assert.ok(atTaskHost.length > 0);
    for (const request of atTaskHost) {
      assert.match(String(request.headers.cookie), /session=s3cr3t/);
      assert.match(String(request.headers.cookie), /theme=dark/);
      assert.equal(request.headers.authorization, undefined, 'yt-dlp cannot keep Authorization to one host, so it never gets it');
    }
    assert.ok(elsewhere.seen.length > 0, 'the redirect was followed');
    for (const headers of elsewhere.seen) {
      assert.equal(headers.cookie, undefined);
      assert.equal(headers.authorization, undefined);
      assert.equal(headers.referer, 'https://site.example/');
    }
    assert.ok(cookieFileModes.length > 0 && cookieFileModes.every((mode) => mode === '600'), `cookies file modes during the run: ${cookieFileModes.join(', ')}`);
    await assert.rejects(stat(join(test.config.downloadDir, `.mediago-task-${taskId}`, '.ytdlp-cookies.txt')), { code: 'ENOENT' });
    const log = await logOf(test, taskId);
    assert.match(log, /Authorization not passed to yt-dlp/);
    assert.doesNotMatch(log, /s3cr3t|t0ken/);
  });

  it('/healthy flags the installed yt-dlp if it predates the CVE-2023-35934 fix', async () => {
    const health = await test.api('GET', '/healthy');
    const ytdlp = health.body.data.tools.ytdlp;
    assert.equal(ytdlp.found, true);
    const [year, month, day] = String(ytdlp.version).split('.').map(Number);
    const old = year * 10_000 + month * 100 + day < 20230706;
    assert.equal(ytdlp.outdated === true, old, `version ${ytdlp.version}`);
    if (old) assert.match(ytdlp.warning, /CVE-2023-35934/);
  });
});

describe('security: the address guard (ALLOW_PRIVATE_ADDRESSES=false)', () => {
  let test: TestApp;
  const events = new SseRecorder();
  const origin = new OriginServer();

  before(async () => {
    origin.route('/file.bin', { body: Buffer.alloc(1024, 3) });
    origin.route('/list.m3u8', { body: '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nseg.ts\n#EXT-X-ENDLIST\n' });
    origin.route('/page', { body: '<html></html>' });
    await origin.start();
    test = await startTestApp({ ALLOW_PRIVATE_ADDRESSES: 'false', RETRY_ATTEMPTS: '3' });
    await events.open(`${test.baseUrl}/api/events`);
  });

  after(async () => {
    events.close();
    await test.close();
    await origin.stop();
  });

  const cases: Array<[type: string, path: string, host: 'localhost' | '127.0.0.1']> = [
    ['direct', '/file.bin', 'localhost'],
    ['m3u8', '/list.m3u8', '127.0.0.1'],
    ['mediago', '/file.bin', 'localhost'],
    ['youtube', '/page', 'localhost'],
  ];
  for (const [type, path, host] of cases) {
    it(`fails a ${type} task for ${host} at once, naming the host and the address, without a request`, async () => {
      const before = origin.requests.length;
      const url = origin.url(path).replace('127.0.0.1', host);
      const id = await createTask(test, { type, url });
      const task = await waitForStatus(test, id, ['failed', 'success'], 30_000);
      assert.equal(task.status, 'failed');
      const address = host === 'localhost' ? '(127\\.0\\.0\\.1|::1)' : '127\\.0\\.0\\.1';
      const named = host === 'localhost' ? `localhost \\(which resolves to ${address}\\)` : `the address ${address}`;
      assert.match(task.error, new RegExp(`${named} is a loopback address, which tasks may not reach; set ALLOW_PRIVATE_ADDRESSES=true`));
      const failed = await events.waitFor('download-failed', id, 10_000);
      assert.equal(failed.data.errorCode, 'address_not_allowed');
      assert.equal(origin.requests.length, before, 'nothing reached the origin');
      assert.doesNotMatch(await logOf(test, id), /retry|try 2|attempt 2/i);
    });
  }
});
