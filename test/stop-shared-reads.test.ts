/**
 * What the stop reads fewer times. Handed to the billing hooks (BillingShared) without the reads that used to fill
 * them: the billed session as an invoice reads it, built from the rows in hand (loadedSessionOfWrittenCdr, instead
 * of loadSessionToInvoiceWithInvoiceId); the id token's billing columns and the invoice seller, read with the EVSE
 * context by the statement that locks the session (lockSessionForBilling, instead of that lock, loadEvseContext,
 * sharedIdToken and loadSeller).
 * And the samples and charging-state changes, carried by the metering read (test/session-reads-json.test.ts). On a
 * real database (both), a billing hook placed before the invoice and ledger hooks compares each with the read it
 * replaces, in the same transaction: equal, field by field; and a stop's statements include none of those reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingContext, BillingHook } from '../src/billing/billing-hooks.ts';
import { type BillingShared, lockSessionForBilling, sharedIdToken } from '../src/billing/billing-shared.ts';
import { invoiceBillingHook } from '../src/billing/invoices/invoice-hook.ts';
import { loadSessionToInvoiceWithInvoiceId, sellerOf } from '../src/billing/invoices/load-invoice-inputs.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { ledgerBillingHook } from '../src/ledger/session-posting.ts';
import { demoIdTag, demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import type { SessionService } from '../src/sessions/session-service.ts';
import { findSessionByTransaction } from '../src/sessions/session-store.ts';
import { loadEvseContext } from '../src/stations/station-store.ts';
import { statementsOf } from './support/generic-plan.ts';
import { createTestSessionService, startDemoSession } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 6, minute));

type Seen = {
  readonly status: string;
  readonly handedOn: BillingContext['shared']['loadedSession'];
  readonly handedOnInvoiceId: BillingContext['shared']['invoiceId'];
  readonly read: Awaited<ReturnType<typeof loadSessionToInvoiceWithInvoiceId>>;
  /** The EVSE context and the token's columns as handed on, and as the separate reads return them. */
  readonly place: Pick<BillingShared, 'evse' | 'idToken' | 'billingPlan' | 'paymentProfile' | 'seller'>;
  readonly placeRead: Pick<BillingShared, 'evse' | 'idToken' | 'billingPlan' | 'paymentProfile' | 'seller'>;
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
      const placeRead: BillingShared = {
        evse: (await loadEvseContext(trx, session.station_id, session.evse_id, { acceptedOnly: false })) ?? null,
      };
      if (session.id_token_id) await sharedIdToken(trx, placeRead, session.id_token_id);
      const configured = await trx
        .selectFrom('invoice_sellers')
        .selectAll()
        .where('operator_id', '=', session.operator_id)
        .executeTakeFirst();
      placeRead.seller = configured ? sellerOf(configured) : null;
      const { evse, idToken, billingPlan, paymentProfile, seller } = shared;
      seen.set(session.id, {
        status: outcome.status,
        handedOn: shared.loadedSession,
        handedOnInvoiceId: shared.invoiceId,
        read: await loadSessionToInvoiceWithInvoiceId(trx, session.id),
        place: { evse, idToken, billingPlan, paymentProfile, seller },
        placeRead,
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
    expect(probe?.place).toEqual(probe?.placeRead);
    expect(probe?.place.evse?.stationId).toBe(demoStationId(1));
    expect(probe?.place.idToken?.type).toBe('RFID');
    expect(probe?.place.billingPlan).toBeNull();
    expect(probe?.place.paymentProfile).toBeNull();
    expect(probe?.place.seller).toMatchObject({ name: 'Voltbill Demo CPO GmbH', vatId: 'DE123456789' });

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

  it('hands on the token’s invoicing plan and payment profile as their own read returns them', async () => {
    const token = await handle.db
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', demoIdTag(3))
      .executeTakeFirstOrThrow();
    await handle.db
      .insertInto('invoice_billing_plans')
      .values({
        id_token_id: token.id,
        operator_id: token.operator_id,
        mode: 'per_session',
        buyer_name: 'Fleet Logistics AG',
        buyer_vat_id: 'DE987654321',
        buyer_street: 'Hafenstraße 1',
        buyer_city: 'Hamburg',
        buyer_postal_code: '20457',
        buyer_country_code: 'DE',
      })
      .execute();
    await handle.db
      .insertInto('payment_profiles')
      .values({ id_token_id: token.id, operator_id: token.operator_id, method: 'invoice', hold_minor: 2_500n })
      .execute();
    const sessionId = await startDemoSession(service, 3, 'handed-3', at(0));
    expect(await stop(3, 'handed-3', 5_000n, 40)).toMatchObject({ billing: 'Billed' });
    const probe = seen.get(sessionId);
    expect(probe?.place).toEqual(probe?.placeRead);
    expect(probe?.place.billingPlan).toMatchObject({
      mode: 'per_session',
      buyer_vat_id: 'DE987654321',
      buyer_city: 'Hamburg',
    });
    expect(probe?.place.paymentProfile).toMatchObject({ method: 'invoice', hold_minor: 2_500n, wallet_id: null });
    expect(probe?.handedOn).toEqual(probe?.read?.loaded);
  });

  it('locks and returns the session row exactly as the plain locking read does', async () => {
    const sessionId = await startDemoSession(service, 6, 'handed-6', at(0));
    const plain = await findSessionByTransaction(handle.db, demoStationId(6), 'handed-6');
    const shared: BillingShared = {};
    const locked = await handle.db
      .transaction()
      .execute((trx) => lockSessionForBilling(trx, shared, demoStationId(6), 'handed-6'));
    expect(locked?.id).toBe(sessionId);
    expect(locked).toEqual(plain);
    expect(shared.evse).toEqual(await loadEvseContext(handle.db, demoStationId(6), 1, { acceptedOnly: false }));
    expect(shared.evse?.currency).toBe('EUR');
    expect(
      await handle.db.transaction().execute((trx) => lockSessionForBilling(trx, {}, demoStationId(6), 'no-such')),
    ).toBeUndefined();
  });

  it('makes neither of the reads it replaces', async () => {
    const statements = await statementsOf(handle.db, async (on) => {
      const counted = createTestSessionService(on, at(59), [invoiceBillingHook, ledgerBillingHook]);
      await startDemoSession(counted, 4, 'handed-4', at(0));
      const ended = await counted.end({
        kind: 'TransactionEnded',
        stationId: demoStationId(4),
        transactionId: 'handed-4',
        meterStopWh: 9_000n,
        endedAt: at(30),
        samples: [],
      });
      expect(ended).toMatchObject({ billing: 'Billed' });
    });
    const texts = statements.map((statement) => statement.sql);
    expect(texts.some((text) => text.includes('insert into "cdrs"'))).toBe(true);
    // The billed session with its CDR (loadSessionToInvoiceWithInvoiceId), the token alone (sharedIdToken) and the
    // configured seller alone (loadSeller).
    expect(texts.filter((text) => text.includes('from "invoice_sellers"'))).toEqual([]);
    // The samples and charging-state changes alone (loadSampleRows, loadStateChanges): the metering read carries them.
    expect(texts.filter((text) => /from "(meter_samples|session_states)"/.test(text))).toEqual([]);
    expect(texts.filter((text) => text.includes('from meter_samples s where s.session_id'))).toHaveLength(1);
    expect(texts.filter((text) => text.includes('inner join "cdrs" as "c"'))).toEqual([]);
    expect(texts.filter((text) => text.includes('from "id_tokens" as "t" left join "invoice_billing_plans"'))).toEqual(
      [],
    );
    // The EVSE context is read on its own by the start only; the stop's comes with its lock of the session.
    expect(texts.filter((text) => text.includes('from "stations" as "s" inner join "operators"'))).toHaveLength(1);
    const locks = texts.filter((text) => text.includes('from "sessions" as "x"'));
    expect(locks).toHaveLength(1);
    expect(locks[0]).toMatch(/left join "invoice_sellers" as "sl".* for update of "x"$/s);
    expect(texts.filter((text) => /^select \* from "sessions" where .* for update$/s.test(text))).toEqual([]);
  });

  it('without a configured seller, hands on "none" and the invoice names the seller derived from the operator', async () => {
    const sessionId = await startDemoSession(service, 5, 'handed-5', at(0));
    const operator = await handle.db
      .selectFrom('sessions')
      .select('operator_id')
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    await handle.db.deleteFrom('invoice_sellers').where('operator_id', '=', operator.operator_id).execute();
    expect(await stop(5, 'handed-5', 4_000n, 20)).toMatchObject({ billing: 'Billed' });
    const probe = seen.get(sessionId);
    expect(probe?.place.seller).toBeNull();
    expect(probe?.place).toEqual(probe?.placeRead);
    const invoice = await handle.db
      .selectFrom('invoice_sessions as s')
      .innerJoin('invoices as i', 'i.id', 's.invoice_id')
      .select('i.document')
      .where('s.session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    expect((invoice.document as { seller: { name: string; vatId: string | null } }).seller).toMatchObject({
      name: 'Voltbill Demo CPO',
      vatId: null,
    });
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
    expect(probe?.place).toEqual(probe?.placeRead);
  });
});
