/**
 * API keys for machines: 256-bit random secrets shown once; the database keeps only their SHA-256 (a fast hash is
 * enough for a 256-bit random secret, and lookup by hash means no comparison of secrets in application code),
 * a short prefix to recognize a key in lists, its role and its last-used time. Revoked keys stop working at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { appendAudit } from '../audit/append-audit.ts';
import type { ApiRole, Database } from '../db/schema.ts';
import type { ApiPrincipal } from './auth/principal.ts';

export type { ApiPrincipal } from './auth/principal.ts';

export const API_KEY_PREFIX = 'vb_';
export const API_ROLES = ['admin', 'finance', 'support', 'read-only'] as const satisfies readonly ApiRole[];
const LAST_USED_RESOLUTION_MS = 60_000;
/** Characters of a key kept for display: the `vb_` prefix and 6 random characters (36 bits, not usable). */
const DISPLAY_PREFIX_CHARS = 9;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

type Audited = { actor: string; at: Date; ip?: string | null; requestId?: string | null };

export async function createApiKey(
  db: Kysely<Database> | Transaction<Database>,
  operatorId: string,
  name: string,
  role: ApiRole,
  audit?: Audited,
): Promise<{ id: string; key: string; prefix: string }> {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const prefix = key.slice(0, DISPLAY_PREFIX_CHARS);
  const insert = async (trx: Kysely<Database> | Transaction<Database>) => {
    const row = await trx
      .insertInto('api_keys')
      .values({
        operator_id: operatorId,
        name,
        role,
        key_hash: hashApiKey(key),
        key_prefix: prefix,
        created_by: audit?.actor ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (audit) {
      await appendAudit(trx, {
        operatorId,
        actor: audit.actor,
        action: 'api-key.create',
        subjectType: 'api-key',
        subjectId: row.id,
        after: { name, role, prefix },
        ip: audit.ip ?? null,
        requestId: audit.requestId ?? null,
        at: audit.at,
      });
    }
    return row.id;
  };
  const id = db.isTransaction || !audit ? await insert(db) : await db.transaction().execute(insert);
  return { id, key, prefix };
}

export type ApiKeyView = {
  id: string;
  name: string;
  role: ApiRole;
  prefix: string | null;
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

export async function listApiKeys(db: Kysely<Database>, operatorId: string): Promise<ApiKeyView[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'role', 'key_prefix', 'created_at', 'created_by', 'last_used_at', 'revoked_at'])
    .where('operator_id', '=', operatorId)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role,
    prefix: r.key_prefix,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
    revokedAt: r.revoked_at?.toISOString() ?? null,
  }));
}

/** Revokes a key of the operator; false when it has no such (unrevoked) key. Audited in the same transaction. */
export async function revokeApiKey(
  db: Kysely<Database>,
  operatorId: string,
  keyId: string,
  audit: Audited,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('api_keys')
      .set({ revoked_at: audit.at })
      .where('id', '=', keyId)
      .where('operator_id', '=', operatorId)
      .where('revoked_at', 'is', null)
      .returning(['id', 'name', 'role'])
      .executeTakeFirst();
    if (!row) return false;
    await appendAudit(trx, {
      operatorId,
      actor: audit.actor,
      action: 'api-key.revoke',
      subjectType: 'api-key',
      subjectId: row.id,
      before: { name: row.name, role: row.role, revokedAt: null },
      after: { revokedAt: audit.at.toISOString() },
      ip: audit.ip ?? null,
      requestId: audit.requestId ?? null,
      at: audit.at,
    });
    return true;
  });
}

export async function authenticateApiKey(
  db: Kysely<Database>,
  key: string,
  now: Date,
): Promise<ApiPrincipal | undefined> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 128) return undefined;
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
  return {
    kind: 'api-key',
    keyId: row.id,
    operatorId: row.operator_id,
    role: row.role,
    customerId: null,
    actor: `api-key:${row.id}`,
  };
}
