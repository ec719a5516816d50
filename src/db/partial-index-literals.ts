import { sql } from 'kysely';

/**
 * Values of partial-index predicates, written into the SQL text instead of sent as parameters: PostgreSQL can use a
 * partial index in the generic plan of a prepared statement (which the pool's statements become, see
 * prepared-statements.ts) only when the query names the predicate's value itself. Constants, so the literals are safe.
 */

/** `status = 'Active'` of sessions: sessions_active_evse and sessions_active_id_tag (migration 0016). */
export const SESSION_ACTIVE = sql.lit('Active' as const);

/** `kind = 'adhoc'` of payments: payments_token (migration 0006). */
export const PAYMENT_ADHOC = sql.lit('adhoc' as const);

/** `scope = ...` of tariff assignments: one partial unique index per scope (migration 0001). */
export const TARIFF_SCOPE = {
  operator: sql.lit('operator' as const),
  location: sql.lit('location' as const),
  evse: sql.lit('evse' as const),
  group: sql.lit('group' as const),
};
