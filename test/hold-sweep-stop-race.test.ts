/**
 * Two races of the payment worker with a stop of the same session. PostgreSQL only: the embedded database has one
 * connection, so the two cannot overlap there.
 *
 * The hold sweep and a stop reach the same session at once (a session that ends before its hold was placed, which
 * short sessions and a busy worker make common): the stop locks the session and charges it itself, the sweep would
 * place its hold. They must not deadlock (PostgreSQL would fail one of them after deadlock_timeout, 1 s: a failed
 * worker pass, a stop answered a second late) and the session must end with exactly one payment. The sweep places
 * all its holds in one statement and skips a session a stop holds instead of waiting for it: the other sessions'
 * holds are placed at once, and the skipped one gets its hold from the next sweep if the stop rolls back.
 *
 * The worker places a running session's hold while the session is being stopped: the step's transaction must not
 * wait for the session's row, which the stop holds while it waits for the payment's row (a deadlock, seen in the
 * ninth session when the step ended the payment's lease inside its transaction: see `releasePaymentLease`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdTag, loadStationId } from '../src/load/load-options.ts';
import { provisionFleet } from '../src/load/provision-fleet.ts';
import type { RunningServer } from '../src/main.ts';
import { placeMissingHolds } from '../src/payments/flows/place-holds.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { claimNextOutboxItem, releasePaymentLease } from '../src/payments/worker/outbox-store.ts';
import { processOutboxItem } from '../src/payments/worker/process-outbox-item.ts';
import { systemClock } from '../src/shared/clock.ts';
import { testBackend } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

/** How long to wait for the sweep to block on the stop's lock before the test gives up. */
const BLOCK_TIMEOUT_MS = 10_000;

describe.skipIf(testBackend !== 'postgres')('hold sweep meets a stop on the same session', () => {
  let server: RunningServer;
  let sandbox: SandboxProvider;

  beforeAll(async () => {
    sandbox = createSandboxProvider({
      clock: systemClock,
      webhookSecret: 'race-test-webhook-secret',
      webhookDelayMs: 1,
    });
    server = await startTestServer({ VOLTBILL_RECONCILE_INTERVAL_S: '0' }, { paymentProvider: sandbox });
    await provisionFleet(server.database.db, {
      stations: 1,
      firstStation: 1,
      stationPrefix: 'RACE-',
      idTagPrefix: 'RC',
      card: {
        provider: sandbox,
        paymentMethodRef: () => {
          const card = sandbox.tokenizeCard({ number: '4242424242424242', expMonth: 12, expYear: 2099, cvc: '123' });
          if (!card.ok) throw new Error(card.error.message);
          return card.value.paymentMethodRef;
        },
        ...(server.payments.ctx.cipher && { cipher: server.payments.ctx.cipher }),
      },
    });
  }, 240_000);
  afterAll(async () => {
    await server?.close();
  });

  /** A running session of the race's card-paying token on the race's station, as a start stores it. */
  const runningSession = async (transactionId: string) => {
    const db = server.database.db;
    const token = await db
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', loadIdTag('RC', 1))
      .executeTakeFirstOrThrow();
    const session = await db
      .insertInto('sessions')
      .values({
        operator_id: token.operator_id,
        station_id: loadStationId('RACE-', 1),
        evse_id: 1,
        connector_id: 1,
        transaction_id: transactionId,
        start_key: transactionId,
        id_tag: loadIdTag('RC', 1),
        id_token_id: token.id,
        authorization_status: 'Accepted',
        status: 'Active',
        started_at: new Date(),
        meter_start_wh: 0n,
        time_zone: 'Europe/Berlin',
        currency: 'EUR',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { token, session };
  };

  it('skips a session a stop holds, without waiting: the stop charges it, one payment, no deadlock', async () => {
    const db = server.database.db;
    const { token, session } = await runningSession('race-1');

    await db.transaction().execute(async (stop) => {
      // The stop: the session locked as stop-session does, held while the sweep runs into it.
      await stop.selectFrom('sessions').select('id').where('id', '=', session.id).forUpdate().execute();
      // Had the sweep waited for the stop's lock, it would still be waiting here (the stop commits below).
      const swept = await Promise.race([
        placeMissingHolds(server.payments.ctx),
        new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), BLOCK_TIMEOUT_MS / 2)),
      ]);
      expect(swept).toBe(0);
      // The stop's charge at the end (payment-billing-hook.ts): its insert of the session's payment.
      const method = await stop.selectFrom('payment_methods').select(['id', 'token']).executeTakeFirstOrThrow();
      await stop
        .insertInto('payments')
        .values({
          operator_id: token.operator_id,
          kind: 'session',
          provider: 'sandbox',
          session_id: session.id,
          id_token_id: token.id,
          payment_method_id: method.id,
          payment_method_token: method.token,
          currency: 'EUR',
          requested_minor: 1234n,
          due_minor: 1234n,
        })
        .onConflict((oc) => oc.columns(['session_id', 'kind']).where('session_id', 'is not', null).doNothing())
        .execute();
      await stop
        .updateTable('sessions')
        .set({ status: 'Completed', ended_at: new Date() })
        .where('id', '=', session.id)
        .execute();
    });
    // The next sweep finds the session ended: nothing to place.
    expect(await placeMissingHolds(server.payments.ctx)).toBe(0);
    const payments = await db
      .selectFrom('payments')
      .select(['requested_minor', 'due_minor'])
      .where('session_id', '=', session.id)
      .execute();
    expect(payments).toEqual([{ requested_minor: 1234n, due_minor: 1234n }]);
    const outbox = await db
      .selectFrom('payment_outbox')
      .select('id')
      .where('idempotency_key', '=', `hold:${session.id}`)
      .execute();
    expect(outbox).toEqual([]);
  });

  it("places a running session's hold while its stop holds the session, without waiting for it", async () => {
    const db = server.database.db;
    const { session } = await runningSession('race-2');
    expect(await placeMissingHolds(server.payments.ctx)).toBe(1);
    const ctx = server.payments.ctx;
    let step: Promise<string> | undefined;
    await db.transaction().execute(async (stop) => {
      await stop.selectFrom('sessions').select('id').where('id', '=', session.id).forUpdate().execute();
      // The worker's lane, as payment-worker.ts runs it: claim, the step (provider call, its transaction), release.
      step = (async () => {
        const item = await claimNextOutboxItem(ctx.db, ctx.clock.now(), ctx.settings.leaseMs);
        if (!item) return 'nothing claimed';
        const outcome = await processOutboxItem(ctx, item);
        await releasePaymentLease(ctx.db, item);
        return outcome;
      })();
      const settled = await Promise.race([
        step,
        new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), BLOCK_TIMEOUT_MS / 2)),
      ]);
      // Had the step waited for the session, the stop's update of the payment below would close a deadlock.
      expect(settled).toBe('done');
      await stop.updateTable('payments').set({ due_minor: 777n }).where('session_id', '=', session.id).execute();
      await stop
        .updateTable('sessions')
        .set({ status: 'Completed', ended_at: new Date() })
        .where('id', '=', session.id)
        .execute();
    });
    await sandbox.flushWebhooks();
    const payment = await db
      .selectFrom('payments')
      .select(['status', 'due_minor', 'outbox_lease_until'])
      .where('session_id', '=', session.id)
      .executeTakeFirstOrThrow();
    expect(payment).toEqual({ status: 'authorized', due_minor: 777n, outbox_lease_until: null });
  });

  it("places every other running session's hold in the same sweep, and the skipped one after a stop rolled back", async () => {
    const db = server.database.db;
    const sessions = [];
    for (let i = 0; i < 4; i++) sessions.push((await runningSession(`race-batch-${i}`)).session);
    const [held, ...others] = sessions as [{ id: string }, ...{ id: string }[]];
    const holdsOf = async (ids: readonly string[]) =>
      db
        .selectFrom('payment_outbox as o')
        .innerJoin('payments as p', 'p.id', 'o.payment_id')
        .select([
          'p.session_id',
          'p.requested_minor',
          'p.status',
          'o.action',
          'o.amount_minor',
          'o.status as outboxStatus',
        ])
        .where('p.session_id', 'in', ids)
        .orderBy('p.session_id')
        .execute();
    await db
      .transaction()
      .execute(async (stop) => {
        await stop.selectFrom('sessions').select('id').where('id', '=', held.id).forUpdate().execute();
        expect(await placeMissingHolds(server.payments.ctx)).toBe(3);
        throw new Error('the stop fails and rolls back');
      })
      .catch((error: unknown) => expect(String(error)).toContain('rolls back'));
    const hold = server.payments.ctx.settings.holdMinor;
    const expected = (ids: readonly string[]) =>
      [...ids].sort().map((id) => ({
        session_id: id,
        requested_minor: hold,
        status: 'pending',
        action: 'authorize',
        amount_minor: hold,
        outboxStatus: 'pending',
      }));
    expect(await holdsOf(others.map((s) => s.id))).toEqual(expected(others.map((s) => s.id)));
    expect(await holdsOf([held.id])).toEqual([]);
    // The session is still running: the next sweep places its hold, and places nothing twice.
    expect(await placeMissingHolds(server.payments.ctx)).toBe(1);
    expect(await holdsOf(sessions.map((s) => s.id))).toEqual(expected(sessions.map((s) => s.id)));
    expect(await placeMissingHolds(server.payments.ctx)).toBe(0);
    await db
      .updateTable('sessions')
      .set({ status: 'Completed', ended_at: new Date() })
      .where(
        'id',
        'in',
        sessions.map((s) => s.id),
      )
      .execute();
  });
});
