/**
 * Reconciliation on a real database: clean after real billing, payments, refunds, holds and corrections (also as
 * a property over random sequences of them), loud on a deliberately corrupted copy, and the CLI's exit codes.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoiceBillingHook } from '../src/billing/invoices/invoice-hook.ts';
import { issueCreditNote } from '../src/billing/invoices/issue-credit-note.ts';
import { runReconcileCommand } from '../src/commands/reconcile-command.ts';
import { BatchWriter } from '../src/db/batch-writer.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { accounts } from '../src/ledger/accounts.ts';
import { trialBalance } from '../src/ledger/balances.ts';
import { createHold, postHold, voidHold } from '../src/ledger/holds.ts';
import { postTransfer } from '../src/ledger/post-transfer.ts';
import { reverseTransfer } from '../src/ledger/reverse-transfer.ts';
import { ledgerBillingHook } from '../src/ledger/session-posting.ts';
import { createMetrics } from '../src/metrics.ts';
import { reconcile } from '../src/reconcile/reconcile.ts';
import { startReconcileJob } from '../src/reconcile/reconcile-job.ts';
import { demoIdTag, demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import { createSessionService, type SessionService } from '../src/sessions/session-service.ts';
import { insertSamples, type SampleRow } from '../src/sessions/session-store.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();

type World = {
  handle: DatabaseHandle;
  operatorId: string;
  service: SessionService;
  clock: ReturnType<typeof fixedClock>;
  /** Starts and ends a session; returns its id. */
  charge(card: number, energyWh: number, minutes: number): Promise<string>;
};

async function createWorld(): Promise<World> {
  const handle = await openTestDatabase();
  const seeded = await seedDemo(handle.db, 'half-up');
  const clock = fixedClock(new Date('2026-11-20T08:00:00Z'));
  const db = handle.db;
  const service = createSessionService({
    db,
    clock,
    logger: pino({ level: 'silent' }),
    sampleWriter: new BatchWriter<SampleRow>((rows) => insertSamples(db, rows), {
      maxBatchItems: 100,
      maxQueuedItems: 10_000,
    }),
    maxSamplesPerSession: 1000,
    billingHooks: [invoiceBillingHook, ledgerBillingHook],
  });
  const meters = new Map<number, number>();
  let at = new Date('2026-11-01T06:00:00Z').getTime();
  return {
    handle,
    operatorId: seeded!.operatorId,
    service,
    clock,
    async charge(card, energyWh, minutes) {
      const station = ((card - 1) % 10) + 1;
      const meter = meters.get(station) ?? 0;
      at += 3 * 3600_000;
      const started = await service.start({
        kind: 'TransactionStarted',
        stationId: demoStationId(station),
        evseId: 1,
        connectorId: 1,
        idTag: demoIdTag(card),
        meterStartWh: BigInt(meter),
        startedAt: new Date(at),
      });
      if (!started.ok) throw new Error(started.message);
      meters.set(station, meter + energyWh);
      await service.end({
        kind: 'TransactionEnded',
        stationId: demoStationId(station),
        transactionId: started.transactionId,
        meterStopWh: BigInt(meter + energyWh),
        endedAt: new Date(at + minutes * 60_000),
        samples: [],
      });
      return started.sessionId;
    },
  };
}

/** Captures an invoice's amount as the payments module does: clearing debited, receivables credited. */
async function capture(world: World, invoiceId: string, amountMinor: bigint, key: string) {
  const result = await postTransfer(world.handle.db, {
    operatorId: world.operatorId,
    currency: 'EUR',
    idempotencyKey: `capture:${key}`,
    cause: { type: 'capture', id: key },
    invoiceId,
    postings: [
      { account: accounts.providerClearing('sandbox'), amountMinor },
      { account: accounts.customerReceivables(), amountMinor: -amountMinor },
    ],
  });
  expect(result.ok).toBe(true);
}

async function refund(world: World, invoiceId: string, amountMinor: bigint, key: string) {
  const result = await postTransfer(world.handle.db, {
    operatorId: world.operatorId,
    currency: 'EUR',
    idempotencyKey: `refund:${key}`,
    cause: { type: 'refund', id: key },
    invoiceId,
    postings: [
      { account: accounts.customerReceivables(), amountMinor },
      { account: accounts.providerClearing('sandbox'), amountMinor: -amountMinor },
    ],
  });
  expect(result.ok).toBe(true);
}

async function invoiceOf(world: World, sessionId: string) {
  return world.handle.db
    .selectFrom('invoice_sessions as i')
    .innerJoin('invoices as v', 'v.id', 'i.invoice_id')
    .select(['v.id', 'v.total_incl_vat_minor', 'v.invoice_number'])
    .where('i.session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
}

const silentIo = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), isTTY: false }, out, err };
};

describe.skipIf(skip)('reconciliation', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  }, 180_000);
  afterAll(async () => {
    await world?.handle.close();
  });

  it('is clean after sessions, payments, a refunded credit note and a corrected transfer', async () => {
    const paid = await world.charge(1, 12_000, 60);
    const open = await world.charge(2, 4_000, 30);
    const refunded = await world.charge(3, 7_000, 45);
    const paidInvoice = await invoiceOf(world, paid);
    expect(paidInvoice.invoice_number).toBe('INV-00000001');
    expect(paidInvoice.total_incl_vat_minor).toBe(742n); // per line incl. 19 % VAT: 0.35 -> 0.4165 -> 0.42; 12 kWh x 0.49 = 5.88 -> 6.9972 -> 7.00
    await capture(world, paidInvoice.id, paidInvoice.total_incl_vat_minor, 'c1');
    const refundedInvoice = await invoiceOf(world, refunded);
    await capture(world, refundedInvoice.id, refundedInvoice.total_incl_vat_minor, 'c3');
    await world.handle.db.transaction().execute((trx) =>
      issueCreditNote(trx, {
        operatorId: world.operatorId,
        invoiceId: refundedInvoice.id,
        reason: 'test',
        now: new Date(),
      }),
    );
    await refund(world, refundedInvoice.id, refundedInvoice.total_incl_vat_minor, 'r3');
    expect(open).toBeDefined();
    const report = await reconcile(world.handle.db, world.clock);
    expect(report.differences).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.counted).toEqual({ sessions: 3, invoices: 4, transfers: 7 });
    const cli = silentIo();
    expect(
      await runReconcileCommand(['--json'], cli.io, { open: async () => ({ ...world.handle, close: async () => {} }) }),
    ).toBe(0);
    expect(JSON.parse(cli.out.join('')).clean).toBe(true);
  });

  it('finds a partial capture and money captured for no invoice', async () => {
    const sessionId = await world.charge(4, 3_000, 20);
    const invoice = await invoiceOf(world, sessionId);
    await capture(world, invoice.id, invoice.total_incl_vat_minor - 1n, 'c4');
    const report = await reconcile(world.handle.db, world.clock);
    expect(report.differences).toEqual([
      {
        check: 'captures_equal_paid_invoices',
        operatorId: world.operatorId,
        subject: `invoice:${invoice.invoice_number}`,
        message: 'captured amount (net of refunds) differs from the amount the invoice asks for (minor units)',
        expected: invoice.total_incl_vat_minor.toString(),
        actual: (invoice.total_incl_vat_minor - 1n).toString(),
      },
    ]);
    await capture(world, invoice.id, 1n, 'c4b');
    expect((await reconcile(world.handle.db, world.clock)).clean).toBe(true);
  });

  it('accepts a partial capture while a payment of the invoice has failed (dunning collects the rest), never more', async () => {
    const sessionId = await world.charge(5, 5_000, 25);
    const invoice = await invoiceOf(world, sessionId);
    // A wallet that ran out: part debited, the payment failed, the rest is an open receivable.
    await world.handle.db
      .insertInto('payments')
      .values({
        operator_id: world.operatorId,
        kind: 'wallet_debit',
        provider: 'wallet',
        session_id: sessionId,
        currency: 'EUR',
        requested_minor: invoice.total_incl_vat_minor,
        captured_minor: 100n,
        due_minor: invoice.total_incl_vat_minor,
        invoice_id: invoice.id,
        status: 'failed',
      })
      .execute();
    await capture(world, invoice.id, 100n, 'c5');
    expect((await reconcile(world.handle.db, world.clock)).differences).toEqual([]);
    // The driver pays the rest through the pay link: exactly the invoice.
    await capture(world, invoice.id, invoice.total_incl_vat_minor - 100n, 'c5b');
    expect((await reconcile(world.handle.db, world.clock)).clean).toBe(true);
    // One cent more than the invoice asks is flagged even with the failed payment.
    await capture(world, invoice.id, 1n, 'c5c');
    const report = await reconcile(world.handle.db, world.clock);
    expect(report.differences).toEqual([
      {
        check: 'captures_equal_paid_invoices',
        operatorId: world.operatorId,
        subject: `invoice:${invoice.invoice_number}`,
        message: 'captured amount (net of refunds) differs from the amount the invoice asks for (minor units)',
        expected: invoice.total_incl_vat_minor.toString(),
        actual: (invoice.total_incl_vat_minor + 1n).toString(),
      },
    ]);
    await refund(world, invoice.id, 1n, 'r5');
    expect((await reconcile(world.handle.db, world.clock)).clean).toBe(true);
  });

  it('fails loudly on a corrupted copy: gap, edited invoice, unbalanced ledger, unbooked session', async () => {
    const db = world.handle.db;
    const sessionId = await world.charge(5, 6_000, 40);
    const invoice = await invoiceOf(world, sessionId);
    // What an operator with superuser rights could do by hand: switch the guards off and rewrite history.
    await sql`alter table invoices disable trigger invoices_append_only`.execute(db);
    await sql`alter table invoice_sessions disable trigger invoice_sessions_append_only`.execute(db);
    await sql`alter table ledger_postings disable trigger ledger_postings_balanced`.execute(db);
    await sql`alter table ledger_postings disable trigger ledger_postings_append_only`.execute(db);
    await sql`update invoice_sessions set total_incl_vat_minor = total_incl_vat_minor + 100 where invoice_id = ${invoice.id}`.execute(
      db,
    );
    await sql`delete from invoice_sessions where invoice_id in (select id from invoices where invoice_number = 'INV-00000002')`.execute(
      db,
    );
    await sql`delete from invoices where invoice_number = 'INV-00000002'`.execute(db);
    await sql`delete from ledger_postings where id = (
      select min(p.id) from ledger_postings p join ledger_transfers t on t.id = p.transfer_id
      where t.idempotency_key = ${`session:${sessionId}:billed`})`.execute(db);
    const report = await reconcile(db, world.clock);
    expect(report.clean).toBe(false);
    expect(report.checks.filter((c) => c.differences > 0).map((c) => c.check)).toEqual([
      'billed_sessions_on_one_invoice',
      'invoice_totals_equal_cdr_totals',
      'sessions_booked_in_ledger',
      'ledger_balanced',
      'invoice_numbers_gapless',
    ]);
    expect(report.differences.find((d) => d.check === 'invoice_numbers_gapless')).toMatchObject({
      subject: 'series:INV',
      message: 'numbers missing: 2',
    });
    const cli = silentIo();
    expect(
      await runReconcileCommand([], cli.io, { open: async () => ({ ...world.handle, close: async () => {} }) }),
    ).toBe(1);
    expect(cli.out.join('')).toContain('FAIL  invoice_numbers_gapless');
    expect(cli.out.join('')).toContain('numbers missing: 2');
  });

  it('runs as a job that records its result and publishes it on /metrics', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const job = startReconcileJob({
      db: world.handle.db,
      clock: world.clock,
      logger: pino({ level: 'silent' }),
      metrics,
      intervalMs: 3_600_000,
    });
    const report = await job.runNow();
    await job.stop();
    expect(report.clean).toBe(false); // the corrupted copy of the previous test
    const text = await metrics.registry.metrics();
    expect(text).toContain('voltbill_reconcile_clean 0');
    expect(text).toContain('voltbill_reconcile_differences{check="invoice_numbers_gapless"} 1');
    expect(text).toContain('voltbill_reconcile_differences{check="billed_sessions_have_one_cdr"} 0');
    const runs = await world.handle.db.selectFrom('reconciliation_runs').select(['clean', 'differences']).execute();
    expect(runs).toEqual([{ clean: false, differences: report.checks.reduce((s, c) => s + c.differences, 0) }]);
  });

  it('CLI: bad usage exits 2 without opening a database', async () => {
    const never = async (): Promise<DatabaseHandle> => {
      throw new Error('must not open');
    };
    for (const args of [
      ['--from', 'yesterday'],
      ['--from', '2026-11-02', '--to', '2026-11-01'],
      ['--bogus'],
      ['--to', '2026-02-30'],
    ]) {
      const cli = silentIo();
      expect(await runReconcileCommand(args, cli.io, { open: never })).toBe(2);
      expect(cli.err.join('')).toContain('usage: voltbill reconcile');
    }
  });
});

describe.skipIf(skip)('ledger and reconciliation properties', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  }, 180_000);
  afterAll(async () => {
    await world?.handle.close();
  });

  type Op =
    | { kind: 'charge'; card: number; energyWh: number; minutes: number }
    | { kind: 'pay'; pick: number }
    | { kind: 'creditAndRefund'; pick: number }
    | { kind: 'hold'; amountMinor: number; capture: number | null }
    | { kind: 'correction'; amountMinor: number };

  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('charge' as const),
      card: fc.integer({ min: 1, max: 10 }),
      energyWh: fc.integer({ min: 0, max: 20_000 }),
      minutes: fc.integer({ min: 60, max: 180 }),
    }),
    fc.record({ kind: fc.constant('pay' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('creditAndRefund' as const), pick: fc.nat() }),
    fc.record({
      kind: fc.constant('hold' as const),
      amountMinor: fc.integer({ min: 1, max: 10_000 }),
      capture: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: null }),
    }),
    fc.record({ kind: fc.constant('correction' as const), amountMinor: fc.integer({ min: 1, max: 10_000 }) }),
  );

  it('any sequence keeps the ledger balanced and the reconciliation clean', async () => {
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 6 }), async (ops) => {
        const db = world.handle.db;
        for (const o of ops) {
          const key = `p${seq++}`;
          if (o.kind === 'charge') {
            await world.charge(o.card, o.energyWh, o.minutes);
          } else if (o.kind === 'pay' || o.kind === 'creditAndRefund') {
            // Unpaid, uncredited invoices (a paid one is refunded only together with its credit note).
            const open = await sql<{ id: string; total: bigint }>`
              select v.id, v.total_incl_vat_minor as total from invoices v
              where v.kind <> 'credit_note' and v.total_incl_vat_minor > 0
                and not exists (select 1 from invoices n where n.credits_invoice_id = v.id)
                and not exists (select 1 from ledger_transfers t where t.invoice_id = v.id and t.cause_type = 'capture')
              order by v.number`.execute(db);
            const target = open.rows[o.pick % Math.max(1, open.rows.length)];
            if (!target) continue;
            await capture(world, target.id, BigInt(target.total), key);
            if (o.kind === 'creditAndRefund') {
              const credited = await db.transaction().execute((trx) =>
                issueCreditNote(trx, {
                  operatorId: world.operatorId,
                  invoiceId: target.id,
                  reason: key,
                  now: new Date(),
                }),
              );
              expect(credited.ok).toBe(true);
              await refund(world, target.id, BigInt(target.total), key);
            }
          } else if (o.kind === 'hold') {
            const hold = await createHold(db, {
              operatorId: world.operatorId,
              currency: 'EUR',
              idempotencyKey: `hold:${key}`,
              cause: { type: 'hold', id: key },
              postings: [
                { account: accounts.holdsReserved('sandbox'), amountMinor: BigInt(o.amountMinor) },
                { account: accounts.holdsPending('sandbox'), amountMinor: -BigInt(o.amountMinor) },
              ],
            });
            if (!hold.ok) throw new Error(hold.error.message);
            const resolve = {
              operatorId: world.operatorId,
              pendingId: hold.value.transferId,
              cause: { type: 'hold' as const, id: key },
            };
            const result =
              o.capture === null
                ? await voidHold(db, { ...resolve, idempotencyKey: `void:${key}` })
                : await db.transaction().execute(async (trx) => {
                    const posted = await postHold(trx, {
                      ...resolve,
                      idempotencyKey: `post:${key}`,
                      amountMinor: BigInt(Math.min(o.capture!, o.amountMinor)),
                    });
                    // A posted hold is released again (the reservation's counterpart), keeping clearing intact.
                    if (posted.ok) {
                      const undo = await reverseTransfer(trx, {
                        operatorId: world.operatorId,
                        transferId: posted.value.transferId,
                        idempotencyKey: `release:${key}`,
                        cause: { type: 'hold', id: key },
                      });
                      expect(undo.ok).toBe(true);
                    }
                    return posted;
                  });
            expect(result.ok).toBe(true);
          } else {
            const posted = await postTransfer(db, {
              operatorId: world.operatorId,
              currency: 'EUR',
              idempotencyKey: `adj:${key}`,
              cause: { type: 'correction', id: key },
              postings: [
                { account: accounts.badDebt(), amountMinor: BigInt(o.amountMinor) },
                { account: accounts.bank(), amountMinor: -BigInt(o.amountMinor) },
              ],
            });
            if (!posted.ok) throw new Error(posted.error.message);
            const reversed = await reverseTransfer(db, {
              operatorId: world.operatorId,
              transferId: posted.value.transferId,
              idempotencyKey: `adj-rev:${key}`,
              cause: { type: 'correction', id: key },
            });
            expect(reversed.ok).toBe(true);
          }
        }
        const trial = await trialBalance(db, world.operatorId);
        for (const row of trial) {
          expect(row.postedMinor).toBe(0n);
          expect(row.pendingMinor).toBe(0n);
        }
        const report = await reconcile(db, world.clock);
        expect(report.differences).toEqual([]);
      }),
      { numRuns: 12, endOnFailure: true },
    );
  });
});
