/**
 * A caller's IP address is personal data (GDPR), yet the audit log must say where a change came from. It is
 * stored sealed (AES-256-GCM under the field cipher, context `audit.ip`) in audit_log.ip and auth_sessions.ip: the
 * audit hash chain covers the sealed text, so `voltbill audit verify` needs no key, and admins read the address
 * through the API, which opens it. Addresses stored in clear before this change are read as they are.
 */

import { isSealed } from '../../billing/invoices/invoice-buyer-cipher.ts';
import type { FieldCipher } from '../../crypto/field-cipher.ts';

export const AUDIT_IP_CONTEXT = 'audit.ip';

export function sealIp(cipher: FieldCipher, ip: string | null | undefined): string | null {
  return cipher.encryptOptional(AUDIT_IP_CONTEXT, ip ?? null);
}

/** The address as stored: opened when sealed, as it is when written in clear by an earlier version. */
export async function openIp(cipher: FieldCipher, stored: string | null): Promise<string | null> {
  return isSealed(stored) ? cipher.decrypt(AUDIT_IP_CONTEXT, stored) : stored;
}
