/**
 * Reconciliation: proves that what was charged, invoiced, booked and paid agree. Read-only; every check is one
 * query, so a run over millions of rows stays a handful of scans. Session and invoice checks cover the given period
 * (sessions by their end, invoices by their issue time); ledger balance and invoice numbering are always checked
 * over all time, because a gap or an imbalance anywhere is a difference now.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../shared/clock.ts';
import { type Difference, RECONCILE_CHECKS, type ReconcileCheck, type ReconcileReport } from './reconcile-report.ts';

export type ReconcileOptions = { readonly from?: Date; readonly to?: Date };

/** Differences listed per check; the count is always exact. */
const MAX_LISTED_PER_CHECK = 200;

type Row = Record<string, unknown>;

export async function reconcile(
  db: Kysely<Database>,
  clock: Clock,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const from = options.from ?? null;
  const to = options.to ?? null;
  const now = clock.now();
  const inRange = (column: string) =>
    sql`(${from}::timestamptz is null or ${sql.ref(column)} >= ${from}) and (${to}::timestamptz is null or ${sql.ref(column)} < ${to})`;
  const differences: Difference[] = [];
  const counts = new Map<ReconcileCheck, number>(RECONCILE_CHECKS.map((c) => [c, 0]));
  const add = (d: Difference) => {
    counts.set(d.check, (counts.get(d.check) ?? 0) + 1);
    if ((counts.get(d.check) ?? 0) <= MAX_LISTED_PER_CHECK) differences.push(d);
  };
  const rows = async <T extends Row>(query: ReturnType<typeof sql<T>>) => (await query.execute(db)).rows;

  // 1. Every Billed session has its CDR; no CDR belongs to a session that is not Billed.
  for (const r of await rows<{ id: string; operator_id: string; billing_status: string; cdr_id: string | null }>(sql`
      select s.id, s.operator_id, s.billing_status, c.id as cdr_id
      from sessions s left join cdrs c on c.session_id = s.id
      where s.status = 'Completed' and ${inRange('s.ended_at')}
        and ((s.billing_status = 'Billed') <> (c.id is not null))`)) {
    add({
      check: 'billed_sessions_have_one_cdr',
      operatorId: r.operator_id,
      subject: `session:${r.id}`,
      message: r.cdr_id ? `has a CDR but is ${r.billing_status}` : 'is Billed but has no CDR',
    });
  }

  // 2. Every billed session is on exactly one invoice (the unique key makes "more than one" impossible); a session
  //    of a monthly plan may wait for its statement until its month is over.
  for (const r of await rows<{ id: string; operator_id: string }>(sql`
      select s.id, s.operator_id
      from sessions s join cdrs c on c.session_id = s.id
      left join invoice_billing_plans p on p.id_token_id = s.id_token_id
      where ${inRange('s.ended_at')}
        and not exists (select 1 from invoice_sessions i where i.session_id = s.id)
        and (p.mode is distinct from 'monthly'
             or s.ended_at < date_trunc('month', ${now}::timestamptz at time zone s.time_zone) at time zone s.time_zone)`)) {
    add({
      check: 'billed_sessions_on_one_invoice',
      operatorId: r.operator_id,
      subject: `session:${r.id}`,
      message: 'is billed (has a CDR) but is on no invoice',
    });
  }

  // 3. Invoice totals equal their CDRs' totals, and each invoice equals the sum of its sessions.
  for (const r of await rows<{
    operator_id: string;
    invoice_number: string;
    session_id: string;
    inv_excl: string;
    inv_incl: string;
    cdr_excl: string;
    cdr_incl: string;
  }>(sql`
      select v.operator_id, v.invoice_number, i.session_id,
        i.total_excl_vat_minor::text as inv_excl, i.total_incl_vat_minor::text as inv_incl,
        c.total_excl_vat_minor::text as cdr_excl, c.total_incl_vat_minor::text as cdr_incl
      from invoice_sessions i join invoices v on v.id = i.invoice_id join cdrs c on c.id = i.cdr_id
      where ${inRange('v.issued_at')}
        and (i.total_excl_vat_minor <> c.total_excl_vat_minor or i.total_incl_vat_minor <> c.total_incl_vat_minor)`)) {
    add({
      check: 'invoice_totals_equal_cdr_totals',
      operatorId: r.operator_id,
      subject: `invoice:${r.invoice_number}`,
      message: `session ${r.session_id} is invoiced at a different amount than its CDR (excl/incl VAT, minor units)`,
      expected: `${r.cdr_excl}/${r.cdr_incl}`,
      actual: `${r.inv_excl}/${r.inv_incl}`,
    });
  }
  for (const r of await rows<{ operator_id: string; invoice_number: string; total: string; sum: string | null }>(sql`
      select v.operator_id, v.invoice_number, v.total_incl_vat_minor::text as total,
        (select sum(i.total_incl_vat_minor) from invoice_sessions i where i.invoice_id = v.id)::text as sum
      from invoices v
      where v.kind <> 'credit_note' and ${inRange('v.issued_at')}
        and v.total_incl_vat_minor is distinct from
            (select sum(i.total_incl_vat_minor) from invoice_sessions i where i.invoice_id = v.id)`)) {
    add({
      check: 'invoice_totals_equal_cdr_totals',
      operatorId: r.operator_id,
      subject: `invoice:${r.invoice_number}`,
      message: 'invoice total differs from the sum of its sessions (incl. VAT, minor units)',
      expected: r.sum ?? '0',
      actual: r.total,
    });
  }
  for (const r of await rows<{ operator_id: string; invoice_number: string; total: string; original: string }>(sql`
      select n.operator_id, n.invoice_number, n.total_incl_vat_minor::text as total,
        (-v.total_incl_vat_minor)::text as original
      from invoices n join invoices v on v.id = n.credits_invoice_id
      where ${inRange('n.issued_at')} and n.total_incl_vat_minor <> -v.total_incl_vat_minor`)) {
    add({
      check: 'invoice_totals_equal_cdr_totals',
      operatorId: r.operator_id,
      subject: `invoice:${r.invoice_number}`,
      message: 'credit note does not reverse its invoice exactly (incl. VAT, minor units)',
      expected: r.original,
      actual: r.total,
    });
  }

  // 4. Every billed session with a price is booked once, for its CDR's amount (the receivable leg).
  for (const r of await rows<{ id: string; operator_id: string; cdr_incl: string; booked: string | null }>(sql`
      select s.id, s.operator_id, c.total_incl_vat_minor::text as cdr_incl,
        (select sum(p.amount_minor) from ledger_transfers t
           join ledger_postings p on p.transfer_id = t.id
           join ledger_accounts a on a.id = p.account_id
          where t.operator_id = s.operator_id and t.idempotency_key = 'session:' || s.id || ':billed'
            and (a.code = 'customer_receivables' or a.code like 'customer_receivables:%'))::text as booked
      from sessions s join cdrs c on c.session_id = s.id
      where ${inRange('s.ended_at')}`)) {
    if (BigInt(r.booked ?? '0') === BigInt(r.cdr_incl)) continue;
    add({
      check: 'sessions_booked_in_ledger',
      operatorId: r.operator_id,
      subject: `session:${r.id}`,
      message: 'receivable booked for the session differs from its CDR total incl. VAT (minor units)',
      expected: r.cdr_incl,
      actual: r.booked ?? 'nothing booked',
    });
  }

  // 5. The ledger balances: all postings sum to zero per operator and currency (posted and pending separately), and
  //    every transfer on its own.
  for (const r of await rows<{ operator_id: string; currency: string; posted: string; pending: string }>(sql`
      select t.operator_id, p.currency,
        coalesce(sum(p.amount_minor) filter (where not p.pending), 0)::text as posted,
        coalesce(sum(p.amount_minor) filter (where p.pending), 0)::text as pending
      from ledger_postings p join ledger_transfers t on t.id = p.transfer_id
      group by t.operator_id, p.currency
      having coalesce(sum(p.amount_minor) filter (where not p.pending), 0) <> 0
          or coalesce(sum(p.amount_minor) filter (where p.pending), 0) <> 0`)) {
    add({
      check: 'ledger_balanced',
      operatorId: r.operator_id,
      subject: `currency:${r.currency}`,
      message: 'postings do not sum to zero (posted/pending, minor units)',
      expected: '0/0',
      actual: `${r.posted}/${r.pending}`,
    });
  }
  for (const r of await rows<{ operator_id: string; id: string; total: string }>(sql`
      select t.operator_id, t.id, sum(p.amount_minor)::text as total
      from ledger_postings p join ledger_transfers t on t.id = p.transfer_id
      group by t.operator_id, t.id having sum(p.amount_minor) <> 0`)) {
    add({
      check: 'ledger_balanced',
      operatorId: r.operator_id,
      subject: `transfer:${r.id}`,
      message: 'transfer is unbalanced',
      expected: '0',
      actual: r.total,
    });
  }

  // 6. Captured payments equal paid invoices: money captured (net of refunds) against an invoice is either
  //    nothing (open) or exactly what the invoice still asks for after credit notes; no capture names no invoice.
  //    Partly paid is right only while a payment of the invoice has failed (a wallet that ran out, a capture
  //    declined): the rest is an open receivable that dunning collects; more than the invoice asks is never right.
  for (const r of await rows<{
    operator_id: string;
    invoice_id: string | null;
    invoice_number: string | null;
    due: string | null;
    captured: string;
    remainder_open: boolean;
  }>(sql`
      with captured as (
        select t.operator_id, t.invoice_id, -sum(p.amount_minor) as captured
        from ledger_transfers t
          join ledger_postings p on p.transfer_id = t.id and not p.pending
          join ledger_accounts a on a.id = p.account_id
        where t.cause_type in ('capture', 'refund')
          and (a.code = 'customer_receivables' or a.code like 'customer_receivables:%')
        group by t.operator_id, t.invoice_id
      )
      select c.operator_id, c.invoice_id, v.invoice_number, c.captured::text as captured,
        (v.total_incl_vat_minor + coalesce((select sum(n.total_incl_vat_minor) from invoices n
                                             where n.credits_invoice_id = v.id), 0))::text as due,
        exists (select 1 from payments pm where pm.status = 'failed'
                  and (pm.invoice_id = c.invoice_id
                       or pm.session_id in (select s.session_id from invoice_sessions s
                                             where s.invoice_id = c.invoice_id))) as remainder_open
      from captured c left join invoices v on v.id = c.invoice_id
      where (${from}::timestamptz is null or v.issued_at >= ${from}) and (${to}::timestamptz is null or v.issued_at < ${to})
         or v.id is null`)) {
    if (r.invoice_number === null) {
      add({
        check: 'captures_equal_paid_invoices',
        operatorId: r.operator_id,
        subject: `invoice:${r.invoice_id ?? 'none'}`,
        message: 'money was captured for no known invoice',
        expected: '0',
        actual: r.captured,
      });
      continue;
    }
    const captured = BigInt(r.captured);
    const due = BigInt(r.due ?? '0');
    if (captured === 0n || captured === due) continue;
    if (r.remainder_open && captured > 0n && captured < due) continue;
    add({
      check: 'captures_equal_paid_invoices',
      operatorId: r.operator_id,
      subject: `invoice:${r.invoice_number}`,
      message: 'captured amount (net of refunds) differs from the amount the invoice asks for (minor units)',
      expected: r.due ?? '0',
      actual: r.captured,
    });
  }

  // 7. Invoice numbers are gapless per operator and series (1..max, each once) and the counter is past the last.
  for (const r of await rows<{
    operator_id: string;
    series: string;
    max: string;
    count: string;
    next: string | null;
  }>(sql`
      select v.operator_id, v.series, max(v.number)::text as max, count(*)::text as count,
        (select c.next_number from invoice_counters c where c.operator_id = v.operator_id and c.series = v.series)::text as next
      from invoices v group by v.operator_id, v.series`)) {
    if (r.max !== r.count) {
      const missing = await rows<{ n: string }>(sql`
          select n::text from generate_series(1::int8, ${r.max}::int8) n
          where not exists (select 1 from invoices v where v.operator_id = ${r.operator_id} and v.series = ${r.series}
                            and v.number = n)
          order by n limit 20`);
      add({
        check: 'invoice_numbers_gapless',
        operatorId: r.operator_id,
        subject: `series:${r.series}`,
        message: `numbers missing: ${missing.map((m) => m.n).join(', ')}${Number(r.max) - Number(r.count) > 20 ? ', ...' : ''}`,
        expected: r.max,
        actual: r.count,
      });
    }
    if (r.next === null || BigInt(r.next) !== BigInt(r.max) + 1n) {
      add({
        check: 'invoice_numbers_gapless',
        operatorId: r.operator_id,
        subject: `series:${r.series}`,
        message: 'the counter does not continue after the last issued number',
        expected: (BigInt(r.max) + 1n).toString(),
        actual: r.next ?? 'no counter',
      });
    }
  }

  const [counted] = await rows<{ sessions: string; invoices: string; transfers: string }>(sql`
      select (select count(*) from sessions s where s.status = 'Completed' and ${inRange('s.ended_at')})::text as sessions,
             (select count(*) from invoices v where ${inRange('v.issued_at')})::text as invoices,
             (select count(*) from ledger_transfers t where ${inRange('t.created_at')})::text as transfers`);
  return {
    from: from?.toISOString() ?? null,
    to: to?.toISOString() ?? null,
    checkedAt: now.toISOString(),
    clean: differences.length === 0,
    checks: RECONCILE_CHECKS.map((check) => ({ check, differences: counts.get(check) ?? 0 })),
    differences,
    counted: {
      sessions: Number(counted?.sessions ?? 0),
      invoices: Number(counted?.invoices ?? 0),
      transfers: Number(counted?.transfers ?? 0),
    },
  };
}

/** Stores a run's result (for the dashboard, and for auditors: reconciliation runs are evidence). */
export async function recordReconcileRun(
  db: Kysely<Database>,
  report: ReconcileReport,
  startedAt: Date,
): Promise<void> {
  const total = report.checks.reduce((sum, c) => sum + c.differences, 0);
  await db
    .insertInto('reconciliation_runs')
    .values({
      started_at: startedAt,
      finished_at: new Date(report.checkedAt),
      period_from: report.from ? new Date(report.from) : null,
      period_to: report.to ? new Date(report.to) : null,
      clean: report.clean,
      differences: total,
      report: JSON.stringify(report),
    })
    .execute();
}
