import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OriginServer } from '../../test/fixtures/origin-server.js';
import { ErrorCode } from '../common/error-codes.js';
import { AddressGuard, AddressNotAllowedError, refusedAddressKind } from './address-guard.js';
import { HttpClient } from './http-client.js';
import { failureCode } from './task-errors.js';

describe('refusedAddressKind', () => {
  const cases: Array<[string, string | null]> = [
    ['127.0.0.1', 'a loopback address'],
    ['127.255.10.1', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['100.64.0.1', 'a private address'],
    ['::ffff:10.0.0.1', 'a private address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['fd00::1', 'a unique-local address'],
    ['fc00::', 'a unique-local address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['224.0.0.1', 'a multicast or reserved address'],
    ['255.255.255.255', 'a multicast or reserved address'],
    ['ff02::1', 'a multicast or reserved address'],
    ['8.8.8.8', null],
    ['1.1.1.1', null],
    ['172.32.0.1', null],
    ['192.169.0.1', null],
    ['100.128.0.1', null],
    ['2606:4700::1111', null],
    ['::ffff:93.184.216.34', null],
    ['not-an-address', null],
  ];
  for (const [address, kind] of cases) {
    it(`${address} is ${kind ?? 'allowed'}`, () => assert.equal(refusedAddressKind(address), kind));
  }
});

describe('AddressGuard in the HTTP client', () => {
  const origin = new OriginServer();
  // a second origin on another loopback address, the target of a redirect
  const elsewhere = createServer((_req, res) => void res.end('elsewhere'));
  const elsewhereRequests: string[] = [];
  elsewhere.on('request', (req) => elsewhereRequests.push(req.url ?? ''));
  let elsewhereUrl = '';

  before(async () => {
    origin.route('/file', { body: 'here' });
    origin.route('/away', { handler: (_req, res) => void res.writeHead(302, { location: `${elsewhereUrl}/file` }).end() });
    await origin.start();
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
    elsewhereUrl = `http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}`;
  });

  after(async () => {
    await origin.stop();
    await new Promise((resolve) => elsewhere.close(resolve));
  });

  const client = (guard: AddressGuard, proxy: string | null = null) => new HttpClient({ proxy, stallTimeoutMs: 5_000, retry: { attempts: 3, baseDelayMs: 10 }, addressGuard: guard });

  const refusal = (host: string, address: RegExp) => (error: unknown) => {
    assert.ok(error instanceof AddressNotAllowedError, `an AddressNotAllowedError, got ${String(error)}`);
    assert.equal(error.host, host);
    assert.match(error.address, address);
    assert.match(error.message, /is a loopback address, which tasks may not reach; set ALLOW_PRIVATE_ADDRESSES=true/);
    assert.deepEqual(failureCode(error), { errorCode: ErrorCode.AddressNotAllowed });
    return true;
  };

  it('refuses a name that resolves to loopback when connecting, without retrying and without a request', async () => {
    const http = client(new AddressGuard());
    const url = origin.url('/file').replace('127.0.0.1', 'localhost');
    const before = origin.requests.length;
    let retries = 0;
    await assert.rejects(http.fetchText(url, { onRetry: () => retries++ }), refusal('localhost', /^(127\.0\.0\.1|::1)$/));
    assert.equal(retries, 0);
    assert.equal(origin.requests.length, before);
    await http.close();
  });

  it('refuses an IP literal, which connects without a lookup', async () => {
    const http = client(new AddressGuard());
    await assert.rejects(http.fetchText(origin.url('/file')), refusal('127.0.0.1', /^127\.0\.0\.1$/));
    await http.close();
  });

  it('checks every redirect hop: an allowed origin cannot lead the client to a refused address', async () => {
    // only 127.0.0.1 is let through, standing in for a public origin
    const http = client(new AddressGuard((address) => (address === '127.0.0.1' ? null : refusedAddressKind(address))));
    assert.equal((await http.fetchText(origin.url('/file'))).text, 'here');
    await assert.rejects(http.fetchText(origin.url('/away')), refusal('127.0.0.2', /^127\.0\.0\.2$/));
    assert.deepEqual(elsewhereRequests, []);
    await http.close();
  });

  it('with a proxy, resolves and checks the name before the request goes to the proxy', async () => {
    // nothing listens on the proxy's port: reaching it would be a connection error, not a refusal
    const http = client(new AddressGuard(), 'http://127.0.0.1:9');
    await assert.rejects(http.fetchText('http://localhost:9/file'), refusal('localhost', /^(127\.0\.0\.1|::1)$/));
    await http.close();
  });

  it('lets every address through without a guard', async () => {
    const http = new HttpClient({ stallTimeoutMs: 5_000, retry: { attempts: 1, baseDelayMs: 10 } });
    assert.equal((await http.fetchText(origin.url('/file').replace('127.0.0.1', 'localhost'))).text, 'here');
    assert.equal((await http.fetchText(`${elsewhereUrl}/file`)).text, 'elsewhere');
    await http.close();
  });
});
