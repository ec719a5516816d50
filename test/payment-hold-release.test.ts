/**
 * The hold a renewal leaves over (the old one once the new one is in place, or a new one of the wrong amount) is
 * released by an outbox step of its own (src/payments/worker/release-step.ts): retried through a provider outage
 * like every other provider call, never the payment's own hold, and never a failure of the payment, its card or its
 * driver. Before 2026-11-29 the release was one direct call: refused, the old hold stayed on the driver's card until
 * it lapsed (seven days at Stripe), and a wrong-amount hold's failed release was not even recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { releaseExpiringHolds } from '../src/payments/flows/place-holds.ts';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createSandboxProvider, type SandboxProvider } from '../src/payments/sandbox/sandbox-provider.ts';
import { enqueueOutbox } from '../src/payments/worker/outbox-store.ts';
import { renewStep } from '../src/payments/worker/renew-step.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { saveCardThroughApi } from './support/card-profile.ts';
import { connectStation, type Station, startTestServer } from './support/test-server.ts';

const MAX_ATTEMPTS = 3;
const RETRY_BASE_MS = 1000;
/** Holds live 20 h: inside the renewal horizon (2 × the 12 h release lead) at once, outside the release horizon. */
const HOLD_TTL_MS = 20 * 3600 * 1000;

describe('the release of a hold a renewal left over', () => {
  let server: RunningServer;
  let sandbox: SandboxProvider;
  const stations: Station[] = [];
  const clock = fixedClock(new Date('2026-11-26T12:00:00Z'));
  /** Provider payments whose void and status query go unanswered (an outage for those calls). */
  const unreachable = new Set<string>();
  /** Provider payments whose void is refused (Stripe's answer to a second cancel: an unexpected state). */
  const voidRefused = new Set<string>();
  /** Renewals placed at the provider but answered with a timeout, their status by key unreadable (an outage). */
  let renewalAnswersLost = false;
  /** Renewals answered with a hold one cent larger than asked (the provider's mistake: AmountMismatch). */
  let renewalHoldsMore = false;
  const calls: string[] = [];

  beforeAll(async () => {
    sandbox = createSandboxProvider({
      clock,
      webhookSecret: 'release-test-webhook-secret',
      webhookDelayMs: 1,
      holdTtlMs: HOLD_TTL_MS,
    });
    const provider = new Proxy(sandbox, {
      get(target, property, receiver) {
        if (property === 'void' || property === 'getStatus') {
          return async (input: { idempotencyKey: string; providerPaymentId?: string }) => {
            calls.push(`${property} ${input.providerPaymentId}`);
            if (renewalAnswersLost && input.idempotencyKey.startsWith('renew:')) {
              return { ok: false, error: { code: 'ProviderUnavailable', message: 'connection refused (test)' } };
            }
            if (property === 'void' && input.providerPaymentId && voidRefused.has(input.providerPaymentId)) {
              return { ok: false, error: { code: 'InvalidState', message: 'unexpected state (test)' } };
            }
            if (input.providerPaymentId && unreachable.has(input.providerPaymentId)) {
              return { ok: false, error: { code: 'ProviderUnavailable', message: 'connection refused (test)' } };
            }
            return property === 'void'
              ? target.void(input as Parameters<PaymentProvider['void']>[0])
              : target.getStatus(input);
          };
        }
        if (property === 'authorize' && renewalAnswersLost) {
          return async (input: Parameters<PaymentProvider['authorize']>[0]) => {
            const made = await target.authorize(input);
            return input.idempotencyKey.startsWith('renew:')
              ? { ok: false, error: { code: 'Timeout', message: 'no answer in time (test)' } }
              : made;
          };
        }
        if (property === 'authorize' && renewalHoldsMore) {
          return async (input: Parameters<PaymentProvider['authorize']>[0]) =>
            target.authorize(
              input.idempotencyKey.startsWith('renew:')
                ? { ...input, amount: { ...input.amount, minor: input.amount.minor + 1n } }
                : input,
            );
        }
        return Reflect.get(target, property, receiver);
      },
    }) as PaymentProvider;
    server = await startTestServer(
      {
        VOLTBILL_PAYMENT_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        VOLTBILL_PAYMENT_RETRY_BASE_MS: String(RETRY_BASE_MS),
        VOLTBILL_PAYMENT_BLOCK_AFTER_FAILURES: '1',
        VOLTBILL_RECONCILE_INTERVAL_S: '0',
      },
      { clock, paymentProvider: provider },
    );
    for (const idTag of ['DEMO0001', 'DEMO0002', 'DEMO0003', 'DEMO0004', 'DEMO0005', 'DEMO0006']) {
      await saveCardThroughApi(server, sandbox, idTag);
    }
    for (const id of ['DEMO-0001', 'DEMO-0002', 'DEMO-0003', 'DEMO-0004', 'DEMO-0005', 'DEMO-0006']) {
      const station = await connectStation(server, id);
      await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
      stations.push(station);
    }
  }, 240_000);
  afterAll(async () => {
    for (const station of stations) await station.close({ force: true });
    await server?.close();
  });

  const db = () => server.database.db;
  /**
   * A pass, then the provider's webhooks delivered, then passes until nothing is due: a claim skips a payment whose
   * row a webhook's transaction holds at that moment (outbox-store.ts), so one pass may leave a due step for later.
   */
  const workDue = async () => {
    await server.payments.worker.runOnce();
    await sandbox.flushWebhooks();
    await server.payments.worker.runUntilIdle();
  };
  let minute = 0;
  /** A session of `idTag` at the station of the same number (DEMO000n at DEMO-000n). */
  const startAt = async (n: number) => {
    const started = (await stations[n - 1]!.call('StartTransaction', {
      connectorId: 1,
      idTag: `DEMO000${n}`,
      meterStart: 0,
      timestamp: new Date(clock.now().getTime() - 60_000 * (30 - minute++)).toISOString(),
    })) as { transactionId: number; idTagInfo: { status: string } };
    expect(started.idTagInfo.status).toBe('Accepted');
    return started.transactionId;
  };
  const paymentOf = (idTag: string) =>
    db()
      .selectFrom('payments as p')
      .innerJoin('sessions as s', 's.id', 'p.session_id')
      .select([
        'p.id',
        'p.status',
        'p.provider_payment_id',
        'p.renewed_from_provider_payment_id',
        'p.failure_code',
        'p.payment_method_id',
        'p.authorized_minor',
      ])
      .where('s.id_tag', '=', idTag)
      .executeTakeFirstOrThrow();
  const releases = (paymentId: string) =>
    db()
      .selectFrom('payment_outbox')
      .select(['provider_payment_id', 'status', 'attempts', 'last_error'])
      .where('payment_id', '=', paymentId)
      .where('action', '=', 'release')
      .orderBy('id')
      .execute();
  const decisionsOf = (paymentId: string) =>
    db()
      .selectFrom('payment_decisions')
      .select('decision')
      .where('subject_id', '=', paymentId)
      .orderBy('id')
      .execute()
      .then((rows) => rows.map((r) => r.decision));
  const statusAtProvider = async (providerPaymentId: string) => {
    const status = await sandbox.getStatus({ idempotencyKey: 'test-read', providerPaymentId });
    if (!status.ok) throw new Error(status.error.message);
    return status.value.status;
  };

  it('releases the old hold after a provider outage, then captures the new one', async () => {
    // Placed, then the old hold's release refused while the provider is down for it.
    const transactionId = await startAt(1);
    const placed = await server.payments.worker.runOnce();
    expect(placed).toBeGreaterThanOrEqual(1);
    let payment = await paymentOf('DEMO0001');
    const firstHold = payment.renewed_from_provider_payment_id ?? payment.provider_payment_id!;
    if (payment.renewed_from_provider_payment_id === null) {
      unreachable.add(firstHold);
      await workDue();
    }
    payment = await paymentOf('DEMO0001');
    expect(payment.renewed_from_provider_payment_id).toBe(firstHold);
    const newHold = payment.provider_payment_id!;
    expect(newHold).not.toBe(firstHold);
    expect(await statusAtProvider(newHold)).toBe('authorized');
    expect(payment).toMatchObject({ status: 'authorized', failure_code: null });
    // The old hold is still on the driver's card, its release waiting for its next attempt.
    expect(await statusAtProvider(firstHold)).toBe('authorized');
    expect(await releases(payment.id)).toEqual([
      {
        provider_payment_id: firstHold,
        status: 'pending',
        attempts: 1,
        last_error: 'ProviderUnavailable: connection refused (test)',
      },
    ]);
    // The provider back: the next attempt releases it. The new hold is untouched.
    unreachable.delete(firstHold);
    clock.advanceMs(RETRY_BASE_MS);
    await server.payments.worker.runUntilIdle();
    expect(await statusAtProvider(firstHold)).toBe('voided');
    expect(await statusAtProvider(newHold)).toBe('authorized');
    expect(await releases(payment.id)).toEqual([
      { provider_payment_id: firstHold, status: 'done', attempts: 2, last_error: null },
    ]);
    expect(await decisionsOf(payment.id)).not.toContain('renewed-hold-not-released');
    // The session's end captures on the new hold.
    await stations[0]!.call('StopTransaction', {
      transactionId,
      meterStop: 10_000,
      timestamp: clock.now().toISOString(),
    });
    await server.payments.worker.runUntilIdle();
    const captured = await db()
      .selectFrom('payments')
      .select(['status', 'provider_payment_id', 'failure_code'])
      .where('id', '=', payment.id)
      .executeTakeFirstOrThrow();
    expect(captured).toEqual({ status: 'captured', provider_payment_id: newHold, failure_code: null });
    expect(await statusAtProvider(newHold)).toBe('captured');
  });

  it('gives a release up after its attempts without failing the payment, its card or its driver', async () => {
    await startAt(2);
    await server.payments.worker.runOnce(); // the hold
    let payment = await paymentOf('DEMO0002');
    const firstHold = payment.renewed_from_provider_payment_id ?? payment.provider_payment_id!;
    unreachable.add(firstHold);
    for (let attempt = 0; attempt <= MAX_ATTEMPTS; attempt++) {
      await workDue();
      clock.advanceMs(RETRY_BASE_MS * 2 ** attempt);
    }
    payment = await paymentOf('DEMO0002');
    expect(payment.renewed_from_provider_payment_id).toBe(firstHold);
    const [release] = await releases(payment.id);
    expect(release).toMatchObject({ provider_payment_id: firstHold, status: 'failed', attempts: MAX_ATTEMPTS });
    // The payment keeps its own hold with no failure; the card keeps its standing; nobody is dunned.
    expect(payment).toMatchObject({ status: 'authorized', failure_code: null });
    expect(await statusAtProvider(payment.provider_payment_id!)).toBe('authorized');
    const method = await db()
      .selectFrom('payment_methods')
      .select(['status', 'failure_count'])
      .where('id', '=', payment.payment_method_id!)
      .executeTakeFirstOrThrow();
    expect(method).toEqual({ status: 'active', failure_count: 0 });
    expect(await db().selectFrom('payment_dunning').select('payment_id').execute()).toEqual([]);
    // Recorded for support: which hold, and why.
    const notReleased = await db()
      .selectFrom('payment_decisions')
      .select('reason')
      .where('subject_id', '=', payment.id)
      .where('decision', '=', 'renewed-hold-not-released')
      .execute();
    expect(notReleased).toEqual([{ reason: `${firstHold}: ProviderUnavailable` }]);
    unreachable.delete(firstHold);
  });

  it('releases a renewal’s hold of the wrong amount and keeps the old one', async () => {
    renewalHoldsMore = true;
    try {
      await startAt(3);
      await server.payments.worker.runUntilIdle();
    } finally {
      renewalHoldsMore = false;
    }
    const payment = await paymentOf('DEMO0003');
    expect(payment).toMatchObject({ status: 'authorized', renewed_from_provider_payment_id: null });
    expect(await statusAtProvider(payment.provider_payment_id!)).toBe('authorized');
    const [release] = await releases(payment.id);
    expect(release).toMatchObject({ status: 'done' });
    expect(release!.provider_payment_id).not.toBe(payment.provider_payment_id);
    expect(await statusAtProvider(release!.provider_payment_id!)).toBe('voided');
    expect(await decisionsOf(payment.id)).toContain('hold-renewal-failed');
  });

  it('leaves nothing to release, and no failed step, when a renewal is worked twice (found by a review)', async () => {
    // A worker whose lease lapsed mid-renewal finishes it after another worker renewed the same hold: the same key
    // gives it the same new hold, which the payment already points at. Before, it queued that hold's release (the
    // payment's own: refused, a failed step, and its key taken from the hold's real release later).
    await startAt(4);
    await server.payments.worker.runOnce(); // the hold, nothing renewed in the pass that placed it
    const stale = await db()
      .selectFrom('payments')
      .selectAll()
      .where('id', '=', (await paymentOf('DEMO0004')).id)
      .executeTakeFirstOrThrow();
    expect(stale.renewed_from_provider_payment_id).toBeNull();
    await releaseExpiringHolds(server.payments.ctx);
    const renew = await db()
      .selectFrom('payment_outbox')
      .selectAll()
      .where('payment_id', '=', stale.id)
      .where('action', '=', 'renew')
      .executeTakeFirstOrThrow();
    await server.payments.worker.runUntilIdle(); // renewed and the old hold released
    expect(await renewStep(server.payments.ctx, renew, stale)).toBe('done'); // the lapsed worker, its stale row
    await server.payments.worker.runUntilIdle();
    const payment = await paymentOf('DEMO0004');
    expect(payment.renewed_from_provider_payment_id).toBe(stale.provider_payment_id);
    expect(await releases(stale.id)).toEqual([
      { provider_payment_id: stale.provider_payment_id, status: 'done', attempts: 1, last_error: null },
    ]);
    expect(await statusAtProvider(payment.provider_payment_id!)).toBe('authorized');
    expect(await statusAtProvider(stale.provider_payment_id!)).toBe('voided');
  });

  it('asks again later when a refused release’s status cannot be read, then finds the hold gone', async () => {
    await startAt(5);
    await server.payments.worker.runOnce(); // the hold
    const placed = await paymentOf('DEMO0005');
    const firstHold = placed.provider_payment_id!;
    voidRefused.add(firstHold);
    unreachable.add(firstHold);
    await workDue(); // renewed; the release refused, its status unreadable
    const payment = await paymentOf('DEMO0005');
    expect(payment.renewed_from_provider_payment_id).toBe(firstHold);
    expect(await releases(payment.id)).toEqual([
      {
        provider_payment_id: firstHold,
        status: 'pending',
        attempts: 1,
        last_error: 'ProviderUnavailable: void refused (InvalidState), status unreadable: connection refused (test)',
      },
    ]);
    // Meanwhile the hold went (voided at the provider); its status readable again, the release is done.
    expect((await sandbox.void({ idempotencyKey: 'test-void', providerPaymentId: firstHold })).ok).toBe(true);
    unreachable.delete(firstHold);
    clock.advanceMs(RETRY_BASE_MS);
    await server.payments.worker.runUntilIdle();
    voidRefused.delete(firstHold);
    expect(await releases(payment.id)).toEqual([
      { provider_payment_id: firstHold, status: 'done', attempts: 2, last_error: 'already released' },
    ]);
    expect(await decisionsOf(payment.id)).not.toContain('renewed-hold-not-released');
  });

  it('releases a renewal’s hold placed by an attempt whose answer was lost, once the payment no longer needs it', async () => {
    // Found by the crash test's --renew-holds: the renewal placed a hold but its answer was lost (and its status
    // unreadable), the session ended and its old hold was captured before the renewal's retry, which then found
    // nothing to renew and left the new hold on the driver's card, unknown to our books.
    const transactionId = await startAt(6);
    await server.payments.worker.runOnce(); // the hold
    const placed = await paymentOf('DEMO0006');
    renewalAnswersLost = true;
    try {
      await workDue(); // the renewal placed at the provider, its outcome unknown: retried later
    } finally {
      renewalAnswersLost = false;
    }
    const renewal = () =>
      db()
        .selectFrom('payment_outbox')
        .select(['status', 'attempts', 'last_error'])
        .where('payment_id', '=', placed.id)
        .where('action', '=', 'renew')
        .executeTakeFirstOrThrow();
    expect(await renewal()).toMatchObject({ status: 'pending', attempts: 1 });
    const made = await sandbox.getStatus({ idempotencyKey: `renew:${placed.id}:${placed.provider_payment_id}` });
    if (!made.ok) throw new Error(made.error.message);
    expect(made.value.status).toBe('authorized');
    // The session ends: its old hold is captured before the renewal's next attempt.
    await stations[5]!.call('StopTransaction', {
      transactionId,
      meterStop: 8_000,
      timestamp: clock.now().toISOString(),
    });
    await workDue();
    expect((await paymentOf('DEMO0006')).status).toBe('captured');
    clock.advanceMs(60_000);
    await workDue();
    expect(await renewal()).toEqual({
      status: 'done',
      attempts: 2,
      last_error: 'nothing to renew; its hold made before released',
    });
    expect(await statusAtProvider(made.value.providerPaymentId)).toBe('voided');
    expect(await releases(placed.id)).toEqual([
      { provider_payment_id: made.value.providerPaymentId, status: 'done', attempts: 1, last_error: null },
    ]);
    const captured = await paymentOf('DEMO0006');
    expect(captured).toMatchObject({ status: 'captured', provider_payment_id: placed.provider_payment_id });
  });

  it('refuses a release that names the payment’s own hold', async () => {
    const payment = await paymentOf('DEMO0003');
    const own = payment.provider_payment_id!;
    await enqueueOutbox(db(), {
      paymentId: payment.id,
      action: 'release',
      idempotencyKey: `test-release-own:${own}`,
      providerPaymentId: own,
      notBefore: clock.now(),
    });
    calls.length = 0;
    await server.payments.worker.runUntilIdle();
    const item = await db()
      .selectFrom('payment_outbox')
      .select(['status', 'last_error'])
      .where('idempotency_key', '=', `test-release-own:${own}`)
      .executeTakeFirstOrThrow();
    expect(item).toEqual({ status: 'failed', last_error: 'refused: the hold is the payment’s own' });
    expect(calls.filter((c) => c === `void ${own}`)).toEqual([]);
    expect(await statusAtProvider(own)).toBe('authorized');
  });

  it('refuses, in the table, a release that names no hold and another step that names one', async () => {
    const payment = await paymentOf('DEMO0003');
    const insert = (action: 'release' | 'void', providerPaymentId: string | null) =>
      db()
        .insertInto('payment_outbox')
        .values({
          payment_id: payment.id,
          action,
          idempotency_key: `test-check:${action}`,
          amount_minor: null,
          refund_id: null,
          provider_payment_id: providerPaymentId,
          locked_until: null,
          last_error: null,
        })
        .execute();
    const check = { code: '23514', constraint: 'payment_outbox_release_names_hold' };
    await expect(insert('release', null)).rejects.toMatchObject(check);
    await expect(insert('void', 'pi_test')).rejects.toMatchObject(check);
  });
});
