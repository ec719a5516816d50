/**
 * Dynamic ad-hoc QR tokens: `<payload>.<signature>`, both base64url, the payload naming the EVSE and an expiry,
 * the signature an HMAC-SHA256 under the operator's pay-link secret. A screen or app shows a fresh token, so a
 * counterfeit sticker (a copied or invented token) cannot send drivers' money elsewhere: it expires, and it cannot
 * name another EVSE without the secret. Pure functions of their inputs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '../../shared/result.ts';

export type QrTokenClaims = { readonly stationId: string; readonly evseId: number; readonly expiresAtS: number };
export type QrTokenError = { readonly code: 'QrTokenInvalid' | 'QrTokenExpired'; readonly message: string };

const MAX_TOKEN_CHARS = 512;

export function signQrToken(claims: QrTokenClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify({ s: claims.stationId, e: claims.evseId, x: claims.expiresAtS })).toString(
    'base64url',
  );
  return `${payload}.${mac(payload, secret)}`;
}

export function verifyQrToken(token: string, secret: string, nowS: number): Result<QrTokenClaims, QrTokenError> {
  const invalid = (message: string) => err<QrTokenError>({ code: 'QrTokenInvalid', message });
  if (token.length > MAX_TOKEN_CHARS) return invalid('token too long');
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return invalid('malformed token');
  const expected = Buffer.from(mac(payload, secret), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid('signature does not match');
  let claims: { s?: unknown; e?: unknown; x?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return invalid('malformed payload');
  }
  if (typeof claims.s !== 'string' || !Number.isInteger(claims.e) || !Number.isInteger(claims.x)) {
    return invalid('malformed claims');
  }
  if ((claims.x as number) <= nowS)
    return err({ code: 'QrTokenExpired', message: 'the QR code has expired; scan the current one' });
  return ok({ stationId: claims.s, evseId: claims.e as number, expiresAtS: claims.x as number });
}

function mac(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`voltbill-qr|${payload}`).digest('base64url');
}
