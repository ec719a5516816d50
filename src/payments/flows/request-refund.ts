/**
 * A refund (full or partial) of a captured payment, requested by finance or an admin: recorded as a refund row
 * and an outbox item keyed by the refund, then carried out by the worker. The ledger books it when the provider
 * confirms (apply-provider-payment.ts).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { enqueueOutbox } from '../worker/outbox-store.ts';

export type RefundError = { code: 'NotFound' | 'RefundInvalid'; message: string };

export async function requestRefund(
  db: Kysely<Database>,
  input: {
    operatorId: string;
    paymentId: string;
    /** Minor units; undefined = what is left to refund. */
    amountMinor: bigint | undefined;
    reason: string;
    requestedBy: string;
    /** The caller's Idempotency-Key: the same key returns the same refund. */
    requestKey: string;
    /** Full refund of an invoiced payment that also issues the invoice's credit note. */
    withCreditNote?: boolean;
    now: Date;
  },
): Promise<Result<{ refundId: string; amountMinor: bigint; duplicate: boolean }, RefundError>> {
  // In the caller's transaction when given one, so that the API records the refund and its audit entry together.
  const inTransaction = <T>(work: (trx: Transaction<Database>) => Promise<T>) =>
    db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
  return inTransaction(async (trx) => {
    const payment = await trx
      .selectFrom('payments')
      .selectAll()
      .where('id', '=', input.paymentId)
      .where('operator_id', '=', input.operatorId)
      .forUpdate()
      .executeTakeFirst();
    if (!payment) return err<RefundError>({ code: 'NotFound', message: `no payment ${input.paymentId}` });
    const key = `refund:${payment.id}:${input.requestKey}`;
    const known = await trx
      .selectFrom('payment_outbox')
      .select(['refund_id', 'amount_minor'])
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (known?.refund_id)
      return ok({ refundId: known.refund_id, amountMinor: known.amount_minor ?? 0n, duplicate: true });
    if (payment.provider === 'wallet') {
      return err<RefundError>({ code: 'RefundInvalid', message: 'wallet debits are corrected with a credit note' });
    }
    const pending = await trx
      .selectFrom('payment_refunds')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<bigint>('amount_minor'), eb.val(0n)).as('total'))
      .where('payment_id', '=', payment.id)
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    const left = payment.captured_minor - payment.refunded_minor - BigInt(pending.total);
    const amount = input.amountMinor ?? left;
    if (amount <= 0n || amount > left) {
      return err<RefundError>({
        code: 'RefundInvalid',
        message: `refund must be between 1 and ${left} minor units (captured ${payment.captured_minor}, refunded or pending ${payment.captured_minor - left})`,
      });
    }
    if (
      input.withCreditNote &&
      (amount !== payment.captured_minor || !payment.invoice_id || payment.kind === 'extra')
    ) {
      return err<RefundError>({
        code: 'RefundInvalid',
        message: 'a refund with a credit note refunds the whole captured amount of an invoiced session payment',
      });
    }
    const refund = await trx
      .insertInto('payment_refunds')
      .values({
        with_credit_note: input.withCreditNote ?? false,
        payment_id: payment.id,
        amount_minor: amount,
        reason: input.reason,
        requested_by: input.requestedBy,
        provider_refund_id: null,
        credit_note_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await enqueueOutbox(trx, {
      paymentId: payment.id,
      action: 'refund',
      idempotencyKey: key,
      amountMinor: amount,
      refundId: refund.id,
      notBefore: input.now,
    });
    return ok({ refundId: refund.id, amountMinor: amount, duplicate: false });
  });
}
