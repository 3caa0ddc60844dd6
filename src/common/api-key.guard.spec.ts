import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { loadConfig } from '../config/app-config.js';
import { ApiKeyGuard, keysMatch, offeredKey } from './api-key.guard.js';
import { Public } from './public.decorator.js';

type Headers = Record<string, string | string[] | undefined>;
const aRequest = (headers: Headers = {}, query?: Record<string, unknown>) => ({ headers, query });

describe('offeredKey', () => {
  it('reads a Bearer token, in any case, with extra spaces', () => {
    assert.equal(offeredKey(aRequest({ authorization: 'Bearer abc123' })), 'abc123');
    assert.equal(offeredKey(aRequest({ authorization: 'bearer   abc123  ' })), 'abc123');
    assert.equal(offeredKey(aRequest({ authorization: '  BEARER abc123' })), 'abc123');
  });

  it('reads X-API-Key', () => {
    assert.equal(offeredKey(aRequest({ 'x-api-key': 'header-key' })), 'header-key');
  });

  it('reads ?token=', () => {
    assert.equal(offeredKey(aRequest({}, { token: 'query-key' })), 'query-key');
  });

  it('prefers Bearer over X-API-Key over ?token=', () => {
    const all = aRequest({ authorization: 'Bearer bearer-key', 'x-api-key': 'header-key' }, { token: 'query-key' });
    assert.equal(offeredKey(all), 'bearer-key');
    assert.equal(offeredKey(aRequest({ 'x-api-key': 'header-key' }, { token: 'query-key' })), 'header-key');
  });

  it('falls through an Authorization header of another scheme, or an empty Bearer', () => {
    assert.equal(offeredKey(aRequest({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'header-key' })), 'header-key');
    assert.equal(offeredKey(aRequest({ authorization: 'Bearer', 'x-api-key': 'header-key' })), 'header-key');
    assert.equal(offeredKey(aRequest({ authorization: 'Bearer    ' }, { token: 'query-key' })), 'query-key');
  });

  it('ignores empty and repeated (array) values', () => {
    assert.equal(offeredKey(aRequest({ 'x-api-key': '' }, { token: 'query-key' })), 'query-key');
    assert.equal(offeredKey(aRequest({ 'x-api-key': ['a', 'b'] }, { token: 'query-key' })), 'query-key');
    assert.equal(offeredKey(aRequest({}, { token: ['a', 'b'] })), null);
    assert.equal(offeredKey(aRequest({}, { token: '' })), null);
  });

  it('gives null when nothing is offered', () => {
    assert.equal(offeredKey(aRequest()), null);
    assert.equal(offeredKey({ headers: {} }), null);
  });
});

describe('keysMatch', () => {
  it('is true for the same key', () => {
    assert.equal(keysMatch('correct horse battery', 'correct horse battery'), true);
    assert.equal(keysMatch('ünïcödé-key', 'ünïcödé-key'), true);
  });

  it('is false for a different key of the same length', () => {
    assert.equal(keysMatch('abcdefgh', 'abcdefgX'), false);
    assert.equal(keysMatch('ABCDEFGH', 'abcdefgh'), false);
  });

  it('is false for keys of different lengths, without throwing', () => {
    assert.equal(keysMatch('abcdefgh', 'abcdefghi'), false);
    assert.equal(keysMatch('', 'abcdefgh'), false);
    assert.equal(keysMatch('abcdefgh'.repeat(100), 'abcdefgh'), false);
    assert.equal(keysMatch('abcdefgh ', 'abcdefgh'), false);
  });
});

describe('ApiKeyGuard', () => {
  class Routes {
    list() {}
    @Public()
    health() {}
  }
  const contextFor = (handler: keyof Routes, request: ReturnType<typeof aRequest>) => new ExecutionContextHost([request, {}], Routes, Routes.prototype[handler]);
  const guardWith = (apiKey?: string) => new ApiKeyGuard(new Reflector(), loadConfig(apiKey ? { API_KEY: apiKey } : {}, '/srv'));

  it('lets everything through when no API_KEY is configured', () => {
    assert.equal(guardWith().canActivate(contextFor('list', aRequest())), true);
  });

  it('lets a request with the right key through, by any of the three ways', () => {
    const guard = guardWith('s3cret-key');
    for (const request of [aRequest({ authorization: 'Bearer s3cret-key' }), aRequest({ 'x-api-key': 's3cret-key' }), aRequest({}, { token: 's3cret-key' })]) {
      assert.equal(guard.canActivate(contextFor('list', request)), true);
    }
  });

  it('tells a client without a key how to send one', () => {
    assert.throws(() => guardWith('s3cret-key').canActivate(contextFor('list', aRequest())), (error: unknown) => {
      assert.ok(error instanceof UnauthorizedException);
      assert.match(error.message, /Authorization: Bearer <key>.*X-API-Key: <key>.*\?token=<key>/);
      return true;
    });
  });

  it('refuses a wrong key', () => {
    assert.throws(() => guardWith('s3cret-key').canActivate(contextFor('list', aRequest({ 'x-api-key': 'wrong-key' }))), {
      message: 'The API key is not valid',
    });
  });

  it('lets a public route through without a key', () => {
    assert.equal(guardWith('s3cret-key').canActivate(contextFor('health', aRequest())), true);
  });
});
