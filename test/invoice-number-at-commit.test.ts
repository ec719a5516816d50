/**
 * Per-session invoices numbered at commit (migration 0011): an invoice inserted without a number gets the next
 * gapless number of its series when its transaction commits, in its row and in its document; a rolled-back one
 * takes no number; numbers taken at once (statements, credit notes, takeInvoiceNumber) and at commit share one
 * counter; and nothing else of an invoice can ever change.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeInvoiceNumber } from '../src/billing/invoices/invoice-numbers.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../src/db/open-database.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';

const skip = postgresSkipReason();

class RolledBack extends Error {}

describe.skipIf(skip)('invoice numbers taken at commit', () => {
  let handle: DatabaseHandle;
  let url: string | undefined;
  let operatorId: string;

  beforeAll(async () => {
    const target = await createTestDatabaseUrl();
    if (target === 'memory') {
      handle = await openDatabase({ kind: 'pglite', dataDir: 'memory', command: 'test' });
    } else {
      url = target;
      handle = await openDatabase({ kind: 'postgres', url });
    }
    await migrateToLatest(handle.db);
    const op = await handle.db
      .insertInto('operators')
      .values({ name: 'At-commit CPO', country_code: 'DE', party_id: 'ACN', currency: 'EUR' })
      .returning('id')
      .executeTakeFirstOrThrow();
    operatorId = op.id;
  }, 180_000);
  afterAll(async () => {
    await handle?.close();
  });

  /** Inserts an invoice without a number, as issueInvoice does for kind 'invoice'. */
  const insertUnnumbered = (db: DatabaseHandle['db'], tag: string) =>
    db
      .insertInto('invoices')
      .values({
        operator_id: operatorId,
        kind: 'invoice',
        series: 'INV',
        number: sql<bigint>`null`,
        invoice_number: sql<string>`null`,
        credits_invoice_id: null,
        id_token_id: null,
        customer_id: null,
        currency: 'EUR',
        total_excl_vat_minor: 100n,
        total_vat_minor: 19n,
        total_incl_vat_minor: 119n,
        document: JSON.stringify({ invoiceNumber: '', tag }),
        issued_at: new Date(),
        tax_point_date: '2026-11-26',
        period_start: null,
        period_end: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

  it('numbers committed invoices 1..N with no gap, in the row and the document, sharing the counter', async () => {
    const workers = testBackend === 'postgres' ? 8 : 4;
    const perWorker = testBackend === 'postgres' ? 30 : 10;
    const open = async () => (url ? openDatabase({ kind: 'postgres', url, maxConnections: 4 }) : handle);
    let committed = 0;
    const issueOne = async (db: DatabaseHandle['db'], worker: number, i: number) => {
      try {
        await db.transaction().execute(async (trx) => {
          if ((worker + i) % 7 === 3) {
            // Now and then a number taken at once, from the same counter (as a statement would).
            const { number, invoiceNumber } = await takeInvoiceNumber(trx, operatorId, 'INV');
            await trx
              .insertInto('invoices')
              .values({
                operator_id: operatorId,
                kind: 'statement',
                series: 'INV',
                number,
                invoice_number: invoiceNumber,
                credits_invoice_id: null,
                id_token_id: null,
                customer_id: null,
                currency: 'EUR',
                total_excl_vat_minor: 100n,
                total_vat_minor: 19n,
                total_incl_vat_minor: 119n,
                document: JSON.stringify({ invoiceNumber, tag: `${worker}/${i}` }),
                issued_at: new Date(),
                tax_point_date: '2026-11-26',
                period_start: null,
                period_end: null,
              })
              .execute();
          } else {
            const row = await insertUnnumbered(trx, `${worker}/${i}`);
            // Inside the issuing transaction the invoice has no number yet.
            const inside = await trx
              .selectFrom('invoices')
              .select('number')
              .where('id', '=', row.id)
              .executeTakeFirstOrThrow();
            expect(inside.number).toBeNull();
          }
          // Every fifth issue rolls back: its number must never be taken.
          if ((worker + i) % 5 === 0) throw new RolledBack();
        });
        committed++;
      } catch (error) {
        if (!(error instanceof RolledBack)) throw error;
      }
    };
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        const db = await open();
        for (let i = 0; i < perWorker; i++) await issueOne(db.db, worker, i);
        if (url) await db.close();
      }),
    );
    const rows = await handle.db
      .selectFrom('invoices')
      .select(['number', 'invoice_number', 'document'])
      .where('operator_id', '=', operatorId)
      .orderBy('number')
      .execute();
    expect(rows.length).toBe(committed);
    expect(rows.map((r) => Number(r.number))).toEqual(Array.from({ length: committed }, (_, i) => i + 1));
    for (const row of rows) {
      expect(row.invoice_number).toBe(`INV-${String(row.number).padStart(8, '0')}`);
      expect((row.document as { invoiceNumber: string }).invoiceNumber).toBe(row.invoice_number);
    }
    const counter = await handle.db
      .selectFrom('invoice_counters')
      .select('next_number')
      .where('operator_id', '=', operatorId)
      .where('series', '=', 'INV')
      .executeTakeFirstOrThrow();
    expect(counter.next_number).toBe(BigInt(committed + 1));
  });

  it('refuses any other change: of a committed invoice, or of anything but the number before commit', async () => {
    const committedRow = await handle.db
      .selectFrom('invoices')
      .select(['id', 'number'])
      .where('operator_id', '=', operatorId)
      .orderBy('number')
      .limit(1)
      .executeTakeFirstOrThrow();
    await expect(
      handle.db.updateTable('invoices').set({ number: 999_999n }).where('id', '=', committedRow.id).execute(),
    ).rejects.toThrow(/append-only/);
    await expect(
      handle.db.transaction().execute(async (trx) => {
        const row = await insertUnnumbered(trx, 'tamper');
        await trx
          .updateTable('invoices')
          .set({ number: 999_998n, invoice_number: 'INV-00999998', total_incl_vat_minor: 1n, total_vat_minor: -99n })
          .where('id', '=', row.id)
          .execute();
      }),
    ).rejects.toThrow(/append-only/);
    await expect(handle.db.deleteFrom('invoices').where('id', '=', committedRow.id).execute()).rejects.toThrow(
      /append-only/,
    );
  });
});
