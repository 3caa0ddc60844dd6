import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortedError } from './abort.js';
import { HttpError, PermanentError, describeError, isTransient, redactUrl } from './http-error.js';

const URL_WITH_SECRETS = 'https://user:p4ss@cdn.example.com:8443/videos/clip.mp4?signature=abc&token=xyz#t=10';
const anHttpError = (status: number, retryAfterMs: number | null = null) => new HttpError(status, URL_WITH_SECRETS, retryAfterMs);
const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('HttpError', () => {
  it('says what was asked and what came back, without secrets', () => {
    const error = anHttpError(404);
    assert.equal(error.message, 'https://cdn.example.com:8443/videos/clip.mp4 answered HTTP 404');
    assert.equal(error.name, 'HttpError');
    assert.equal(error.status, 404);
    assert.equal(error.url, URL_WITH_SECRETS);
    assert.equal(error.retryAfterMs, null);
  });
});

describe('isTransient', () => {
  it('is true for 5xx, 408, 425 and 429', () => {
    for (const status of [408, 425, 429, 500, 501, 502, 503, 504, 507, 520, 524, 599]) assert.equal(isTransient(anHttpError(status)), true, `HTTP ${status}`);
  });

  it('is false for other 4xx answers', () => {
    for (const status of [400, 401, 403, 404, 405, 410, 416, 451]) assert.equal(isTransient(anHttpError(status)), false, `HTTP ${status}`);
  });

  it('is false for a PermanentError, even one with a transient code', () => {
    assert.equal(isTransient(new PermanentError('not a playlist')), false);
    assert.equal(isTransient(Object.assign(new PermanentError('x'), { code: 'ECONNRESET' })), false);
  });

  it('is true for network error codes', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ERR_STREAM_PREMATURE_CLOSE']) {
      assert.equal(isTransient(withCode(code)), true, code);
    }
  });

  it('is false for codes that another try cannot mend', () => {
    for (const code of ['ENOTFOUND', 'EACCES', 'ENOSPC', 'ERR_INVALID_URL', 'UND_ERR_ABORTED']) assert.equal(isTransient(withCode(code)), false, code);
  });

  it('finds a transient code in nested causes, up to four levels', () => {
    const nested = (depth: number) => {
      let error: Error = withCode('ECONNRESET', 'read failed');
      for (let level = 1; level < depth; level++) error = new Error(`level ${level}`, { cause: error });
      return error;
    };
    assert.equal(isTransient(new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } })), true);
    assert.equal(isTransient(nested(2)), true);
    assert.equal(isTransient(nested(4)), true);
    assert.equal(isTransient(nested(5)), false, 'deeper causes are not searched');
  });

  it('is true for the messages of dropped connections', () => {
    for (const message of ['socket hang up', 'other side closed', 'terminated', 'Socket Hang Up while reading']) assert.equal(isTransient(new Error(message)), true, message);
    assert.equal(isTransient(new Error('read failed', { cause: new Error('other side closed') })), true);
  });

  it('is false for an abort, a plain error, and non-errors', () => {
    assert.equal(isTransient(new AbortedError()), false);
    assert.equal(isTransient(new DOMException('This operation was aborted', 'AbortError')), false);
    assert.equal(isTransient(new Error('bad data')), false);
    for (const value of [null, undefined, 0, '', 'ECONNRESET', {}]) assert.equal(isTransient(value), false, JSON.stringify(value));
  });

  it('reads a code on a plain object as well', () => {
    assert.equal(isTransient({ code: 'ECONNRESET' }), true);
  });
});

describe('redactUrl', () => {
  it('drops credentials, query and fragment', () => {
    assert.equal(redactUrl(URL_WITH_SECRETS), 'https://cdn.example.com:8443/videos/clip.mp4');
    assert.equal(redactUrl('http://example.com/a/b?x=1'), 'http://example.com/a/b');
    assert.equal(redactUrl('http://token@example.com/'), 'http://example.com/');
  });

  it('keeps non-default ports and drops default ones', () => {
    assert.equal(redactUrl('https://example.com:443/x'), 'https://example.com/x');
    assert.equal(redactUrl('http://127.0.0.1:39719/x'), 'http://127.0.0.1:39719/x');
  });

  it('shortens what is not a URL to 200 characters', () => {
    assert.equal(redactUrl('not a url'), 'not a url');
    assert.equal(redactUrl('x'.repeat(300)).length, 200);
  });
});

describe('describeError', () => {
  it('adds a code the message does not already name', () => {
    assert.equal(describeError(withCode('ECONNRESET', 'read failed')), 'read failed (ECONNRESET)');
    assert.equal(describeError(withCode('ECONNRESET', 'read ECONNRESET')), 'read ECONNRESET');
    assert.equal(describeError(new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } })), 'fetch failed (UND_ERR_SOCKET)');
  });

  it('uses the message of an HttpError, and String() for non-errors', () => {
    assert.equal(describeError(anHttpError(503)), 'https://cdn.example.com:8443/videos/clip.mp4 answered HTTP 503');
    assert.equal(describeError('plain text'), 'plain text');
  });
});
