import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

describe('webhook signatures', () => {
  const body = '{"event":"download-success","task":{"id":1},"timestamp":"2026-11-30T00:00:00.000Z"}';

  it('is the hex HMAC-SHA256 of the body, prefixed sha256=', () => {
    assert.equal(signWebhookBody(body, 's3cret'), `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
  });

  it('verifies its own signature and refuses another body, secret or a truncated value', () => {
    const signature = signWebhookBody(body, 's3cret');
    assert.equal(verifyWebhookSignature(body, 's3cret', signature), true);
    assert.equal(verifyWebhookSignature(`${body} `, 's3cret', signature), false);
    assert.equal(verifyWebhookSignature(body, 'other', signature), false);
    assert.equal(verifyWebhookSignature(body, 's3cret', signature.slice(0, -1)), false);
  });
});
