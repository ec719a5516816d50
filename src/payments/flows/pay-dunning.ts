/**
 * Self-service payment of a failed payment through the signed pay link of a dunning notice. The driver sees the
 * amount due and pays with a new card (a one-time reference from the provider's hosted fields: Voltbill never
 * sees the number) or retries the saved card. Each attempt is a payment of kind 'dunning' that settles the failed
 * one: intent recorded first, then the provider charge (authorize + capture, under keys from the attempt's id)
 * while the driver waits. Its capture books the ledger transfer against the invoice, closes the dunning and
 * unblocks the card and its tokens (resolveDunning, in the capture's transaction).
 */
import type { Kysely } from 'kysely';
import type { Database, PaymentRow } from '../../db/schema.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import type { PaymentContext } from '../payment-context.ts';
import { claimOutboxItemByKey, enqueueOutbox, releasePaymentLease } from '../worker/outbox-store.ts';
import { processOutboxItem } from '../worker/process-outbox-item.ts';

export type DunningState = {
  readonly paymentId: string;
  readonly invoiceId: string | null;
  readonly currency: string;
  readonly amountDueMinor: bigint;
  readonly failureCode: string;
  readonly status: 'open' | 'paid';
  readonly notifiedAt: Date;
  readonly paidByPaymentId: string | null;
};

export type PayDunningError = {
  readonly code: 'NotFound' | 'AlreadyPaid' | 'PaymentDeclined' | 'InvalidRequest' | 'PaymentPending';
  readonly message: string;
};

export async function loadDunning(db: Kysely<Database>, failedPaymentId: string): Promise<DunningState | undefined> {
  const row = await db
    .selectFrom('payment_dunning as d')
    .innerJoin('payments as p', 'p.id', 'd.payment_id')
    .select([
      'd.payment_id',
      'd.failure_code',
      'd.notified_at',
      'd.resolved_at',
      'd.amount_minor',
      'd.paid_by_payment_id',
      'p.currency',
      'p.invoice_id',
      'p.due_minor',
      'p.requested_minor',
      'p.captured_minor',
    ])
    .where('d.payment_id', '=', failedPaymentId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    paymentId: row.payment_id,
    invoiceId: row.invoice_id,
    currency: row.currency,
    amountDueMinor: row.amount_minor ?? (row.due_minor ?? row.requested_minor) - row.captured_minor,
    failureCode: row.failure_code,
    status: row.resolved_at ? 'paid' : 'open',
    notifiedAt: row.notified_at,
    paidByPaymentId: row.paid_by_payment_id,
  };
}

export async function payDunning(
  ctx: PaymentContext,
  input: { failedPaymentId: string; paymentMethodRef?: string; useSavedCard?: boolean },
): Promise<Result<{ paymentId: string; status: PaymentRow['status']; amountMinor: bigint }, PayDunningError>> {
  const { db } = ctx;
  const now = ctx.clock.now();
  const state = await loadDunning(db, input.failedPaymentId);
  if (!state) return err({ code: 'NotFound', message: 'no open payment for this link' });
  if (state.status === 'paid') return err({ code: 'AlreadyPaid', message: 'this amount has been paid, thank you' });
  if (state.amountDueMinor <= 0n) return err({ code: 'AlreadyPaid', message: 'nothing is due' });
  const failed = await db
    .selectFrom('payments')
    .selectAll()
    .where('id', '=', input.failedPaymentId)
    .executeTakeFirstOrThrow();
  let token = input.paymentMethodRef;
  let methodId: string | null = null;
  let customerId: string | null = null;
  if (!token && input.useSavedCard) {
    if (!failed.payment_method_id) return err({ code: 'InvalidRequest', message: 'there is no saved card to retry' });
    const method = await db
      .selectFrom('payment_methods')
      .selectAll()
      .where('id', '=', failed.payment_method_id)
      .executeTakeFirstOrThrow();
    token = method.token;
    methodId = method.id;
    customerId = method.provider_customer_id;
  }
  if (!token) return err({ code: 'InvalidRequest', message: 'give paymentMethodRef (a new card) or useSavedCard' });
  // One attempt at a time: an attempt still in flight is finished, not doubled.
  const inFlight = await db
    .selectFrom('payments')
    .select('id')
    .where('settles_payment_id', '=', failed.id)
    .where('kind', '=', 'dunning')
    .where('status', 'in', ['pending', 'authorized'])
    .executeTakeFirst();
  if (inFlight) return err({ code: 'PaymentPending', message: 'a payment for this amount is being processed' });
  const attempt = await db.transaction().execute(async (trx) => {
    const created = await trx
      .insertInto('payments')
      .values({
        operator_id: failed.operator_id,
        kind: 'dunning',
        provider: ctx.provider.name,
        session_id: null,
        id_token_id: failed.id_token_id,
        payment_method_id: methodId,
        wallet_id: null,
        payment_method_token: token,
        provider_customer_id: customerId,
        provider_payment_id: null,
        currency: failed.currency,
        requested_minor: state.amountDueMinor,
        due_minor: state.amountDueMinor,
        invoice_id: failed.invoice_id,
        hold_expires_at: null,
        failure_code: null,
        station_id: null,
        evse_id: null,
        settles_payment_id: failed.id,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await enqueueOutbox(trx, {
      paymentId: created.id,
      action: 'charge',
      idempotencyKey: `dunning:${created.id}`,
      amountMinor: created.requested_minor,
      notBefore: now,
    });
    return created;
  });
  // Charge now, while the driver waits (the worker would too; the lease keeps the two apart).
  const claimed = await claimOutboxItemByKey(db, `dunning:${attempt.id}`, now, ctx.settings.leaseMs);
  if (claimed) {
    await processOutboxItem(ctx, claimed);
    await releasePaymentLease(db, claimed);
  }
  const after = await db.selectFrom('payments').selectAll().where('id', '=', attempt.id).executeTakeFirstOrThrow();
  if (after.status === 'failed' || after.status === 'requires_authentication') {
    return err({
      code: 'PaymentDeclined',
      message: `the card was not accepted (${after.failure_code ?? after.status})`,
    });
  }
  return ok({ paymentId: after.id, status: after.status, amountMinor: after.requested_minor });
}
