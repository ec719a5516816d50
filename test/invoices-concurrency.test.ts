/**
 * Gapless invoice numbers under concurrency: many workers (each its own connection pool, like separate nodes)
 * issue invoices at the same time, some of their transactions roll back after taking a number, one worker
 * "restarts" (closes its pool and opens a new one) halfway. The committed numbers must be exactly 1..N.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeInvoiceNumber } from '../src/billing/invoices/invoice-numbers.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type DatabaseHandle, openDatabase } from '../src/db/open-database.ts';
import { createTestDatabaseUrl, postgresSkipReason, testBackend } from './support/test-database.ts';

const skip = postgresSkipReason();

class RolledBack extends Error {}

describe.skipIf(skip)('concurrent invoice numbering', () => {
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
      .values({ name: 'Numbering CPO', country_code: 'DE', party_id: 'NUM', currency: 'EUR' })
      .returning('id')
      .executeTakeFirstOrThrow();
    operatorId = op.id;
  }, 180_000);
  afterAll(async () => {
    await handle?.close();
  });

  it('commits exactly the numbers 1..N with no gap and no duplicate', async () => {
    const workers = testBackend === 'postgres' ? 8 : 4;
    const perWorker = testBackend === 'postgres' ? 40 : 15;
    const open = async () => (url ? openDatabase({ kind: 'postgres', url, maxConnections: 4 }) : handle);
    let committed = 0;
    const issueOne = async (db: DatabaseHandle['db'], worker: number, i: number) => {
      try {
        await db.transaction().execute(async (trx) => {
          const { number, invoiceNumber } = await takeInvoiceNumber(trx, operatorId, 'INV');
          await trx
            .insertInto('invoices')
            .values({
              operator_id: operatorId,
              kind: 'invoice',
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
              document: JSON.stringify({ worker, i }),
              issued_at: new Date(),
              tax_point_date: '2026-11-26',
              period_start: null,
              period_end: null,
            })
            .execute();
          // Every fifth issue fails after it took its number: the number must return, not leave a gap.
          if ((worker + i) % 5 === 0) throw new RolledBack();
        });
        committed++;
      } catch (error) {
        if (!(error instanceof RolledBack)) throw error;
      }
    };
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        let db = await open();
        for (let i = 0; i < perWorker; i++) {
          if (worker === 0 && i === Math.floor(perWorker / 2) && url) {
            await db.close(); // a restart of this node halfway through
            db = await open();
          }
          await issueOne(db.db, worker, i);
        }
        if (url) await db.close();
      }),
    );
    const numbers = await handle.db
      .selectFrom('invoices')
      .select(['number', 'invoice_number'])
      .where('operator_id', '=', operatorId)
      .orderBy('number')
      .execute();
    expect(numbers.length).toBe(committed);
    expect(numbers.map((n) => Number(n.number))).toEqual(Array.from({ length: committed }, (_, i) => i + 1));
    expect(numbers[0]?.invoice_number).toBe('INV-00000001');
    const counter = await handle.db
      .selectFrom('invoice_counters')
      .select('next_number')
      .where('operator_id', '=', operatorId)
      .executeTakeFirstOrThrow();
    expect(counter.next_number).toBe(BigInt(committed + 1));
  });
});
