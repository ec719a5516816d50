/**
 * The crash test's ledger and invoice checks (test/chaos/chaos-checks.ts) on a real database: they pass after real
 * billing and a booked capture, and each reports the fault it exists for — a session or a capture booked a second
 * time under another idempotency key, a Billed session missing its invoice, an invoice whose totals are not its
 * sessions'. Ledger and invoice rows are append-only, so the faults pile up in order and each step checks that the
 * new fault is reported by its own check and the earlier checks still see only the earlier faults.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingHook } from '../src/billing/billing-hooks.ts';
import { invoiceBillingHook } from '../src/billing/invoices/invoice-hook.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import type { PaymentRow } from '../src/db/schema.ts';
import { accounts } from '../src/ledger/accounts.ts';
import { postTransfer } from '../src/ledger/post-transfer.ts';
import { ledgerBillingHook } from '../src/ledger/session-posting.ts';
import { bookCapture } from '../src/payments/payment-ledger.ts';
import { demoIdTag, demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import type { SessionService } from '../src/sessions/session-service.ts';
import { checkInvoicedSessions, checkLedgerCauses } from './chaos/chaos-checks.ts';
import { createTestSessionService } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();

const SESSION_CHECK = 'ledger: every Billed session booked';
const CAPTURE_CHECK = 'ledger: every captured payment booked';
const INVOICED_CHECK = 'every Billed session on exactly one invoice';
const TOTALS_CHECK = "every invoice's totals";

describe.skipIf(skip)('crash test checks: ledger causes and invoiced sessions', () => {
  let handle: DatabaseHandle;
  let operatorId: string;
  let meter = 0;
  let at = new Date('2026-11-01T06:00:00Z').getTime();
  const sessions: string[] = [];
  let payment: PaymentRow;

  const service = (billingHooks: readonly BillingHook[]): SessionService =>
    createTestSessionService(handle.db, new Date('2026-11-20T08:00:00Z'), billingHooks);

  async function charge(sessionService: SessionService, energyWh: number): Promise<string> {
    at += 3 * 3600_000;
    const started = await sessionService.start({
      kind: 'TransactionStarted',
      stationId: demoStationId(1),
      evseId: 1,
      connectorId: 1,
      idTag: demoIdTag(1),
      meterStartWh: BigInt(meter),
      startedAt: new Date(at),
    });
    if (!started.ok) throw new Error(started.message);
    meter += energyWh;
    await sessionService.end({
      kind: 'TransactionEnded',
      stationId: demoStationId(1),
      transactionId: started.transactionId,
      meterStopWh: BigInt(meter),
      endedAt: new Date(at + 30 * 60_000),
      samples: [],
    });
    return started.sessionId;
  }

  /** The four checks, in order, as `<check> | <detail>` (the check named by the start of its name above). */
  async function run(): Promise<{ ok: boolean; line: string }[]> {
    const results = [...(await checkLedgerCauses(handle.db)), ...(await checkInvoicedSessions(handle.db))];
    const names = [SESSION_CHECK, CAPTURE_CHECK, INVOICED_CHECK, TOTALS_CHECK];
    expect(results.map((r, n) => r.name.startsWith(names[n]!))).toEqual([true, true, true, true]);
    return results.map((r, n) => ({ ok: r.ok, line: `${names[n]} | ${r.detail}` }));
  }
  /** The failing checks among the four. */
  const failing = async () => (await run()).filter((r) => !r.ok).map((r) => r.line);

  beforeAll(async () => {
    handle = await openTestDatabase();
    operatorId = (await seedDemo(handle.db, 'half-up'))!.operatorId;
    const billing = service([invoiceBillingHook, ledgerBillingHook]);
    sessions.push(await charge(billing, 12_000), await charge(billing, 4_000));
    const invoice = await handle.db
      .selectFrom('invoice_sessions')
      .select(['invoice_id', 'total_incl_vat_minor'])
      .where('session_id', '=', sessions[0]!)
      .executeTakeFirstOrThrow();
    payment = await handle.db
      .insertInto('payments')
      .values({
        operator_id: operatorId,
        kind: 'session',
        provider: 'sandbox',
        session_id: sessions[0]!,
        currency: 'EUR',
        requested_minor: 2000n,
        authorized_minor: 2000n,
        captured_minor: invoice.total_incl_vat_minor,
        due_minor: invoice.total_incl_vat_minor,
        invoice_id: invoice.invoice_id,
        status: 'captured',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect((await bookCapture(handle.db, payment, payment.captured_minor, new Date())).ok).toBe(true);
  }, 180_000);
  afterAll(async () => {
    await handle?.close();
  });

  it('pass after real billing and a booked capture', async () => {
    expect(await run()).toEqual([
      { ok: true, line: `${SESSION_CHECK} | 2 Billed sessions (0 free, no transfer); 0 wrong` },
      { ok: true, line: `${CAPTURE_CHECK} | 1 captured payments; 0 wrong` },
      { ok: true, line: `${INVOICED_CHECK} | 2 Billed sessions; 0 wrong` },
      { ok: true, line: `${TOTALS_CHECK} | 2 invoices and statements; 0 differ` },
    ]);
  });

  it('report a session booked a second time under another idempotency key', async () => {
    const sessionId = sessions[1]!;
    const posted = await postTransfer(handle.db, {
      operatorId,
      currency: 'EUR',
      idempotencyKey: `session:${sessionId}:billed-again`,
      cause: { type: 'session', id: sessionId },
      postings: [
        { account: accounts.customerReceivables(), amountMinor: 100n },
        { account: accounts.chargingRevenue(), amountMinor: -100n },
      ],
    });
    expect(posted.ok).toBe(true);
    expect(await failing()).toEqual([
      `${SESSION_CHECK} | 2 Billed sessions (0 free, no transfer); 1 wrong: ${sessionId}: 2 transfers`,
    ]);
  });

  it('report a capture booked a second time under another idempotency key', async () => {
    const posted = await postTransfer(handle.db, {
      operatorId,
      currency: 'EUR',
      idempotencyKey: `payment:${payment.id}:captured-by-webhook`,
      cause: { type: 'capture', id: payment.id },
      postings: [
        { account: accounts.providerClearing('sandbox'), amountMinor: payment.captured_minor },
        { account: accounts.customerReceivables(), amountMinor: -payment.captured_minor },
      ],
    });
    expect(posted.ok).toBe(true);
    const failed = await failing();
    expect(failed).toHaveLength(2);
    expect(failed[1]).toBe(
      `${CAPTURE_CHECK} | 1 captured payments; 1 wrong: ${payment.id} (session): captured ${payment.captured_minor}, 2 capture transfers`,
    );
  });

  it('report a Billed session missing its invoice', async () => {
    // Billed and booked in the ledger, but the invoicing hook did not run.
    const sessionId = await charge(service([ledgerBillingHook]), 6_000);
    const failed = await failing();
    expect(failed).toHaveLength(3);
    expect(failed[2]).toBe(`${INVOICED_CHECK} | 3 Billed sessions; 1 wrong: ${sessionId}: Billed, on no invoice`);
  });

  it("report an invoice whose totals are not its sessions' CDR totals", async () => {
    await sql`insert into invoices (operator_id, kind, series, number, invoice_number, currency, total_excl_vat_minor,
                                    total_vat_minor, total_incl_vat_minor, document, issued_at, tax_point_date)
              values (${operatorId}, 'statement', 'STM', 1, 'STM-BROKEN', 'EUR', 100, 19, 119, '{}'::jsonb, now(),
                      current_date)`.execute(handle.db);
    const failed = await failing();
    expect(failed).toHaveLength(4);
    expect(failed[3]).toBe(
      `${TOTALS_CHECK} | 3 invoices and statements; 1 differ: STM-BROKEN: 0 sessions, totals 100/119, CDRs 0/0`,
    );
  });
});
