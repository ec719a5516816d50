/**
 * A provider's webhook that repeats what the payment row already says (the usual case: the worker applied its own
 * call's answer first) stores its event id and leaves the row alone: no new row version, no wait for the row's lock.
 * One that says more is merged as before.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { SANDBOX_SIGNATURE_HEADER } from '../src/payments/sandbox/sandbox-provider.ts';
import { signWebhook } from '../src/payments/webhook-signature.ts';
import { postgresSkipReason, testBackend } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

const SECRET = 'handle-webhook-test-secret';

describe.skipIf(postgresSkipReason())('webhooks that change nothing', () => {
  let server: RunningServer;
  let operatorId: string;
  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_SANDBOX_WEBHOOK_SECRET: SECRET });
    operatorId = (await server.database.db.selectFrom('operators').select('id').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A payment row as the worker leaves it; by default captured, 12.34 EUR of a 50.00 hold. */
  async function insertPayment(values: {
    providerPaymentId: string | null;
    status?: 'pending' | 'captured';
    authorizedMinor?: bigint;
    capturedMinor?: bigint;
  }): Promise<string> {
    const row = await server.database.db
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
        provider_payment_id: values.providerPaymentId,
        currency: 'EUR',
        requested_minor: 5000n,
        authorized_minor: values.authorizedMinor ?? 5000n,
        captured_minor: values.capturedMinor ?? 1234n,
        status: values.status ?? 'captured',
        due_minor: null,
        invoice_id: null,
        hold_expires_at: null,
        failure_code: null,
        station_id: null,
        evse_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }
  const capturedPayment = (providerPaymentId: string) => insertPayment({ providerPaymentId });
  let events = 0;
  const send = (
    providerPaymentId: string,
    status: string,
    capturedMinor: string,
    refundedMinor: string,
    options: { eventId?: string; voltbillKey?: string } = {},
  ) => {
    const body = JSON.stringify({
      id: options.eventId ?? `evt_noop_${++events}`,
      object: 'event',
      type: `payment.${status}`,
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: providerPaymentId,
          currency: 'EUR',
          status,
          authorized_minor: '5000',
          captured_minor: capturedMinor,
          refunded_minor: refundedMinor,
          ...(options.voltbillKey && { voltbill_key: options.voltbillKey }),
        },
      },
    });
    return fetch(`${server.httpUrl}/api/v1/payments/webhooks/sandbox`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SANDBOX_SIGNATURE_HEADER]: signWebhook(SECRET, body, Math.floor(Date.now() / 1000)),
      },
      body,
      signal: AbortSignal.timeout(5000),
    });
  };
  const version = async (paymentId: string) =>
    (
      await sql<{ xmin: string; status: string; refunded_minor: bigint; updated_at: Date }>`
        select xmin::text as xmin, status, refunded_minor, updated_at from payments where id = ${paymentId}`.execute(
        server.database.db,
      )
    ).rows[0];

  it('stores the event of a repeated or older report and leaves the payment row as it was', async () => {
    const paymentId = await capturedPayment('pay_noop_1');
    const before = await version(paymentId);
    for (const [status, captured] of [
      ['authorized', '0'],
      ['captured', '1234'],
    ] as const) {
      const response = await send('pay_noop_1', status, captured, '0');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: true, duplicate: false });
    }
    // The same row version: not rewritten (a merge that changes nothing used to write a new one).
    expect(await version(paymentId)).toEqual(before);
    const stored = await server.database.db
      .selectFrom('payment_webhook_events')
      .select(['event_id', 'provider_payment_id'])
      .where('provider_payment_id', '=', 'pay_noop_1')
      .orderBy('event_id')
      .execute();
    expect(stored).toEqual([
      { event_id: `evt_noop_${events - 1}`, provider_payment_id: 'pay_noop_1' },
      { event_id: `evt_noop_${events}`, provider_payment_id: 'pay_noop_1' },
    ]);

    // A report that says more (a refund made in the provider's dashboard) is merged.
    const refund = await send('pay_noop_1', 'partially_refunded', '1234', '200');
    expect(refund.status).toBe(200);
    expect(await version(paymentId)).toMatchObject({ status: 'partially_refunded', refunded_minor: 200n });
  });

  it('answers a repeated event id as a duplicate and stores it once', async () => {
    const paymentId = await capturedPayment('pay_dup_1');
    const first = await send('pay_dup_1', 'captured', '1234', '0', { eventId: 'evt_dup_1' });
    expect(await first.json()).toEqual({ received: true, duplicate: false });
    const again = await send('pay_dup_1', 'refunded', '1234', '1234', { eventId: 'evt_dup_1' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    const stored = await server.database.db
      .selectFrom('payment_webhook_events')
      .select(['event_id', 'type'])
      .where('event_id', '=', 'evt_dup_1')
      .execute();
    expect(stored).toEqual([{ event_id: 'evt_dup_1', type: 'payment.captured' }]);
    // The duplicate's different content changed nothing.
    expect(await version(paymentId)).toMatchObject({ status: 'captured', refunded_minor: 0n });
  });

  it("finds a payment whose call's answer was lost by Voltbill's own key, and merges the event into it", async () => {
    // The worker's create call was sent, its answer lost: the payment has no provider id yet, only the outbox key.
    const paymentId = await insertPayment({
      providerPaymentId: null,
      status: 'pending',
      authorizedMinor: 0n,
      capturedMinor: 0n,
    });
    await server.database.db
      .insertInto('payment_outbox')
      .values({
        payment_id: paymentId,
        action: 'authorize',
        idempotency_key: 'authorize:lost-answer',
        amount_minor: 5000n,
        refund_id: null,
        next_attempt_at: new Date(Date.now() + 3_600_000),
        locked_until: null,
        last_error: null,
      })
      .execute();
    const response = await send('pay_lost_1', 'authorized', '0', '0', { voltbillKey: 'authorize:lost-answer' });
    expect(response.status).toBe(200);
    const merged = await server.database.db
      .selectFrom('payments')
      .select(['provider_payment_id', 'status', 'authorized_minor'])
      .where('id', '=', paymentId)
      .executeTakeFirstOrThrow();
    expect(merged).toEqual({ provider_payment_id: 'pay_lost_1', status: 'authorized', authorized_minor: 5000n });
  });

  it.skipIf(testBackend !== 'postgres')(
    'answers a repeated report while another transaction holds the payment row (a capture being committed)',
    async () => {
      const paymentId = await capturedPayment('pay_noop_2');
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked: () => void = () => undefined;
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const holder = server.database.db.transaction().execute(async (trx) => {
        await sql`select id from payments where id = ${paymentId} for update`.execute(trx);
        locked();
        await released;
      });
      await isLocked;
      try {
        const response = await send('pay_noop_2', 'captured', '1234', '0');
        expect(response.status).toBe(200);
      } finally {
        release();
        await holder;
      }
    },
  );
});
