/**
 * The authorization decision for an idTag presented at a station, as a pure function of the stored token, the
 * time and whether the token is already charging elsewhere. Unknown tokens are Invalid: fraud with a made-up card
 * gets nothing.
 */
import type { IdTokenStatus } from '../db/schema.ts';

export type AuthorizationStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';

export type StoredToken = { readonly status: IdTokenStatus; readonly expiresAt: Date | null };

export type AuthorizationDecision = { readonly status: AuthorizationStatus; readonly expiresAt?: Date };

export function authorizeIdTag(
  token: StoredToken | undefined,
  at: Date,
  chargingElsewhere: boolean,
): AuthorizationDecision {
  if (!token) return { status: 'Invalid' };
  if (token.status === 'Blocked') return { status: 'Blocked' };
  if (token.status === 'Invalid') return { status: 'Invalid' };
  if (token.status === 'Expired' || (token.expiresAt !== null && token.expiresAt.getTime() <= at.getTime())) {
    return { status: 'Expired' };
  }
  if (chargingElsewhere) return { status: 'ConcurrentTx' };
  return token.expiresAt ? { status: 'Accepted', expiresAt: token.expiresAt } : { status: 'Accepted' };
}
