import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactHeaderLines } from './secret-redaction.js';

describe('redactHeaderLines', () => {
  it('hides credential values and keeps every other line as it is', () => {
    const lines = 'Referer: https://example.com/\ncookie: SESSDATA=abc; other=1\nAuthorization: Bearer xyz\nProxy-Authorization: Basic dXNlcg==\nUser-Agent: Mozilla/5.0';
    assert.equal(
      redactHeaderLines(lines),
      'Referer: https://example.com/\ncookie: [redacted]\nAuthorization: [redacted]\nProxy-Authorization: [redacted]\nUser-Agent: Mozilla/5.0',
    );
  });

  it('leaves an empty string empty', () => {
    assert.equal(redactHeaderLines(''), '');
  });
});
