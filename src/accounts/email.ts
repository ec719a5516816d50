/** Emails: normalized (trimmed, lower case) before their blind index is computed, so lookups ignore case. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isEmail(email: string): boolean {
  return EMAIL.test(email.trim()) && email.length <= 320;
}

/** The blind-index context of user and customer emails (src/crypto/field-cipher.ts). */
export const EMAIL_INDEX_CONTEXT = 'email';
