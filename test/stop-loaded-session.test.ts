/**
 * The stop no longer reads its billed session back for the invoice and the ledger (loadSessionToInvoiceWithInvoiceId):
 * billSession builds that view from the rows in hand (loadedSessionOfWrittenCdr). On a real database (both), a
 * billing hook placed before the invoice and ledger hooks compares what the stop handed on with what the read
 * returns in the same transaction: equal, field by field, and "on no invoice". A held session hands nothing on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingContext, BillingHook } from '../src/billing/billing-hooks.ts';
import { invoiceBillingHook } from '../src/billing/invoices/invoice-hook.ts';
import { loadSessionToInvoiceWithInvoiceId } from '../src/billing/invoices/load-invoice-inputs.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { ledgerBillingHook } from '../src/ledger/session-posting.ts';
import { demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import type { SessionService } from '../src/sessions/session-service.ts';
import { createTestSessionService, startDemoSession } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 6, minute));

type Seen = {
  readonly status: string;
  readonly handedOn: BillingContext['shared']['loadedSession'];
  readonly handedOnInvoiceId: BillingContext['shared']['invoiceId'];
  readonly read: Awaited<ReturnType<typeof loadSessionToInvoiceWithInvoiceId>>;
};

describe.skipIf(skip)('the billed session handed from the stop to its invoice and ledger', () => {
  let handle: DatabaseHandle;
  let service: SessionService;
  const seen = new Map<string, Seen>();

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
    // Runs first, as the invoice hook would: what the stop hands on, against the read it replaces.
    const probe: BillingHook = async (trx, { session, outcome, shared }) => {
      seen.set(session.id, {
        status: outcome.status,
        handedOn: shared.loadedSession,
        handedOnInvoiceId: shared.invoiceId,
        read: await loadSessionToInvoiceWithInvoiceId(trx, session.id),
      });
    };
    service = createTestSessionService(handle.db, at(59), [probe, invoiceBillingHook, ledgerBillingHook]);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const stop = (station: number, transactionId: string, meterStopWh: bigint, minute: number) =>
    service.end({
      kind: 'TransactionEnded',
      stationId: demoStationId(station),
      transactionId,
      meterStopWh,
      endedAt: at(minute),
      reason: 'Local',
      samples: [],
    });

  it('is what the read returns, and the invoice and ledger are written from it', async () => {
    const sessionId = await startDemoSession(service, 1, 'handed-1', at(0));
    await service.sample({
      kind: 'MeterSampled',
      stationId: demoStationId(1),
      transactionId: 'handed-1',
      samples: [{ at: at(20), context: 'Sample.Periodic', energyRegisterMilliWh: 8_500_000n, powerW: 11_000 }],
    });
    const ended = await stop(1, 'handed-1', 13_345n, 45);
    expect(ended).toMatchObject({ known: true, duplicate: false, billing: 'Billed' });

    const probe = seen.get(sessionId);
    expect(probe?.status).toBe('Billed');
    expect(probe?.read).toBeDefined();
    expect(probe?.handedOn).toEqual(probe?.read?.loaded);
    expect(probe?.handedOn?.energyWh).toBe(12_345n);
    expect(probe?.handedOn?.meterStopWh).toBe(13_345n);
    expect(probe?.handedOn?.endedAt).toEqual(at(45));
    expect(probe?.handedOn?.lines.length).toBeGreaterThan(0);
    expect(probe?.handedOnInvoiceId).toBeNull();
    expect(probe?.read?.invoiceId).toBeNull();

    // The invoice and the ledger transfer were written from the handed-on view, once each, for the CDR's total.
    const cdr = await handle.db
      .selectFrom('cdrs')
      .select(['total_incl_vat_minor'])
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    const invoices = await handle.db
      .selectFrom('invoice_sessions as s')
      .innerJoin('invoices as i', 'i.id', 's.invoice_id')
      .select(['i.total_incl_vat_minor', 'i.kind'])
      .where('s.session_id', '=', sessionId)
      .execute();
    expect(invoices).toEqual([{ total_incl_vat_minor: cdr.total_incl_vat_minor, kind: 'invoice' }]);
    const transfers = await handle.db
      .selectFrom('ledger_transfers')
      .select('id')
      .where('cause_type', '=', 'session')
      .where('cause_id', '=', sessionId)
      .execute();
    expect(transfers).toHaveLength(1);
  });

  it('hands nothing on for a held session (no CDR)', async () => {
    const sessionId = await startDemoSession(service, 2, 'handed-2', at(0));
    // A meter that runs backwards is implausible: held for review, nothing billed.
    const ended = await stop(2, 'handed-2', 500n, 30);
    expect(ended).toMatchObject({ known: true, duplicate: false, billing: 'Held' });
    const probe = seen.get(sessionId);
    expect(probe?.status).toBe('Held');
    expect(probe?.handedOn).toBeUndefined();
    expect(probe?.read).toBeUndefined();
  });
});
