/**
 * Invoicing throughput, durably on PostgreSQL (fsync and synchronous_commit on):
 *   (a) per-session invoices issued per second from 16 concurrent workers (load the priced session, take the next
 *       gapless number, store the document and its session; one transaction each, serialized on the series'
 *       counter row by design),
 *   (b) PDF renderings per second and (c) UBL 2.1 renderings per second, on one core, from stored documents.
 * Run: npx tsx bench/invoices.bench.ts [invoices]   (default 3,000; needs initdb/pg_ctl)
 * Not part of the test run.
 */
import { sql } from 'kysely';
import type { InvoiceDocument } from '../src/billing/invoices/invoice-document.ts';
import { issueInvoice } from '../src/billing/invoices/issue-invoice.ts';
import { anonymousBuyer, loadSessionsToInvoice } from '../src/billing/invoices/load-invoice-inputs.ts';
import { renderInvoicePdf } from '../src/billing/invoices/render-pdf.ts';
import { renderInvoiceUbl } from '../src/billing/invoices/render-ubl.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { seedDemo } from '../src/seed/seed-demo.ts';
import { startPostgres } from '../test/support/postgres-server.ts';

const TOTAL = Number(process.argv[2] ?? 3_000);
const WORKERS = 16;

/** The demo tariff's lines for a 20 kWh daytime session (as the tariff engine stores them in cdrs.lines). */
const LINES = [
  {
    dimension: 'FLAT',
    elementIndex: 1,
    unitPriceExclVat: '0.35',
    priceUnit: 'session',
    volume: '1',
    measuredVolume: '1',
    volumeUnit: 'session',
    vatPercent: '19',
    vat: 'rate',
    unroundedExclVat: '0.35',
    unroundedInclVat: '0.4165',
    exclVat: { minor: '35', currency: 'EUR' },
    inclVat: { minor: '42', currency: 'EUR' },
  },
  {
    dimension: 'ENERGY',
    elementIndex: 1,
    unitPriceExclVat: '0.49',
    priceUnit: 'kWh',
    volume: '20',
    measuredVolume: '20',
    volumeUnit: 'kWh',
    vatPercent: '19',
    vat: 'rate',
    unroundedExclVat: '9.8',
    unroundedInclVat: '11.662',
    exclVat: { minor: '980', currency: 'EUR' },
    inclVat: { minor: '1166', currency: 'EUR' },
  },
];

const server = await startPostgres({ durable: true, maxConnections: 100 });
const handle = await openDatabase({ kind: 'postgres', url: server.url, maxConnections: WORKERS + 2 });
try {
  const db = handle.db;
  await migrateToLatest(db);
  const seeded = await seedDemo(db, 'half-up');
  if (!seeded) throw new Error('seed failed');
  const version = await db.selectFrom('tariff_versions').select('id').executeTakeFirstOrThrow();
  const token = await db.selectFrom('id_tokens').select('id').where('uid', '=', 'DEMO0001').executeTakeFirstOrThrow();
  await sql`
    insert into sessions (operator_id, station_id, evse_id, transaction_id, start_key, id_tag, id_token_id,
      authorization_status, status, billing_status, started_at, ended_at, meter_start_wh, meter_stop_wh, energy_wh,
      tariff_version_id, time_zone, currency)
    select ${seeded.operatorId}, 'DEMO-0001', 1, 'bench-' || n, 'bench-' || n, 'DEMO0001', ${token.id}, 'Accepted',
      'Completed', 'Billed', timestamptz '2026-11-01 10:00Z' + n * interval '1 minute',
      timestamptz '2026-11-01 11:00Z' + n * interval '1 minute', n * 20000, n * 20000 + 20000, 20000,
      ${version.id}, 'Europe/Berlin', 'EUR'
    from generate_series(1, ${TOTAL}) n`.execute(db);
  await sql`
    insert into cdrs (id, operator_id, session_id, currency, energy_wh, total_excl_vat_minor, total_incl_vat_minor,
      tariff_version_id, cdr, lines)
    select s.id, s.operator_id, s.id, 'EUR', 20000, 1015, 1208, ${version.id}, '{}'::jsonb, ${JSON.stringify(LINES)}::jsonb
    from sessions s where s.transaction_id like 'bench-%'`.execute(db);
  const ids = (await db.selectFrom('sessions').select('id').where('transaction_id', 'like', 'bench-%').execute()).map(
    (r) => r.id,
  );

  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      for (let i = next++; i < ids.length; i = next++) {
        await db.transaction().execute(async (trx) => {
          const sessions = await loadSessionsToInvoice(trx, [ids[i]!]);
          await issueInvoice(trx, {
            operatorId: seeded.operatorId,
            kind: 'invoice',
            sessions,
            buyer: anonymousBuyer('DEMO0001', null, 'DEU', 'DE'),
            idTokenId: token.id,
            idTag: 'DEMO0001',
            customerId: null,
            period: null,
            now: new Date(),
          });
        });
      }
    }),
  );
  const issueSeconds = (performance.now() - started) / 1000;
  const numbers = await sql<{
    n: string;
    max: string;
  }>`select count(*)::text as n, max(number)::text as max from invoices`.execute(db);
  console.log(
    `(a) issued ${TOTAL} invoices in ${issueSeconds.toFixed(2)} s = ${Math.round(TOTAL / issueSeconds).toLocaleString('en')} /s ` +
      `(${WORKERS} workers; numbers 1..${numbers.rows[0]?.max}, count ${numbers.rows[0]?.n}: gapless)`,
  );

  const documents = (await db.selectFrom('invoices').select('document').limit(200).execute()).map(
    (r) => r.document as InvoiceDocument,
  );
  const RENDERS = 200;
  let t = performance.now();
  for (let i = 0; i < RENDERS; i++) await renderInvoicePdf(documents[i % documents.length]!, 'open');
  let seconds = (performance.now() - t) / 1000;
  console.log(
    `(b) rendered ${RENDERS} PDFs in ${seconds.toFixed(2)} s = ${Math.round(RENDERS / seconds)} /s (one core)`,
  );
  t = performance.now();
  const UBL = 5_000;
  for (let i = 0; i < UBL; i++) renderInvoiceUbl(documents[i % documents.length]!);
  seconds = (performance.now() - t) / 1000;
  console.log(
    `(c) rendered ${UBL} UBL documents in ${seconds.toFixed(2)} s = ${Math.round(UBL / seconds).toLocaleString('en')} /s (one core)`,
  );
} finally {
  await handle.close();
  server.stop();
}
