/**
 * Canonical JSON for hashing: object keys sorted, no whitespace, undefined members dropped, bigint as a decimal
 * string and Date as its ISO string. Two values that mean the same JSON give the same text, whatever key order
 * the database (jsonb reorders keys) or the caller used, so an audit entry hashes the same when written and when
 * read back for verification.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalizeJson(value));
}

/** The plain JSON value a canonical text stands for (what jsonb stores and returns). */
export function normalizeJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((item) => normalizeJson(item));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined || typeof member === 'function') continue;
      out[key] = normalizeJson(member);
    }
    return out;
  }
  return null;
}
