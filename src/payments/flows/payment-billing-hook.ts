/**
 * The payments billing hook, run in the stop's transaction after the billing decision. It only records intent
 * (never calls a provider inside a database transaction): card and ad-hoc sessions with a hold get a `settle` item
 * in the outbox with the exact invoice total, a card session that ended before its hold was placed a `charge` of
 * that total; a wallet session is debited here, in the same transaction, because the
 * wallet is Voltbill's own money and needs no provider. Contract customers (method 'invoice') wait for their
 * monthly statement. A session that is Held for review keeps its hold until it is released or settled.
 */
import { type Kysely, sql } from 'kysely';
import type { BillingHook } from '../../billing/billing-hooks.ts';
import { sharedInvoiceId } from '../../billing/billing-shared.ts';
import { PAYMENT_ADHOC } from '../../db/partial-index-literals.ts';
import { queryTemplate } from '../../db/query-template.ts';
import type { Database, SessionRow } from '../../db/schema.ts';
import { assert } from '../../shared/assert.ts';
import { recordDecision } from '../apply-provider-payment.ts';
import { bookWalletDebit } from '../payment-ledger.ts';

export function createPaymentBillingHook(): BillingHook {
  return async (trx, { session, outcome, now, shared }) => {
    if (outcome.status === 'Held') return;
    const due = outcome.status === 'Billed' ? outcome.inclVat.minor : 0n;
    // billSession read the token with its payment profile already (billing-shared.ts) when the session was priced.
    const profile = session.id_token_id
      ? shared.paymentProfile !== undefined
        ? (shared.paymentProfile ?? undefined)
        : await trx
            .selectFrom('payment_profiles')
            .selectAll()
            .where('id_token_id', '=', session.id_token_id)
            .executeTakeFirst()
      : undefined;
    const hold = await findHoldPayment(trx, session);
    if (!hold && !profile) return;
    // The invoice hook (earlier in the same transaction) knows the session's invoice.
    const invoiceId = await sharedInvoiceId(trx, shared, session.id);

    if (!hold && profile?.method === 'wallet' && profile.wallet_id) {
      if (due > 0n) await debitWallet(trx, session, profile.wallet_id, due, invoiceId, now);
      return;
    }
    if (!hold && profile?.method !== 'card') return;

    if (!hold) {
      // The session ended before its hold was placed (provider outage, or a very short session): charge at the end.
      // No hold means nothing to capture: the worker charges the whole amount at once (authorize and capture, under
      // the key a settle step would have given it), one worker step instead of a settle that only finds no hold and
      // then queues this charge. A concurrent hold sweep cannot place a hold meanwhile: it locks the session first
      // (place-holds.ts), which this stop holds FOR UPDATE, and its insert would take the same unique key.
      const created = await chargeWithoutHold(trx, session, profile!.payment_method_id!, due, invoiceId, now);
      if (created) return;
    }
    const paymentId = (hold ?? (await findHoldPayment(trx, session)))?.id;
    if (!paymentId) return;
    // The amount due on the payment and the intent to settle it: one statement (one round trip of the stop).
    const key = invoiceId ? `capture:${invoiceId}` : `capture:session:${session.id}`;
    await sql`
      with due as (
        update payments set due_minor = ${due}::int8, invoice_id = ${invoiceId}::uuid, updated_at = ${now}
        where id = ${paymentId}::uuid
        returning id
      )
      insert into payment_outbox (payment_id, action, idempotency_key, amount_minor, next_attempt_at)
      select id, 'settle', ${key}, ${due}::int8, ${now} from due
      on conflict (idempotency_key) do nothing`.execute(trx);
  };
}

/**
 * The session's payment, created at its end from the token's saved card, and (for a total above zero) its charge
 * queued under the key "charge:<paymentId>", as a settle that finds no hold would queue it: one statement. Returns
 * false when the session has a payment already (its unique key), which the caller then settles instead.
 */
async function chargeWithoutHold(
  trx: Kysely<Database>,
  session: SessionRow,
  paymentMethodId: string,
  due: bigint,
  invoiceId: string | null,
  now: Date,
): Promise<boolean> {
  const result = await sql<{ methods: number; created: string | null }>`
    with method as (
      select id, provider, token, provider_customer_id from payment_methods where id = ${paymentMethodId}::uuid
    ), created as (
      insert into payments (operator_id, kind, provider, session_id, id_token_id, payment_method_id,
                            payment_method_token, provider_customer_id, currency, requested_minor, due_minor,
                            invoice_id)
      select ${session.operator_id}::uuid, 'session', method.provider, ${session.id}::uuid,
             ${session.id_token_id}::uuid, method.id, method.token, method.provider_customer_id, ${session.currency},
             ${due}::int8, ${due}::int8, ${invoiceId}::uuid
      from method
      on conflict (session_id, kind) where session_id is not null do nothing
      returning id
    ), charge as (
      insert into payment_outbox (payment_id, action, idempotency_key, amount_minor, next_attempt_at)
      select id, 'charge', 'charge:' || id::text, ${due}::int8, ${now} from created where ${due}::int8 > 0
      on conflict (idempotency_key) do nothing
    )
    select (select count(*) from method)::int as methods, (select id from created) as created`.execute(trx);
  const row = result.rows[0];
  // The payment profile names the card (foreign key): a missing one is a broken invariant, not a driver's error.
  assert(row !== undefined && row.methods === 1, `payment method ${paymentMethodId} of a payment profile not found`);
  return row.created !== null;
}

/**
 * findHoldPayment's statement, built once for each case (src/db/query-template.ts): every billed stop runs one. A
 * session without a token has no ad-hoc payment to claim.
 */
const holdPaymentQuery = queryTemplate('findHoldPayment', ['sessionId'], (db, p: { sessionId: string }) =>
  db
    .selectFrom('payments')
    .selectAll()
    .where((eb) => eb.or([eb.and([eb('session_id', '=', p.sessionId), eb('kind', 'in', ['session', 'adhoc'])])]))
    .orderBy('created_at'),
);
const holdOrAdHocPaymentQuery = queryTemplate(
  'findHoldPayment with ad hoc',
  ['sessionId', 'idTokenId'],
  (db, p: { sessionId: string; idTokenId: string }) =>
    db
      .selectFrom('payments')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('session_id', '=', p.sessionId), eb('kind', 'in', ['session', 'adhoc'])]),
          eb.and([eb('kind', '=', PAYMENT_ADHOC), eb('id_token_id', '=', p.idTokenId), eb('session_id', 'is', null)]),
        ]),
      )
      .orderBy('created_at'),
);

/**
 * The session's own payment (the earliest, kind session or adhoc), else an ad-hoc payment of its token whose session
 * the worker has not linked yet (then linked here). One statement reads both candidates.
 */
async function findHoldPayment(trx: Kysely<Database>, session: SessionRow) {
  // 'adhoc' as a literal: the generic plan of this prepared statement can then read the partial index of ad-hoc
  // payments by token (payments_token) instead of every payment ever made.
  const idTokenId = session.id_token_id;
  const candidates = idTokenId
    ? await holdOrAdHocPaymentQuery.rows(trx, { sessionId: session.id, idTokenId })
    : await holdPaymentQuery.rows(trx, { sessionId: session.id });
  const linked = candidates.find((p) => p.session_id === session.id);
  if (linked || !idTokenId) return linked;
  const adHoc = candidates.find((p) => p.session_id === null);
  if (!adHoc) return undefined;
  await trx.updateTable('payments').set({ session_id: session.id }).where('id', '=', adHoc.id).execute();
  return { ...adHoc, session_id: session.id };
}

/**
 * Debits the wallet by what the session cost, never below zero (row lock + check constraint). What the balance
 * does not cover stays a receivable and is recorded as a decision for follow-up.
 */
async function debitWallet(
  trx: Kysely<Database>,
  session: SessionRow,
  walletId: string,
  due: bigint,
  invoiceId: string | null,
  now: Date,
): Promise<void> {
  const wallet = await trx
    .selectFrom('wallets')
    .selectAll()
    .where('id', '=', walletId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (wallet.currency !== session.currency) {
    await recordDecision(
      trx,
      { operator_id: session.operator_id, id: session.id },
      'wallet-currency-mismatch',
      `wallet is ${wallet.currency}`,
      now,
      'session',
    );
    return;
  }
  const debit = due < wallet.balance_minor ? due : wallet.balance_minor;
  const payment = await trx
    .insertInto('payments')
    .values({
      operator_id: session.operator_id,
      kind: 'wallet_debit',
      provider: 'wallet',
      session_id: session.id,
      id_token_id: session.id_token_id,
      payment_method_id: null,
      wallet_id: walletId,
      payment_method_token: null,
      provider_customer_id: null,
      provider_payment_id: null,
      currency: session.currency,
      requested_minor: due,
      captured_minor: debit,
      authorized_minor: debit,
      due_minor: due,
      invoice_id: invoiceId,
      status: debit === due ? 'captured' : 'failed',
      failure_code: debit === due ? null : 'InsufficientWalletBalance',
      hold_expires_at: null,
      station_id: null,
      evse_id: null,
    })
    .onConflict((oc) => oc.columns(['session_id', 'kind']).where('session_id', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!payment) return;
  if (debit > 0n) {
    await trx
      .insertInto('wallet_entries')
      .values({
        wallet_id: walletId,
        kind: 'session_debit',
        amount_minor: -debit,
        idempotency_key: `wallet-debit:${session.id}`,
        session_id: session.id,
        payment_id: payment.id,
      })
      .execute();
    await trx
      .updateTable('wallets')
      .set((eb) => ({ balance_minor: eb('balance_minor', '-', debit) }))
      .where('id', '=', walletId)
      .execute();
    const booked = await bookWalletDebit(trx, {
      operatorId: session.operator_id,
      currency: session.currency,
      walletId,
      sessionId: session.id,
      invoiceId,
      amountMinor: debit,
      at: now,
    });
    if (!booked.ok) throw new Error(`wallet debit could not be booked: ${booked.message}`);
  }
  if (debit < due) {
    await recordDecision(
      trx,
      { operator_id: session.operator_id, id: session.id },
      'wallet-short',
      `wallet covered ${debit} of ${due}`,
      now,
      'session',
    );
  }
}
