/** API keys: 256-bit random secrets shown once; the database keeps only their SHA-256. */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiRole, Database } from '../db/schema.ts';

const KEY_PREFIX = 'vb_';
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createApiKey(
  db: Kysely<Database>,
  operatorId: string,
  name: string,
  role: ApiRole,
): Promise<{ id: string; key: string }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await db
    .insertInto('api_keys')
    .values({ operator_id: operatorId, name, role, key_hash: hashApiKey(key) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, key };
}

export type ApiPrincipal = { readonly keyId: string; readonly operatorId: string; readonly role: ApiRole };

export async function authenticateApiKey(
  db: Kysely<Database>,
  key: string,
  now: Date,
): Promise<ApiPrincipal | undefined> {
  if (!key.startsWith(KEY_PREFIX) || key.length > 128) return undefined;
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'operator_id', 'role', 'last_used_at'])
    .where('key_hash', '=', hashApiKey(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  // last-used time to the minute is enough for an operator, and saves a write on every request.
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { keyId: row.id, operatorId: row.operator_id, role: row.role };
}
