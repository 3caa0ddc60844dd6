import { createHmac, timingSafeEqual } from 'node:crypto';

/** The X-Signature-256 value: `sha256=` and the hex HMAC-SHA256 of the exact body bytes (GitHub's scheme). */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time. */
export function verifyWebhookSignature(body: string, secret: string, signature: string): boolean {
  const expected = Buffer.from(signWebhookBody(body, secret));
  const offered = Buffer.from(signature);
  return expected.length === offered.length && timingSafeEqual(expected, offered);
}
