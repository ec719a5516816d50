/**
 * Webhook signatures in Stripe's scheme, which the sandbox provider uses too: header
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=...]`. Verified on the raw bytes, compared
 * in constant time, any listed v1 accepted (secret rotation), and a timestamp outside the tolerance refused so that
 * a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '../shared/result.ts';
import type { WebhookError } from './provider.ts';

/** Stripe's default tolerance between the signature's timestamp and our clock. */
export const DEFAULT_WEBHOOK_TOLERANCE_S = 300;

/** Largest header accepted: a few signatures, never a body-sized string. */
const MAX_HEADER_CHARS = 2048;

export function signWebhook(secret: string, rawBody: Buffer | string, timestampS: number): string {
  return `t=${timestampS},v1=${hmacHex(secret, timestampS, rawBody)}`;
}

/** Checks `header` against every secret in `secrets` (current and previous while rotating). */
export function verifyWebhookSignature(input: {
  readonly rawBody: Buffer;
  readonly header: string | undefined;
  readonly secrets: readonly string[];
  readonly nowS: number;
  readonly toleranceS?: number;
}): Result<{ timestampS: number }, WebhookError> {
  const { header } = input;
  if (!header) return err({ code: 'MissingSignature', message: 'no signature header' });
  if (header.length > MAX_HEADER_CHARS) return err({ code: 'InvalidSignature', message: 'signature header too long' });
  let timestampS: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestampS = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestampS === undefined || signatures.length === 0) {
    return err({ code: 'InvalidSignature', message: 'signature header has no timestamp or no v1 signature' });
  }
  const matches = input.secrets.some((secret) => {
    const expected = Buffer.from(hmacHex(secret, timestampS, input.rawBody), 'hex');
    // Check every listed signature without stopping early, so timing does not tell which one matched.
    return signatures.reduce((found, given) => timingSafeEqual(expected, given) || found, false);
  });
  if (!matches) return err({ code: 'InvalidSignature', message: 'no signature matches the body' });
  const toleranceS = input.toleranceS ?? DEFAULT_WEBHOOK_TOLERANCE_S;
  if (Math.abs(input.nowS - timestampS) > toleranceS) {
    return err({ code: 'StaleTimestamp', message: `signature timestamp is more than ${toleranceS} s from now` });
  }
  return ok({ timestampS });
}

function hmacHex(secret: string, timestampS: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestampS}.`).update(rawBody).digest('hex');
}
