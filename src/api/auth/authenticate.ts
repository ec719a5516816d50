/**
 * Turns an Authorization: Bearer credential into a principal: an API key (vb_...) or an access token (JWT).
 * For a token, the sign-in session and the user are re-read, so revocation and role changes apply at once.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { API_KEY_PREFIX, authenticateApiKey } from '../api-keys.ts';
import { verifyAccessToken } from './access-token.ts';
import type { ApiPrincipal } from './principal.ts';

export async function authenticateBearer(
  deps: { db: Kysely<Database>; tokenSigningKey: Uint8Array },
  credential: string,
  now: Date,
): Promise<ApiPrincipal | undefined> {
  if (credential.startsWith(API_KEY_PREFIX)) return authenticateApiKey(deps.db, credential, now);
  if (credential.length > 4096) return undefined;
  const claims = await verifyAccessToken(deps.tokenSigningKey, credential, now);
  if (!claims) return undefined;
  const row = await deps.db
    .selectFrom('auth_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['u.id', 'u.operator_id', 'u.role', 'u.customer_id'])
    .where('s.id', '=', claims.sessionId)
    .where('u.id', '=', claims.userId)
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row || row.operator_id !== claims.operatorId) return undefined;
  return {
    kind: 'user',
    userId: row.id,
    sessionId: claims.sessionId,
    operatorId: row.operator_id,
    role: row.role,
    customerId: row.customer_id,
    actor: `user:${row.id}`,
  };
}
