/**
 * Carries out one claimed outbox item: calls the provider under the item's idempotency key (no database
 * transaction is open during the call), checks the answer against the expected amount and currency, and records
 * the outcome in one short transaction. An unknown outcome (timeout, 5xx, lost response) is resolved by asking the
 * provider for the status under the same key; what is still unknown is retried later with backoff, then dunning.
 */
import type { Kysely } from 'kysely';
import { issueCreditNote } from '../../billing/invoices/issue-credit-note.ts';
import type { Database, PaymentOutboxRow, PaymentRow } from '../../db/schema.ts';
import type { CurrencyCode, Money } from '../../shared/money.ts';
import type { Result } from '../../shared/result.ts';
import { applyProviderPayment, recordDecision } from '../apply-provider-payment.ts';
import { notifyDunning, notifyTokensBlocked } from '../flows/dunning-notices.ts';
import type { PaymentContext } from '../payment-context.ts';
import { bookRefund } from '../payment-ledger.ts';
import {
  CARD_FATAL_CODES,
  PROVIDER_SIDE_CODES,
  type ProviderError,
  type ProviderPayment,
  UNKNOWN_OUTCOME_CODES,
} from '../provider.ts';
import { openProviderCustomerId } from '../provider-customer-id.ts';
import { rateLimitedDelayMs, retryDelayMs, STEP_MAX_AGE_MS } from './backoff.ts';
import {
  type ClaimedOutboxItem,
  enqueueOutbox,
  finishOutboxItem,
  markLeaseEndedInStep,
  retryOutboxItem,
} from './outbox-store.ts';
import { RELEASE_NOT_DONE, releaseStep } from './release-step.ts';
import { renewStep } from './renew-step.ts';

export type StepOutcome = 'done' | 'failed' | 'retry' | 'waiting';

type Resolved =
  | { kind: 'ok'; payment: ProviderPayment }
  | { kind: 'unknown'; error: ProviderError }
  | { kind: 'error'; error: ProviderError };

/**
 * Works one claimed step with the payment row its claim returned. Every way out finishes the item or puts it back;
 * the caller then ends the payment's lease (`releasePaymentLease`).
 */
export async function processOutboxItem(ctx: PaymentContext, item: ClaimedOutboxItem): Promise<StepOutcome> {
  const { payment } = item;
  switch (item.action) {
    case 'authorize':
      return authorizeStep(ctx, item, payment, { thenCapture: false });
    case 'charge':
      return authorizeStep(ctx, item, payment, { thenCapture: true });
    case 'settle':
      return settleStep(ctx, item, payment);
    case 'void':
      return voidStep(ctx, item, payment);
    case 'refund':
      return refundStep(ctx, item, payment);
    case 'renew':
      return renewStep(ctx, item, payment);
    case 'release':
      return releaseStep(ctx, item, payment);
  }
}

const moneyOf = (payment: PaymentRow, minor: bigint): Money => ({
  minor,
  currency: payment.currency as CurrencyCode,
});

/** Calls the provider; an unknown outcome is resolved by a status query under the same key. */
export async function callResolved(
  ctx: PaymentContext,
  call: () => Promise<Result<ProviderPayment, ProviderError>>,
  query: { idempotencyKey: string; providerPaymentId?: string },
  done: (payment: ProviderPayment) => boolean,
): Promise<Resolved> {
  const result = await call();
  if (result.ok) return { kind: 'ok', payment: result.value };
  // Refused for the rate before processing: nothing to ask about (a status query would be refused too); retried.
  if (result.error.code === 'RateLimited') return { kind: 'unknown', error: result.error };
  if (!UNKNOWN_OUTCOME_CODES.has(result.error.code)) return { kind: 'error', error: result.error };
  const status = await ctx.provider.getStatus(query);
  if (status.ok && done(status.value)) return { kind: 'ok', payment: status.value };
  // The status query refused for the rate: the call's outcome is as open as before, and the provider's rate is not a
  // reason to spend an attempt (the retry goes under the same key and asks again first).
  if (!status.ok && status.error.code === 'RateLimited') return { kind: 'unknown', error: status.error };
  return { kind: 'unknown', error: result.error };
}

export async function retryLater(
  ctx: PaymentContext,
  item: PaymentOutboxRow,
  payment: PaymentRow,
  error: ProviderError,
) {
  const now = ctx.clock.now();
  const ageMs = now.getTime() - item.created_at.getTime();
  const rateLimited = error.code === 'RateLimited';
  // The provider's rate, not the card or the payment: no attempt spent, so a burst of 429s never ends in dunning.
  // The wait grows with the step's age (a burst clears in seconds; a step refused for minutes asks less often).
  const delayMs = rateLimited
    ? rateLimitedDelayMs(ageMs, ctx.settings.retryBaseMs)
    : retryDelayMs(item.attempts, ctx.settings.retryBaseMs);
  // Never sent again once its key may be forgotten: a retry past STEP_MAX_AGE_MS could move money a second time.
  const tooOld = ageMs + delayMs > STEP_MAX_AGE_MS;
  if (rateLimited && !tooOld) {
    await retryOutboxItem(ctx.db, item, new Date(now.getTime() + delayMs), now, `${error.code}: ${error.message}`, {
      countAttempt: false,
    });
    return 'retry' as const;
  }
  // Given up: its attempts spent, or its age (the card is not blamed for the provider's trouble: PROVIDER_SIDE_CODES).
  if (item.attempts >= ctx.settings.maxAttempts || tooOld) {
    await ctx.db.transaction().execute(async (trx) => {
      await finishOutboxItem(trx, item, 'failed', now, `${error.code}: ${error.message}`);
      await giveUp(trx, ctx, payment, item, error.code, now);
    });
    return 'failed' as const;
  }
  await retryOutboxItem(ctx.db, item, new Date(now.getTime() + delayMs), now, `${error.code}: ${error.message}`);
  return 'retry' as const;
}

/** Money-moving steps that cannot succeed any more: the payment fails and (for what the driver owes) dunning starts. */
async function giveUp(
  trx: Kysely<Database>,
  ctx: PaymentContext,
  payment: PaymentRow,
  item: PaymentOutboxRow,
  code: string,
  now: Date,
): Promise<void> {
  // A hold that is no longer the payment's own: the payment, its card and its driver are not concerned. The hold
  // lapses at the provider by itself; support sees why it was not released.
  if (item.action === 'release') {
    await recordDecision(trx, payment, RELEASE_NOT_DONE, `${item.provider_payment_id}: ${code}`, now);
    return;
  }
  await trx.updateTable('payments').set({ failure_code: code, updated_at: now }).where('id', '=', payment.id).execute();
  await trx
    .updateTable('payments')
    .set({ status: 'failed' })
    .where('id', '=', payment.id)
    .where('status', 'in', ['pending', 'requires_authentication'])
    .execute();
  await recordDecision(trx, payment, `${item.action}-failed`, code, now);
  // A provider that could not be reached or did not answer (an outage, timeouts) says nothing about the card: the
  // payment still fails once its retries are spent, but the card keeps its standing. Counted, a few minutes of the
  // provider's trouble would block every card that had three sessions in them.
  if (payment.payment_method_id && !PROVIDER_SIDE_CODES.has(code as ProviderError['code'])) {
    const method = await trx
      .updateTable('payment_methods')
      .set((eb) => ({ failure_count: eb('failure_count', '+', 1) }))
      .where('id', '=', payment.payment_method_id)
      .returning(['id', 'failure_count', 'status'])
      .executeTakeFirst();
    // A card that cannot succeed (expired, closed, declined) or keeps failing is blocked for new sessions.
    const fatal = CARD_FATAL_CODES.has(code as ProviderError['code']);
    if (method && method.status === 'active' && (fatal || method.failure_count >= ctx.settings.blockAfterFailures)) {
      await trx
        .updateTable('payment_methods')
        .set({ status: 'blocked', blocked_reason: code })
        .where('id', '=', method.id)
        .execute();
      await recordDecision(
        trx,
        { operator_id: payment.operator_id, id: method.id },
        'card-blocked',
        code,
        now,
        'payment_method',
      );
      await notifyTokensBlocked(trx, {
        operatorId: payment.operator_id,
        paymentMethodId: method.id,
        reason: code,
        now,
      });
    }
  }
  // What the driver owes (a charge or capture at the end) goes to dunning: notified, with a link to pay.
  // A failed dunning payment (the driver's own attempt through the pay link) is told to the driver at once instead.
  if ((item.action === 'charge' || item.action === 'settle') && payment.kind !== 'dunning') {
    const owedMinor = (payment.due_minor ?? payment.requested_minor) - payment.captured_minor;
    const opened = await trx
      .insertInto('payment_dunning')
      .values({
        payment_id: payment.id,
        operator_id: payment.operator_id,
        failure_code: code,
        notified_at: now,
        resolved_at: null,
        amount_minor: owedMinor,
        currency: payment.currency,
      })
      .onConflict((oc) => oc.column('payment_id').doNothing())
      .returning('payment_id')
      .executeTakeFirst();
    if (opened) await notifyDunning(trx, payment, owedMinor, code, now);
    ctx.logger.warn({ paymentId: payment.id, code }, 'payment failed after retries: driver notified with a pay link');
  }
}

async function authorizeStep(
  ctx: PaymentContext,
  item: PaymentOutboxRow,
  payment: PaymentRow,
  options: { thenCapture: boolean },
): Promise<StepOutcome> {
  const { provider } = ctx;
  let current = payment;
  if (current.status === 'pending') {
    if (!current.payment_method_token) {
      await finishAndFail(ctx, item, current, 'NoPaymentMethod');
      return 'failed';
    }
    const amount = moneyOf(current, current.requested_minor);
    const token = current.payment_method_token;
    // Stored sealed; opened only for the call (the payment row keeps the sealed text).
    const customerId = await openProviderCustomerId(ctx.cipher, current.provider_customer_id);
    const resolved = await callResolved(
      ctx,
      () =>
        provider.authorize({
          idempotencyKey: item.idempotency_key,
          ...(customerId && { customerId }),
          paymentMethodToken: token,
          amount,
          description: `Voltbill ${current.kind} ${current.id}`,
        }),
      { idempotencyKey: item.idempotency_key },
      (p) => p.status === 'authorized' || p.status === 'captured',
    );
    if (resolved.kind === 'unknown') return retryLater(ctx, item, current, resolved.error);
    if (resolved.kind === 'error') return authorizationRefused(ctx, item, current, resolved.error);
    const got = resolved.payment;
    if (got.currency !== current.currency || (got.status === 'authorized' && got.authorizedMinor !== amount.minor)) {
      await finishAndFail(ctx, item, current, 'AmountMismatch', `provider held ${got.authorizedMinor} ${got.currency}`);
      return 'failed';
    }
    // A charge goes on to capture: the authorization alone is one statement (the provider's report merged into the
    // row), with nothing to book, so it needs no transaction of its own (a BEGIN and a COMMIT, two round trips, on
    // every paid session). Anything captured or refunded already is booked with it, in a transaction as before.
    const applied =
      options.thenCapture && got.status === 'authorized' && got.capturedMinor === 0n && got.refundedMinor === 0n
        ? await applyProviderPayment(ctx.db, current.id, got, ctx.clock.now())
        : await ctx.db.transaction().execute(async (trx) => {
            const outcome = await applyProviderPayment(trx, current.id, got, ctx.clock.now());
            if (!options.thenCapture) await finishOutboxItem(trx, item, 'done', ctx.clock.now());
            return outcome;
          });
    if (!applied.applied) {
      await finishAndFail(ctx, item, current, applied.reason);
      return 'failed';
    }
    if (!options.thenCapture) return 'done';
    current = applied.payment;
  }
  if (!options.thenCapture) {
    await finishOutboxItem(ctx.db, item, 'done', ctx.clock.now());
    return 'done';
  }
  if (current.status === 'authorized') {
    const amount = moneyOf(current, current.requested_minor);
    return captureAndFinish(ctx, item, current, `${item.idempotency_key}:capture`, amount);
  }
  if (current.captured_minor > 0n) {
    await finishOutboxItem(ctx.db, item, 'done', ctx.clock.now());
    return 'done';
  }
  await finishAndFail(ctx, item, current, current.failure_code ?? `payment is ${current.status}`);
  return 'failed';
}

async function authorizationRefused(
  ctx: PaymentContext,
  item: PaymentOutboxRow,
  payment: PaymentRow,
  error: ProviderError,
): Promise<StepOutcome> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('payments')
      .set({
        status: error.code === 'AuthenticationRequired' ? 'requires_authentication' : 'failed',
        failure_code: error.code,
        ...(error.providerPaymentId && { provider_payment_id: error.providerPaymentId }),
        updated_at: now,
      })
      .where('id', '=', payment.id)
      .where('status', '=', 'pending')
      .execute();
    await finishOutboxItem(trx, item, 'failed', now, `${error.code}: ${error.message}`);
    await giveUp(trx, ctx, payment, item, error.code, now);
  });
  return 'failed';
}

async function captureAndFinish(
  ctx: PaymentContext,
  item: PaymentOutboxRow,
  payment: PaymentRow,
  key: string,
  amount: Money,
  after?: (trx: Kysely<Database>) => Promise<void>,
): Promise<StepOutcome> {
  const providerPaymentId = payment.provider_payment_id!;
  const resolved = await callResolved(
    ctx,
    () => ctx.provider.capture({ idempotencyKey: key, providerPaymentId, amount }),
    { idempotencyKey: key, providerPaymentId },
    (p) => p.capturedMinor > 0n,
  );
  if (resolved.kind === 'unknown') return retryLater(ctx, item, payment, resolved.error);
  if (resolved.kind === 'error') {
    if (resolved.error.code === 'HoldExpired' || resolved.error.code === 'InvalidState') {
      // The hold is gone (expired or released): learn its state, then charge the amount anew.
      const status = await ctx.provider.getStatus({ idempotencyKey: key, providerPaymentId });
      // Not learnt (the provider unreachable, or its rate): "InvalidState" may mean captured already, so nothing is
      // charged anew on a guess; the step is retried and asks again.
      if (!status.ok && PROVIDER_SIDE_CODES.has(status.error.code)) {
        return retryLater(ctx, item, payment, status.error);
      }
      await ctx.db.transaction().execute(async (trx) => {
        if (status.ok) await applyProviderPayment(trx, payment.id, status.value, ctx.clock.now());
        const fresh = await trx
          .selectFrom('payments')
          .selectAll()
          .where('id', '=', payment.id)
          .executeTakeFirstOrThrow();
        if (fresh.captured_minor === 0n && payment.kind !== 'extra')
          await createExtraCharge(trx, ctx, fresh, amount.minor);
        await finishOutboxItem(
          trx,
          item,
          fresh.captured_minor > 0n ? 'done' : 'failed',
          ctx.clock.now(),
          resolved.error.code,
        );
        if (fresh.captured_minor === 0n && payment.kind === 'extra')
          await giveUp(trx, ctx, fresh, item, resolved.error.code, ctx.clock.now());
      });
      return 'done';
    }
    if (UNKNOWN_OUTCOME_CODES.has(resolved.error.code)) {
      return retryLater(ctx, item, payment, resolved.error);
    }
    await ctx.db.transaction().execute(async (trx) => {
      await finishOutboxItem(trx, item, 'failed', ctx.clock.now(), `${resolved.error.code}: ${resolved.error.message}`);
      await giveUp(trx, ctx, payment, item, resolved.error.code, ctx.clock.now());
    });
    return 'failed';
  }
  const got = resolved.payment;
  if (got.currency !== payment.currency || got.capturedMinor !== amount.minor) {
    await finishAndFail(ctx, item, payment, 'AmountMismatch', `provider captured ${got.capturedMinor} ${got.currency}`);
    return 'failed';
  }
  const applied = await ctx.db.transaction().execute(async (trx) => {
    // One statement: the capture applied, the lease ended (the transaction's only update of the payment row) and
    // the item finished. Then its ledger transfer (inside apply) and the settle's extra charge, if any.
    const outcome = await applyProviderPayment(trx, payment.id, got, ctx.clock.now(), {
      endLease: item.locked_until,
      finishItem: { item, now: ctx.clock.now() },
    });
    if (after) await after(trx);
    return outcome;
  });
  // A report the merge refused (another provider payment) updated no row, so the lease is still on: the release
  // after commit ends it, as for every other step.
  if (applied.applied && applied.payment.outbox_lease_until === null) markLeaseEndedInStep(item);
  return 'done';
}

/** Puts a step back for another look within a second, without spending an attempt: an earlier step must end first. */
async function waitForEarlierStep(ctx: PaymentContext, item: PaymentOutboxRow, reason: string): Promise<StepOutcome> {
  const now = ctx.clock.now();
  const at = new Date(now.getTime() + Math.min(ctx.settings.retryBaseMs, 1000));
  await retryOutboxItem(ctx.db, item, at, now, reason, { countAttempt: false });
  return 'waiting';
}

/** Captures exactly what is due from the session's hold and releases the rest; charges anew what the hold lacks. */
async function settleStep(ctx: PaymentContext, item: PaymentOutboxRow, payment: PaymentRow): Promise<StepOutcome> {
  const due = item.amount_minor ?? 0n;
  const now = ctx.clock.now();
  if (payment.captured_minor > 0n) {
    await finishOutboxItem(ctx.db, item, 'done', now);
    return 'done';
  }
  if (payment.status === 'pending') {
    const authorizing = await ctx.db
      .selectFrom('payment_outbox')
      .select('id')
      .where('payment_id', '=', payment.id)
      .where('action', '=', 'authorize')
      .where('status', '=', 'pending')
      .executeTakeFirst();
    // The hold is still being placed (or retried): settle after it.
    if (authorizing) return waitForEarlierStep(ctx, item, 'waiting for the hold');
  }
  if (due === 0n) {
    if (payment.status === 'authorized' || payment.status === 'requires_authentication') {
      return voidStep(ctx, item, payment);
    }
    await finishOutboxItem(ctx.db, item, 'done', now);
    return 'done';
  }
  if (payment.status === 'authorized') {
    const amount = due < payment.authorized_minor ? due : payment.authorized_minor;
    const rest = due - amount;
    return captureAndFinish(ctx, item, payment, item.idempotency_key, moneyOf(payment, amount), async (trx) => {
      // Never cap a driver's bill at the hold: what the hold does not cover is charged as a new payment.
      if (rest > 0n) await createExtraCharge(trx, ctx, payment, rest);
    });
  }
  // No usable hold (never placed, refused, expired or released): charge the whole amount anew.
  await ctx.db.transaction().execute(async (trx) => {
    if (payment.status === 'pending' && !payment.provider_payment_id) {
      await trx
        .updateTable('payments')
        .set({ requested_minor: due, updated_at: now })
        .where('id', '=', payment.id)
        .execute();
      await enqueueOutbox(trx, {
        paymentId: payment.id,
        action: 'charge',
        idempotencyKey: `charge:${payment.id}`,
        amountMinor: due,
        notBefore: now,
      });
    } else await createExtraCharge(trx, ctx, payment, due);
    await finishOutboxItem(trx, item, 'done', now);
  });
  return 'done';
}

export async function createExtraCharge(
  trx: Kysely<Database>,
  ctx: PaymentContext,
  payment: PaymentRow,
  amountMinor: bigint,
): Promise<void> {
  const now = ctx.clock.now();
  const extra = await trx
    .insertInto('payments')
    .values({
      operator_id: payment.operator_id,
      kind: 'extra',
      provider: payment.provider,
      session_id: payment.session_id,
      id_token_id: payment.id_token_id,
      payment_method_id: payment.payment_method_id,
      wallet_id: null,
      payment_method_token: payment.payment_method_token,
      provider_customer_id: payment.provider_customer_id,
      provider_payment_id: null,
      currency: payment.currency,
      requested_minor: amountMinor,
      due_minor: amountMinor,
      invoice_id: payment.invoice_id,
      hold_expires_at: null,
      failure_code: null,
      station_id: null,
      evse_id: null,
    })
    .onConflict((oc) => oc.columns(['session_id', 'kind']).where('session_id', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!extra) return;
  await enqueueOutbox(trx, {
    paymentId: extra.id,
    action: 'charge',
    idempotencyKey: `charge:${extra.id}`,
    amountMinor,
    notBefore: now,
  });
}

async function voidStep(ctx: PaymentContext, item: PaymentOutboxRow, payment: PaymentRow): Promise<StepOutcome> {
  const now = ctx.clock.now();
  if (!payment.provider_payment_id || payment.status !== 'authorized') {
    await finishOutboxItem(ctx.db, item, 'done', now);
    return 'done';
  }
  const providerPaymentId = payment.provider_payment_id;
  const resolved = await callResolved(
    ctx,
    () => ctx.provider.void({ idempotencyKey: item.idempotency_key, providerPaymentId }),
    { idempotencyKey: item.idempotency_key, providerPaymentId },
    (p) => p.status === 'voided',
  );
  if (resolved.kind === 'unknown') return retryLater(ctx, item, payment, resolved.error);
  const got = resolved.kind === 'ok' ? resolved.payment : undefined;
  await ctx.db.transaction().execute(async (trx) => {
    if (got) await applyProviderPayment(trx, payment.id, got, ctx.clock.now());
    await finishOutboxItem(
      trx,
      item,
      got ? 'done' : 'failed',
      ctx.clock.now(),
      resolved.kind === 'error' ? resolved.error.code : null,
    );
  });
  return got ? 'done' : 'failed';
}

async function refundStep(ctx: PaymentContext, item: PaymentOutboxRow, payment: PaymentRow): Promise<StepOutcome> {
  // Refunds of one payment go one after another, in the order they were asked for: an unknown outcome is judged by
  // the payment's refunded total below, so an earlier refund whose outcome is still open (put back after a lost
  // response) would make this one look done. The claim's lease covers only a step's run, not its wait for a retry.
  const earlier = await ctx.db
    .selectFrom('payment_outbox')
    .select('id')
    .where('payment_id', '=', payment.id)
    .where('action', '=', 'refund')
    .where('status', '=', 'pending')
    .where('id', '<', item.id)
    .executeTakeFirst();
  if (earlier) return waitForEarlierStep(ctx, item, 'waiting for an earlier refund');
  const amount = moneyOf(payment, item.amount_minor ?? 0n);
  const providerPaymentId = payment.provider_payment_id;
  if (!providerPaymentId) {
    await finishAndFail(ctx, item, payment, 'NotCaptured');
    return 'failed';
  }
  const before = payment.refunded_minor;
  const resolved = await callResolved(
    ctx,
    () => ctx.provider.refund({ idempotencyKey: item.idempotency_key, providerPaymentId, amount }),
    { idempotencyKey: item.idempotency_key, providerPaymentId },
    (p) => p.refundedMinor >= before + amount.minor,
  );
  if (resolved.kind === 'unknown') return retryLater(ctx, item, payment, resolved.error);
  let providerRefundId =
    resolved.kind === 'ok' && 'refundId' in resolved.payment ? String(resolved.payment.refundId) : undefined;
  if (resolved.kind === 'ok' && providerRefundId === undefined && item.refund_id) {
    // Settled by the status query (the refund's answer lost): it says how much is refunded, not by which refund.
    // The refund's own id is asked for apart, for support; the refund is booked whether or not it is found.
    const found = await ctx.provider.findRefund({ idempotencyKey: item.idempotency_key, providerPaymentId });
    if (found.ok && found.value) providerRefundId = found.value.refundId;
    else {
      const why = found.ok ? 'none under its key' : `${found.error.code}: ${found.error.message}`;
      ctx.logger.warn(
        { refundId: item.refund_id, why },
        'a refund settled by a status query: its provider id not found',
      );
    }
  }
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    if (resolved.kind === 'ok') {
      const applied = await applyProviderPayment(trx, payment.id, resolved.payment, now);
      const refund = item.refund_id
        ? await trx.selectFrom('payment_refunds').selectAll().where('id', '=', item.refund_id).executeTakeFirst()
        : undefined;
      if (refund && refund.status === 'pending' && applied.applied) {
        const booked = await bookRefund(
          trx,
          applied.payment,
          { id: refund.id, amountMinor: refund.amount_minor, withCreditNote: refund.with_credit_note },
          now,
        );
        if (!booked.ok) throw new Error(`refund ${refund.id} could not be booked: ${booked.message}`);
        if (refund.with_credit_note && applied.payment.invoice_id) {
          const note = await issueCreditNote(trx, {
            operatorId: payment.operator_id,
            invoiceId: applied.payment.invoice_id,
            reason: refund.reason,
            now,
          });
          const creditNoteId = note.ok
            ? note.value.creditNoteId
            : note.error.code === 'InvoiceAlreadyCredited'
              ? note.error.creditNoteId
              : null;
          await trx
            .updateTable('payment_refunds')
            .set({ credit_note_id: creditNoteId })
            .where('id', '=', refund.id)
            .execute();
        }
      }
    }
    if (item.refund_id) {
      await trx
        .updateTable('payment_refunds')
        .set({
          status: resolved.kind === 'ok' ? 'succeeded' : 'failed',
          ...(providerRefundId !== undefined && { provider_refund_id: providerRefundId }),
        })
        .where('id', '=', item.refund_id)
        .execute();
    }
    await finishOutboxItem(
      trx,
      item,
      resolved.kind === 'ok' ? 'done' : 'failed',
      now,
      resolved.kind === 'error' ? `${resolved.error.code}: ${resolved.error.message}` : null,
    );
  });
  return resolved.kind === 'ok' ? 'done' : 'failed';
}

async function finishAndFail(
  ctx: PaymentContext,
  item: PaymentOutboxRow,
  payment: PaymentRow,
  code: string,
  detail = '',
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    await finishOutboxItem(trx, item, 'failed', now, `${code} ${detail}`.trim());
    await recordDecision(trx, payment, `${item.action}-failed`, `${code} ${detail}`.trim(), now);
  });
  ctx.logger.error({ paymentId: payment.id, action: item.action, code, detail }, 'payment step failed');
}
