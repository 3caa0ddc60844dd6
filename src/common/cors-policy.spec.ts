import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corsOptions, originAllowed } from './cors-policy.js';

describe('corsOptions', () => {
  it('grants CORS to nobody by default, to the listed origins, or to any with "*"', () => {
    assert.equal(corsOptions({ corsOrigins: [] }).origin, false);
    assert.deepEqual(corsOptions({ corsOrigins: ['https://a.example'] }).origin, ['https://a.example']);
    assert.equal(corsOptions({ corsOrigins: ['*'] }).origin, '*');
  });
});

describe('originAllowed', () => {
  const host = '127.0.0.1:39719';

  it('serves requests without an Origin (curl, scripts, MediaGo clients outside a browser)', () => {
    assert.equal(originAllowed(undefined, host, []), true);
  });

  it('serves the same origin and browser extensions', () => {
    assert.equal(originAllowed('http://127.0.0.1:39719', host, []), true);
    assert.equal(originAllowed('chrome-extension://abcdef', host, []), true);
    assert.equal(originAllowed('moz-extension://1234', host, []), true);
    assert.equal(originAllowed('safari-web-extension://1234', host, []), true);
  });

  it('refuses other web origins, another port of the same host, and opaque origins', () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1:8080', 'http://localhost:39719', 'null', 'file://', 'data:text/html,x', 'not a url']) {
      assert.equal(originAllowed(origin, host, []), false, origin);
    }
  });

  it('serves the origins listed in CORS_ORIGINS, or every one with "*"', () => {
    assert.equal(originAllowed('https://app.example', host, ['https://app.example']), true);
    assert.equal(originAllowed('https://other.example', host, ['https://app.example']), false);
    assert.equal(originAllowed('https://other.example', host, ['*']), true);
  });
});
