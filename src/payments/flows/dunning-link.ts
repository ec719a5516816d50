/**
 * Signed, short-lived self-service pay links for dunning: `<payload>.<signature>`, both base64url. The payload is
 * the failed payment's id (16 bytes) and the expiry (unix seconds, 4 bytes); the signature is HMAC-SHA256 under the
 * pay-link secret with its own purpose label (a QR token cannot be replayed as a pay link or the other way round),
 * truncated to 128 bits so the whole link stays short (a URL path segment of about 50 characters). Pure functions.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '../../shared/result.ts';

export type DunningLinkClaims = { readonly paymentId: string; readonly expiresAtS: number };
export type DunningLinkError = { readonly code: 'PayLinkInvalid' | 'PayLinkExpired'; readonly message: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAYLOAD_BYTES = 20;
const SIGNATURE_BYTES = 16;

export function signDunningLink(claims: DunningLinkClaims, secret: string): string {
  if (!UUID.test(claims.paymentId)) throw new Error('a pay link names a payment by its UUID');
  const bytes = Buffer.alloc(PAYLOAD_BYTES);
  Buffer.from(claims.paymentId.replaceAll('-', ''), 'hex').copy(bytes, 0);
  bytes.writeUInt32BE(claims.expiresAtS, 16);
  const payload = bytes.toString('base64url');
  return `${payload}.${mac(payload, secret).toString('base64url')}`;
}

export function verifyDunningLink(
  token: string,
  secret: string,
  nowS: number,
): Result<DunningLinkClaims, DunningLinkError> {
  const invalid = (message: string) => err<DunningLinkError>({ code: 'PayLinkInvalid', message });
  if (token.length > 100) return invalid('link too long');
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return invalid('malformed link');
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(payload, secret);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid('signature does not match');
  const bytes = Buffer.from(payload, 'base64url');
  if (bytes.length !== PAYLOAD_BYTES) return invalid('malformed payload');
  const hex = bytes.subarray(0, 16).toString('hex');
  const paymentId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const expiresAtS = bytes.readUInt32BE(16);
  if (expiresAtS <= nowS) {
    return err({ code: 'PayLinkExpired', message: 'the pay link has expired; ask the operator for a new one' });
  }
  return ok({ paymentId, expiresAtS });
}

function mac(payload: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`voltbill-dunning|${payload}`).digest().subarray(0, SIGNATURE_BYTES);
}
