/**
 * The merge of a provider's report into a stored payment (apply-provider-payment.ts, one UPDATE) on a real database
 * (both): state only moves forward by PAYMENT_STATUS_RANK, amounts only grow, a capture is booked once, and a report
 * of another currency or another provider payment changes nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import type { PaymentOutboxRow } from '../src/db/schema.ts';
import { applyProviderPayment } from '../src/payments/apply-provider-payment.ts';
import type { ProviderPayment } from '../src/payments/provider.ts';
import { enqueueOutbox, markLeaseEndedInStep, releasePaymentLease } from '../src/payments/worker/outbox-store.ts';
import { seedDemo } from '../src/seed/seed-demo.ts';
import { statementsOf } from './support/generic-plan.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const NOW = new Date('2026-11-27T08:00:00.000Z');
const HOLD_UNTIL = new Date('2026-12-04T08:00:00.000Z');
const UNKNOWN_PAYMENT = '00000000-0000-4000-8000-000000000000';

describe.skipIf(skip)('applying a provider report to a payment', () => {
  let handle: DatabaseHandle;
  let operatorId: string;
  let paymentId: string;
  /** The provider's id of this test's payment (unique per provider, as at a provider). */
  let providerPaymentId: string;
  let tests = 0;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
    operatorId = (await handle.db.selectFrom('operators').select('id').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await handle?.close();
  });
  beforeEach(async () => {
    providerPaymentId = `pi_${++tests}`;
    paymentId = (
      await handle.db
        .insertInto('payments')
        .values({
          operator_id: operatorId,
          kind: 'extra',
          provider: 'sandbox',
          session_id: null,
          id_token_id: null,
          payment_method_id: null,
          wallet_id: null,
          payment_method_token: 'pm_test',
          provider_customer_id: null,
          provider_payment_id: null,
          currency: 'EUR',
          requested_minor: 5000n,
          due_minor: null,
          invoice_id: null,
          hold_expires_at: null,
          failure_code: null,
          station_id: null,
          evse_id: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  });

  const report = (fields: Partial<ProviderPayment>): ProviderPayment => ({
    providerPaymentId,
    status: 'authorized',
    currency: 'EUR' as ProviderPayment['currency'],
    authorizedMinor: 5000n,
    capturedMinor: 0n,
    refundedMinor: 0n,
    holdExpiresAt: HOLD_UNTIL,
    ...fields,
  });
  const apply = (fields: Partial<ProviderPayment>, id = paymentId) =>
    handle.db.transaction().execute((trx) => applyProviderPayment(trx, id, report(fields), NOW));
  const stored = () =>
    handle.db
      .selectFrom('payments')
      .select([
        'status',
        'provider_payment_id',
        'authorized_minor',
        'captured_minor',
        'refunded_minor',
        'hold_expires_at',
        'updated_at',
      ])
      .where('id', '=', paymentId)
      .executeTakeFirstOrThrow();
  const captureTransfers = () =>
    handle.db
      .selectFrom('ledger_transfers')
      .select('id')
      .where('cause_type', '=', 'capture')
      .where('cause_id', '=', paymentId)
      .execute();

  it('an authorization sets the hold; a capture then books once; late and repeated reports change nothing', async () => {
    const held = await apply({});
    expect(held).toMatchObject({ applied: true, newlyCapturedMinor: 0n, payment: { status: 'authorized' } });
    expect(await stored()).toEqual({
      status: 'authorized',
      provider_payment_id: providerPaymentId,
      authorized_minor: 5000n,
      captured_minor: 0n,
      refunded_minor: 0n,
      hold_expires_at: HOLD_UNTIL,
      updated_at: NOW,
    });

    const captured = await apply({ status: 'captured', capturedMinor: 1234n, holdExpiresAt: undefined });
    expect(captured).toMatchObject({ applied: true, newlyCapturedMinor: 1234n });
    const afterCapture = {
      status: 'captured',
      provider_payment_id: providerPaymentId,
      authorized_minor: 5000n,
      captured_minor: 1234n,
      refunded_minor: 0n,
      hold_expires_at: null,
      updated_at: NOW,
    };
    expect(await stored()).toEqual(afterCapture);
    expect(await captureTransfers()).toHaveLength(1);

    // The capture's webhook after the worker's answer, then the authorization's webhook, late; and a 'voided' of
    // the same rank as 'captured': none moves the payment back or books anything again.
    expect(await apply({ status: 'captured', capturedMinor: 1234n })).toMatchObject({ newlyCapturedMinor: 0n });
    expect(await apply({ status: 'authorized', authorizedMinor: 9999n })).toMatchObject({ newlyCapturedMinor: 0n });
    expect(await apply({ status: 'voided' })).toMatchObject({ applied: true, payment: { status: 'captured' } });
    expect(await stored()).toEqual(afterCapture);
    expect(await captureTransfers()).toHaveLength(1);
  });

  it('a refund the provider reports beyond what Voltbill requested is recorded for finance', async () => {
    await apply({ status: 'captured', capturedMinor: 1000n });
    const refunded = await apply({ status: 'partially_refunded', capturedMinor: 1000n, refundedMinor: 300n });
    expect(refunded).toMatchObject({ applied: true, payment: { status: 'partially_refunded', refunded_minor: 300n } });
    const decisions = await handle.db
      .selectFrom('payment_decisions')
      .select(['decision', 'reason'])
      .where('subject_id', '=', paymentId)
      .execute();
    expect(decisions).toEqual([
      { decision: 'unexpected-refund', reason: 'provider reports 300 refunded; Voltbill requested 0' },
    ]);
  });

  it('another currency or another provider payment changes nothing; an unknown payment is NotFound', async () => {
    await apply({});
    const before = await stored();
    expect(
      await apply({ currency: 'USD' as ProviderPayment['currency'], status: 'captured', capturedMinor: 1n }),
    ).toEqual({ applied: false, reason: 'CurrencyMismatch' });
    expect(await apply({ providerPaymentId: 'pi_other', status: 'captured', capturedMinor: 1n })).toEqual({
      applied: false,
      reason: 'PaymentIdMismatch',
    });
    expect(await apply({}, UNKNOWN_PAYMENT)).toEqual({ applied: false, reason: 'NotFound' });
    expect(await stored()).toEqual(before);
    expect(await captureTransfers()).toHaveLength(0);
    const decisions = await handle.db
      .selectFrom('payment_decisions')
      .select(['decision', 'reason'])
      .where('subject_id', '=', paymentId)
      .execute();
    expect(decisions).toEqual([{ decision: 'ProviderReportRejected', reason: 'provider reported USD, expected EUR' }]);
  });

  it('an authorization with nothing captured or refunded is one statement (the worker runs it without a transaction)', async () => {
    const statements = await statementsOf(handle.db, (on) => applyProviderPayment(on, paymentId, report({}), NOW));
    expect(statements).toHaveLength(1);
    expect(statements[0]!.sql).toMatch(/^\s*update payments p set/);
    expect(await stored()).toMatchObject({ status: 'authorized', authorized_minor: 5000n, captured_minor: 0n });
    // A capture is not: it is booked in the ledger by the same call, which is why it runs inside a transaction.
    const captured = await statementsOf(handle.db, (on) =>
      on
        .transaction()
        .execute((trx) =>
          applyProviderPayment(trx, paymentId, report({ status: 'captured', capturedMinor: 5000n }), NOW),
        ),
    );
    expect(captured.length).toBeGreaterThan(1);
  });

  it('ends the payment lease it is given in the same UPDATE, only while the payment holds that lease', async () => {
    const lease = new Date('2026-11-27T08:01:00.000Z');
    const leaseOf = async () =>
      (
        await handle.db
          .selectFrom('payments')
          .select('outbox_lease_until')
          .where('id', '=', paymentId)
          .executeTakeFirstOrThrow()
      ).outbox_lease_until;
    await handle.db.updateTable('payments').set({ outbox_lease_until: lease }).where('id', '=', paymentId).execute();
    // Without endLease, or with another lease (it lapsed and another worker leased the payment since): kept.
    await applyProviderPayment(handle.db, paymentId, report({}), NOW);
    expect(await leaseOf()).toEqual(lease);
    await applyProviderPayment(handle.db, paymentId, report({}), NOW, { endLease: new Date(lease.getTime() - 1) });
    expect(await leaseOf()).toEqual(lease);
    // Its own lease: ended with the report applied.
    const captured = await handle.db.transaction().execute((trx) =>
      applyProviderPayment(trx, paymentId, report({ status: 'captured', capturedMinor: 5000n }), NOW, {
        endLease: lease,
      }),
    );
    expect(captured).toMatchObject({ applied: true, newlyCapturedMinor: 5000n });
    expect(await leaseOf()).toBeNull();
  });

  it('a step that ended its lease itself leaves releasePaymentLease nothing to send', async () => {
    const item = { id: 1n, payment_id: paymentId, locked_until: NOW } as unknown as PaymentOutboxRow;
    const other = { ...item };
    markLeaseEndedInStep(item);
    expect(await statementsOf(handle.db, (on) => releasePaymentLease(on, item))).toEqual([]);
    expect(await statementsOf(handle.db, (on) => releasePaymentLease(on, other))).toHaveLength(1);
  });

  it('finishes the worker’s outbox item in the same statement when asked, whatever the merge does', async () => {
    const enqueue = async (key: string) => {
      await enqueueOutbox(handle.db, { paymentId, action: 'charge', idempotencyKey: key, notBefore: NOW });
      return handle.db
        .updateTable('payment_outbox')
        .set({ locked_until: new Date(NOW.getTime() + 60_000), attempts: 1 })
        .where('idempotency_key', '=', key)
        .returning(['id', 'status', 'locked_until', 'last_error'])
        .executeTakeFirstOrThrow();
    };
    const itemOf = (id: unknown) =>
      handle.db
        .selectFrom('payment_outbox')
        .select(['status', 'locked_until', 'updated_at', 'last_error'])
        .where('id', '=', id as never)
        .executeTakeFirstOrThrow();
    const item = await enqueue(`charge:${paymentId}`);
    const statements = await statementsOf(handle.db, (on) =>
      on.transaction().execute((trx) =>
        applyProviderPayment(trx, paymentId, report({ status: 'captured', capturedMinor: 5000n }), NOW, {
          finishItem: { item, now: NOW },
        }),
      ),
    );
    expect(await itemOf(item.id)).toEqual({ status: 'done', locked_until: null, updated_at: NOW, last_error: null });
    expect(await stored()).toMatchObject({ status: 'captured', captured_minor: 5000n });
    expect(await captureTransfers()).toHaveLength(1);
    // Two statements: the merge with the item finished, and the capture's ledger transfer.
    expect(statements).toHaveLength(2);
    expect(statements[0]!.sql).toMatch(/^\s*with finished as \(update payment_outbox/);
    // A report refused (another currency) changes no payment, and the item is still finished, as the step would.
    const other = await enqueue(`other:${paymentId}`);
    const refused = await applyProviderPayment(
      handle.db,
      paymentId,
      report({ currency: 'USD' as ProviderPayment['currency'] }),
      NOW,
      {
        finishItem: { item: other, now: NOW },
      },
    );
    expect(refused).toEqual({ applied: false, reason: 'CurrencyMismatch' });
    expect((await itemOf(other.id)).status).toBe('done');
  });
});
