import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from '../../test/fixtures/origin-server.js';
import { HttpClient } from './http-client.js';
import { HttpError, PermanentError } from './http-error.js';

describe('HttpClient', () => {
  const first = new OriginServer();
  const second = new OriginServer();
  const http = new HttpClient({ stallTimeoutMs: 5_000, retry: { attempts: 2, baseDelayMs: 10 } });
  const headers: Array<[string, string]> = [
    ['Cookie', 'SESSDATA=secret'],
    ['Authorization', 'Bearer secret'],
    ['Referer', 'https://site.example/'],
  ];

  before(async () => {
    await second.start();
    second.route('/file', { body: 'elsewhere' });
    first.route('/file', { body: 'here' });
    first.route('/same', { handler: (_req, res) => void res.writeHead(302, { location: '/file' }).end() });
    first.route('/other', { handler: (_req, res) => void res.writeHead(302, { location: second.url('/file') }).end() });
    first.route('/loop', { handler: (_req, res) => void res.writeHead(302, { location: '/loop?token=abc' }).end() });
    first.route('/big', { body: 'x'.repeat(2_000) });
    await first.start();
  });

  after(async () => {
    await http.close();
    await first.stop();
    await second.stop();
  });

  it('follows a redirect on the same origin with every header, and reports the final URL', async () => {
    const response = await http.fetchText(first.url('/same'), { headers });
    assert.equal(response.text, 'here');
    assert.equal(response.url, first.url('/file'));
    const seen = first.requests.filter((request) => request.path === '/file').at(-1)!;
    assert.equal(seen.headers.cookie, 'SESSDATA=secret');
    assert.equal(seen.headers.authorization, 'Bearer secret');
  });

  it('drops the credentials, not the other headers, when a redirect leaves the origin', async () => {
    const response = await http.fetchText(first.url('/other'), { headers });
    assert.equal(response.text, 'elsewhere');
    const seen = second.requests.at(-1)!;
    assert.equal(seen.headers.cookie, undefined);
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers.referer, 'https://site.example/');
  });

  it('gives up on a redirect loop, naming the URL without its query', async () => {
    await assert.rejects(http.open(first.url('/loop?token=secret')), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /redirected more than 10 times/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
  });

  it('refuses a small document that is too large, and answers HTTP errors as HttpError', async () => {
    await assert.rejects(http.fetchText(first.url('/big?token=secret'), { maxBytes: 1_000 }), (error: unknown) => error instanceof PermanentError && !error.message.includes('secret'));
    await assert.rejects(http.open(first.url('/missing')), (error: unknown) => error instanceof HttpError && error.status === 404);
  });
});
