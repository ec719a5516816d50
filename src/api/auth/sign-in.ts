/**
 * Sign-in, refresh and sign-out for people (staff and drivers). Refresh tokens are random, stored as SHA-256,
 * single-use: each refresh returns a new one, and presenting a used one again (a stolen copy) revokes the whole
 * sign-in session. Five wrong passwords in a row lock the account for 15 minutes.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { EMAIL_INDEX_CONTEXT, normalizeEmail } from '../../accounts/email.ts';
import { decoyPasswordHash, verifyPassword } from '../../accounts/password-hash.ts';
import { appendAudit } from '../../audit/append-audit.ts';
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import type { Database } from '../../db/schema.ts';
import { issueAccessToken } from './access-token.ts';

export const MAX_FAILED_SIGN_INS = 5;
export const LOCKOUT_MS = 15 * 60_000;
const REFRESH_PREFIX = 'vbr_';

export type AuthDeps = {
  readonly db: Kysely<Database>;
  readonly cipher: FieldCipher;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
};

export type TokenPair = { accessToken: string; refreshToken: string; expiresInS: number; tokenType: 'Bearer' };
export type AuthFailure = { ok: false; reason: 'invalid-credentials' | 'locked' | 'invalid-refresh-token' };
type Origin = { ip: string | null; requestId: string | null; now: Date };

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export async function signIn(
  deps: AuthDeps,
  credentials: { email: string; password: string },
  origin: Origin,
): Promise<{ ok: true; tokens: TokenPair; userId: string } | AuthFailure> {
  const emailIndex = deps.cipher.blindIndex(EMAIL_INDEX_CONTEXT, normalizeEmail(credentials.email));
  const user = await deps.db
    .selectFrom('users')
    .select(['id', 'operator_id', 'password_hash', 'role', 'disabled_at', 'locked_until', 'failed_sign_ins'])
    .where('email_index', '=', emailIndex)
    .executeTakeFirst();
  if (!user) {
    // Same work as for a real user, so the answer time does not tell which emails have accounts.
    await verifyPassword(credentials.password, await decoyPasswordHash());
    return { ok: false, reason: 'invalid-credentials' };
  }
  if (user.locked_until && user.locked_until > origin.now) return { ok: false, reason: 'locked' };
  const valid = await verifyPassword(credentials.password, user.password_hash);
  if (!valid || user.disabled_at) {
    if (!valid) await recordFailure(deps.db, user.id, user.operator_id, origin);
    return { ok: false, reason: 'invalid-credentials' };
  }
  const tokens = await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ failed_sign_ins: 0, locked_until: null, last_sign_in_at: origin.now })
      .where('id', '=', user.id)
      .execute();
    const session = await trx
      .insertInto('auth_sessions')
      .values({
        operator_id: user.operator_id,
        user_id: user.id,
        created_at: origin.now,
        expires_at: new Date(origin.now.getTime() + deps.refreshTokenTtlS * 1000),
        ip: origin.ip,
      })
      .returning(['id', 'expires_at'])
      .executeTakeFirstOrThrow();
    const refreshToken = await insertRefreshToken(trx, session.id, session.expires_at, origin.now);
    await appendAudit(trx, {
      operatorId: user.operator_id,
      actor: `user:${user.id}`,
      action: 'user.sign-in',
      subjectType: 'auth-session',
      subjectId: session.id,
      ip: origin.ip,
      requestId: origin.requestId,
      at: origin.now,
    });
    const accessToken = await issueAccessToken(
      deps.cipher.tokenSigningKey,
      { userId: user.id, operatorId: user.operator_id, sessionId: session.id, role: user.role },
      origin.now,
      deps.accessTokenTtlS,
    );
    return { accessToken, refreshToken, expiresInS: deps.accessTokenTtlS, tokenType: 'Bearer' as const };
  });
  return { ok: true, tokens, userId: user.id };
}

async function recordFailure(db: Kysely<Database>, userId: string, operatorId: string, origin: Origin) {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('users')
      .set((eb) => ({ failed_sign_ins: eb('failed_sign_ins', '+', 1) }))
      .where('id', '=', userId)
      .returning('failed_sign_ins')
      .executeTakeFirstOrThrow();
    if (row.failed_sign_ins < MAX_FAILED_SIGN_INS) return;
    const lockedUntil = new Date(origin.now.getTime() + LOCKOUT_MS);
    await trx
      .updateTable('users')
      .set({ failed_sign_ins: 0, locked_until: lockedUntil })
      .where('id', '=', userId)
      .execute();
    await appendAudit(trx, {
      operatorId,
      actor: 'system',
      action: 'user.lock',
      subjectType: 'user',
      subjectId: userId,
      after: { lockedUntil: lockedUntil.toISOString(), reason: `${MAX_FAILED_SIGN_INS} wrong passwords` },
      ip: origin.ip,
      requestId: origin.requestId,
      at: origin.now,
    });
  });
}

async function insertRefreshToken(
  db: Kysely<Database>,
  sessionId: string,
  expiresAt: Date,
  now: Date,
): Promise<string> {
  const token = `${REFRESH_PREFIX}${randomBytes(32).toString('base64url')}`;
  await db
    .insertInto('refresh_tokens')
    .values({ token_hash: hashToken(token), session_id: sessionId, issued_at: now, expires_at: expiresAt })
    .execute();
  return token;
}

export async function refresh(
  deps: AuthDeps,
  refreshToken: string,
  origin: Origin,
): Promise<{ ok: true; tokens: TokenPair } | AuthFailure> {
  if (!refreshToken.startsWith(REFRESH_PREFIX) || refreshToken.length > 100) {
    return { ok: false, reason: 'invalid-refresh-token' };
  }
  return deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('refresh_tokens as r')
      .innerJoin('auth_sessions as s', 's.id', 'r.session_id')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([
        'r.token_hash',
        'r.used_at',
        'r.expires_at',
        's.id as session_id',
        's.revoked_at',
        's.expires_at as session_expires_at',
        'u.id as user_id',
        'u.operator_id',
        'u.role',
        'u.disabled_at',
      ])
      .where('r.token_hash', '=', hashToken(refreshToken))
      .forUpdate()
      .executeTakeFirst();
    if (!row) return { ok: false as const, reason: 'invalid-refresh-token' as const };
    if (row.used_at) {
      // A used refresh token came back: someone holds a copy. End the sign-in for both holders.
      if (!row.revoked_at) {
        await trx
          .updateTable('auth_sessions')
          .set({ revoked_at: origin.now, revoked_reason: 'refresh-token-reuse' })
          .where('id', '=', row.session_id)
          .execute();
        await appendAudit(trx, {
          operatorId: row.operator_id,
          actor: 'system',
          action: 'auth-session.revoke',
          subjectType: 'auth-session',
          subjectId: row.session_id,
          after: { reason: 'refresh-token-reuse' },
          ip: origin.ip,
          requestId: origin.requestId,
          at: origin.now,
        });
      }
      return { ok: false as const, reason: 'invalid-refresh-token' as const };
    }
    if (row.revoked_at || row.disabled_at || row.expires_at <= origin.now || row.session_expires_at <= origin.now) {
      return { ok: false as const, reason: 'invalid-refresh-token' as const };
    }
    await trx
      .updateTable('refresh_tokens')
      .set({ used_at: origin.now })
      .where('token_hash', '=', row.token_hash)
      .execute();
    const next = await insertRefreshToken(trx, row.session_id, row.session_expires_at, origin.now);
    const accessToken = await issueAccessToken(
      deps.cipher.tokenSigningKey,
      { userId: row.user_id, operatorId: row.operator_id, sessionId: row.session_id, role: row.role },
      origin.now,
      deps.accessTokenTtlS,
    );
    return {
      ok: true as const,
      tokens: { accessToken, refreshToken: next, expiresInS: deps.accessTokenTtlS, tokenType: 'Bearer' as const },
    };
  });
}

/** Ends a sign-in session: its access tokens stop working at once and its refresh tokens are refused. */
export async function signOut(
  db: Kysely<Database>,
  principal: { operatorId: string; userId: string; sessionId: string },
  origin: Origin,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('auth_sessions')
      .set({ revoked_at: origin.now, revoked_reason: 'sign-out' })
      .where('id', '=', principal.sessionId)
      .where('revoked_at', 'is', null)
      .execute();
    await appendAudit(trx, {
      operatorId: principal.operatorId,
      actor: `user:${principal.userId}`,
      action: 'user.sign-out',
      subjectType: 'auth-session',
      subjectId: principal.sessionId,
      ip: origin.ip,
      requestId: origin.requestId,
      at: origin.now,
    });
  });
}
