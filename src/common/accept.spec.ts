import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAccept, preferredMediaType } from './accept.js';

const OFFERED = ['text/plain', 'application/json'] as const;
const pick = (header: string | undefined) => preferredMediaType(header, OFFERED);

describe('preferredMediaType for the export (text/plain by default, application/json when ranked above it)', () => {
  it('gives JSON to axios, MediaGo SDK and web UI', () => {
    assert.equal(pick('application/json, text/plain, */*'), 'application/json');
    assert.equal(pick('application/json'), 'application/json');
    assert.equal(pick('Application/JSON;charset=utf-8'), 'application/json');
  });

  it('gives text to curl, browsers and clients that say nothing', () => {
    assert.equal(pick(undefined), 'text/plain');
    assert.equal(pick(''), 'text/plain');
    assert.equal(pick('*/*'), 'text/plain');
    assert.equal(pick('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'), 'text/plain');
    assert.equal(pick('text/plain, application/json'), 'text/plain');
    assert.equal(pick('text/*'), 'text/plain');
  });

  it('honours q-values over the order of the list', () => {
    assert.equal(pick('text/plain;q=0.5, application/json'), 'application/json');
    assert.equal(pick('application/json;q=0.5, text/plain'), 'text/plain');
    assert.equal(pick('application/json;q=0.9, text/plain;q=0.8, */*;q=0.1'), 'application/json');
    assert.equal(pick('*/*;q=0.1, application/*'), 'application/json');
  });

  it('takes the most specific range for each type, so an exact q=0 refuses it', () => {
    assert.equal(pick('text/plain;q=0, */*'), 'application/json');
    assert.equal(pick('application/json;q=0, */*'), 'text/plain');
    assert.equal(pick('*/*, text/*;q=0.2'), 'application/json');
  });

  it('prefers the more specific of equal weights: an exact name beats a wildcard listed first', () => {
    assert.equal(pick('*/*, application/json'), 'application/json');
    assert.equal(pick('application/*, text/plain'), 'text/plain');
  });

  it('falls back to the default when nothing offered is acceptable or the header is garbage', () => {
    assert.equal(pick('image/png'), 'text/plain');
    assert.equal(pick('application/json;q=0, text/plain;q=0'), 'text/plain');
    assert.equal(pick(',,;;=='), 'text/plain');
    assert.equal(pick('application/json;q=2'), 'text/plain', 'an invalid q drops the entry');
  });
});

describe('parseAccept', () => {
  it('reads types, q and position, and keeps quoted commas inside one entry', () => {
    assert.deepEqual(parseAccept('text/html;level="1,2";q=0.7, */*;q=0.1'), [
      { type: 'text', subtype: 'html', q: 0.7, index: 0 },
      { type: '*', subtype: '*', q: 0.1, index: 1 },
    ]);
  });

  it('stays linear on a long hostile header', () => {
    const ranges = parseAccept('a/b;q=0.5,'.repeat(20_000));
    assert.equal(ranges.length, 20_000);
  });
});
