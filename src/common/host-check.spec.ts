import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostName, hostPolicy } from './host-check.js';

describe('hostName', () => {
  it('takes the name out of a Host header: no port, no brackets, lower case, no trailing dot', () => {
    const cases: Array<[string | undefined, string]> = [
      ['127.0.0.1:39719', '127.0.0.1'],
      ['LOCALHOST', 'localhost'],
      ['[::1]:39719', '::1'],
      ['[::1]', '::1'],
      ['::1', '::1'],
      ['media.lan.:9900', 'media.lan'],
      ['  nas.local  ', 'nas.local'],
      ['', ''],
      [undefined, ''],
    ];
    for (const [header, name] of cases) assert.equal(hostName(header), name, String(header));
  });
});

describe('hostPolicy', () => {
  const base = { apiKey: null, allowedHosts: null, host: '127.0.0.1' };

  it('without a key, answers loopback names and addresses only', () => {
    const allowed = hostPolicy(base)!;
    for (const host of ['127.0.0.1:39719', 'localhost:39719', 'app.localhost', '[::1]:39719', '127.0.0.2']) assert.equal(allowed(host), true, host);
    for (const host of ['evil.example', 'localhost.evil.example', '127.0.0.1.evil.example', '10.0.0.5:39719', '', undefined]) assert.equal(allowed(host), false, String(host));
  });

  it('answers the bound address, but not a wildcard bind', () => {
    assert.equal(hostPolicy({ ...base, host: '192.168.1.10' })!('192.168.1.10:39719'), true);
    assert.equal(hostPolicy({ ...base, host: '0.0.0.0' })!('0.0.0.0:39719'), false);
  });

  it('adds ALLOWED_HOSTS: exact names, and ".domain" or "*.domain" for a domain and its sub-names', () => {
    const allowed = hostPolicy({ ...base, allowedHosts: ['media.lan', '.home.arpa', '*.corp.example'] })!;
    for (const host of ['media.lan:9900', 'home.arpa', 'nas.home.arpa', 'corp.example', 'a.b.corp.example']) assert.equal(allowed(host), true, host);
    for (const host of ['other.lan', 'xmedia.lan', 'evilhome.arpa', 'evilcorp.example']) assert.equal(allowed(host), false, host);
  });

  it('with an API key, checks nothing unless ALLOWED_HOSTS is set; "*" opts out', () => {
    assert.equal(hostPolicy({ ...base, apiKey: 'long-enough-key' }), null);
    assert.equal(hostPolicy({ ...base, apiKey: 'long-enough-key', allowedHosts: ['media.lan'] })!('nas.local'), false);
    assert.equal(hostPolicy({ ...base, allowedHosts: ['*'] }), null);
  });
});
