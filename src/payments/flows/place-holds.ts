/**
 * Holds follow sessions: the worker finds active sessions of card customers without a hold and records the
 * intent to place one (the provider call happens after commit). A provider outage therefore never stops an
 * account customer in good standing from charging: the session starts, and the hold follows when the provider
 * recovers. Ad-hoc payments, whose hold came first, are linked to the session their remote start created.
 */
import { sql } from 'kysely';
import { PAYMENT_ADHOC, SESSION_ACTIVE } from '../../db/partial-index-literals.ts';
import type { PaymentContext } from '../payment-context.ts';
import { enqueueOutbox } from '../worker/outbox-store.ts';
import { renewKey } from '../worker/renew-step.ts';
import { holdAmountMinor } from './hold-amount.ts';

/** Sessions handled per sweep, so one sweep stays short. */
const SWEEP_LIMIT = 200;
/** An ad-hoc hold whose remote start never became a session is released after this long. */
const UNUSED_AD_HOC_HOLD_MS = 10 * 60 * 1000;

export function holdKey(sessionId: string): string {
  return `hold:${sessionId}`;
}

export async function placeMissingHolds(ctx: PaymentContext): Promise<number> {
  const { db } = ctx;
  const now = ctx.clock.now();
  const candidates = await db
    .selectFrom('sessions as s')
    .innerJoin('payment_profiles as pp', 'pp.id_token_id', 's.id_token_id')
    .innerJoin('payment_methods as pm', 'pm.id', 'pp.payment_method_id')
    .leftJoin('payments as p', (join) => join.onRef('p.session_id', '=', 's.id').on('p.kind', '=', 'session'))
    .select([
      's.id as sessionId',
      's.operator_id as operatorId',
      's.id_token_id as idTokenId',
      's.currency',
      'pm.id as methodId',
      'pm.token',
      'pm.provider_customer_id as customerId',
      'pm.provider',
      'pm.status as methodStatus',
      'pp.hold_minor as holdMinor',
    ])
    .where('s.status', '=', SESSION_ACTIVE)
    .where('s.authorization_status', '=', 'Accepted')
    .where('pp.method', '=', 'card')
    .where('pm.provider', '=', ctx.provider.name)
    .where('p.id', 'is', null)
    .limit(SWEEP_LIMIT)
    .execute();
  if (candidates.length === 0) return 0;
  // Every candidate's hold in one statement (it was a transaction of four round trips each: under load, a sweep of
  // 200 candidates kept the worker's pass away from the outbox for 1-3 s, and captures fell behind the stops).
  // The session is locked first, then the payment inserted, as before: a stop locks the session (FOR UPDATE) and
  // then, if no hold was placed yet, inserts the session's payment itself (payment-billing-hook.ts); inserting first
  // would take the payment's unique key and then wait on the stop's session lock for the foreign-key check while the
  // stop waits on that key (a deadlock, measured: 3 in a 15 s paid benchmark). A session a stop holds is skipped,
  // not waited for (SKIP LOCKED): the stop charges it at its end, and a stop that rolls back leaves it running for
  // the next sweep. A session that ended since the candidates were read is left out by the status re-checked under
  // the lock; one whose payment appeared meanwhile by the payment's unique key.
  const rows = candidates.map((c) => ({
    ...c,
    amount: holdAmountMinor(c.holdMinor, ctx.settings.holdMinor, ctx.settings.holdMaxMinor),
  }));
  const placed = await sql<{ id: string }>`
    with c as (
      select * from unnest(${rows.map((r) => r.sessionId)}::uuid[], ${rows.map((r) => r.operatorId)}::uuid[],
                           ${rows.map((r) => r.idTokenId)}::uuid[], ${rows.map((r) => r.methodId)}::uuid[],
                           ${rows.map((r) => r.provider)}::text[], ${rows.map((r) => r.token)}::text[],
                           ${rows.map((r) => r.customerId)}::text[], ${rows.map((r) => r.currency)}::text[],
                           ${rows.map((r) => r.amount.toString())}::int8[], ${rows.map((r) => holdKey(r.sessionId))}::text[])
        as c(session_id, operator_id, id_token_id, method_id, provider, token, customer_id, currency, amount, hold_key)
    ), running as (
      select s.id from sessions s
      where s.id = any(${rows.map((r) => r.sessionId)}::uuid[]) and s.status = ${SESSION_ACTIVE}
      for key share of s skip locked
    ), payment as (
      insert into payments (operator_id, kind, provider, session_id, id_token_id, payment_method_id,
                            payment_method_token, provider_customer_id, currency, requested_minor)
      select c.operator_id, 'session', c.provider, c.session_id, c.id_token_id, c.method_id, c.token, c.customer_id,
             c.currency, c.amount
      from c join running r on r.id = c.session_id
      on conflict (session_id, kind) where session_id is not null do nothing
      returning id, session_id, requested_minor
    )
    insert into payment_outbox (payment_id, action, idempotency_key, amount_minor, next_attempt_at)
    select p.id, 'authorize', c.hold_key, p.requested_minor, ${now.toISOString()}::timestamptz
    from payment p join c on c.session_id = p.session_id
    on conflict (idempotency_key) do nothing
    returning id`.execute(db);
  return placed.rows.length;
}

/** Links ad-hoc payments (hold placed before the remote start) to the session their one-time token started. */
export async function linkAdHocSessions(ctx: PaymentContext): Promise<void> {
  const unlinked = await ctx.db
    .selectFrom('payments as p')
    .innerJoin('sessions as s', 's.id_token_id', 'p.id_token_id')
    .select(['p.id as paymentId', 's.id as sessionId'])
    .where('p.kind', '=', PAYMENT_ADHOC)
    .where('p.session_id', 'is', null)
    // Running sessions only (a session that ended first is linked by its stop: payment-billing-hook.ts), read from
    // their partial index, so that the sweep does not join every session ever held.
    .where('s.status', '=', SESSION_ACTIVE)
    .limit(SWEEP_LIMIT)
    .execute();
  for (const u of unlinked) {
    await ctx.db
      .updateTable('payments')
      .set({ session_id: u.sessionId, updated_at: ctx.clock.now() })
      .where('id', '=', u.paymentId)
      .where('session_id', 'is', null)
      .execute();
  }
}

/**
 * Every hold is captured or released well before it expires (settings.releaseBeforeExpiryMs, 12 h by default).
 * A saved-card session hold whose session is still running is renewed in place first (worker/renew-step.ts: a new
 * hold, then the old one voided), one lead time earlier (24 h before expiry by default), so it never reaches the
 * release horizon. A hold that cannot be renewed (an ad-hoc one-time card, a renewal the card refused) is released
 * at the horizon; the session's end then charges the amount anew (the driver's bill is never capped or forgotten).
 */
export async function releaseExpiringHolds(ctx: PaymentContext): Promise<number> {
  const now = ctx.clock.now();
  const horizon = new Date(now.getTime() + ctx.settings.releaseBeforeExpiryMs);
  const renewHorizon = new Date(now.getTime() + 2 * ctx.settings.releaseBeforeExpiryMs);
  const renewable = await ctx.db
    .selectFrom('payments as p')
    .innerJoin('sessions as s', 's.id', 'p.session_id')
    .select(['p.id', 'p.provider_payment_id', 'p.authorized_minor'])
    .where('p.status', '=', 'authorized')
    .where('p.kind', '=', 'session')
    .where('p.payment_method_id', 'is not', null)
    .where('p.provider_payment_id', 'is not', null)
    .where('p.hold_expires_at', '<=', renewHorizon)
    .where('p.hold_expires_at', '>', horizon)
    .where('p.provider', '=', ctx.provider.name)
    .where('s.status', '=', SESSION_ACTIVE)
    // A hold renewed within the last lead time is not renewed again: with a provider whose holds live shorter than
    // two lead times, renewing would not gain time, only churn holds; the release sweep takes over instead.
    .where((eb) =>
      eb.or([
        eb('p.renewed_from_provider_payment_id', 'is', null),
        eb('p.updated_at', '<=', new Date(now.getTime() - ctx.settings.releaseBeforeExpiryMs)),
      ]),
    )
    .limit(SWEEP_LIMIT)
    .execute();
  for (const p of renewable) {
    await enqueueOutbox(ctx.db, {
      paymentId: p.id,
      action: 'renew',
      idempotencyKey: renewKey(p.id, p.provider_payment_id!),
      amountMinor: p.authorized_minor,
      notBefore: now,
    });
  }
  const expiring = await ctx.db
    .selectFrom('payments')
    .select(['id'])
    .where('status', '=', 'authorized')
    .where('hold_expires_at', '<=', horizon)
    .where('provider', '=', ctx.provider.name)
    .limit(SWEEP_LIMIT)
    .execute();
  // An ad-hoc hold whose session never started (the driver walked away) is released after ten minutes.
  const unused = await ctx.db
    .selectFrom('payments')
    .select(['id'])
    .where('kind', '=', 'adhoc')
    .where('status', '=', 'authorized')
    .where('session_id', 'is', null)
    .where('created_at', '<=', new Date(now.getTime() - UNUSED_AD_HOC_HOLD_MS))
    .limit(SWEEP_LIMIT)
    .execute();
  let released = 0;
  for (const p of [...expiring, ...unused]) {
    if (
      await enqueueOutbox(ctx.db, {
        paymentId: p.id,
        action: 'void',
        idempotencyKey: `release:${p.id}`,
        notBefore: now,
      })
    )
      released++;
  }
  return released;
}
