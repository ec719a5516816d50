/**
 * The invariants the crash test checks once the stations have delivered everything: every session the stations saw
 * completed is in the database once, completed, with exactly one CDR; nothing is left open or unbilled; the ledger
 * balances and books every billed session and every captured payment exactly once (checkLedgerCauses); invoice
 * numbers have no gaps, and every billed session is on one invoice whose totals are its CDRs' (checkInvoicedSessions).
 * Each check can fail: test/chaos-checks.test.ts shows the last two reporting a doubled posting, a missing invoice and
 * wrong totals on a real database. Tables another part of Voltbill has not created yet are skipped (and said).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { CompletedSession } from '../../src/load/lean-station.ts';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

async function tableExists(db: Kysely<Database>, table: string): Promise<boolean> {
  const result = await sql<{ found: boolean }>`select to_regclass(${table}) is not null as found`.execute(db);
  return result.rows[0]?.found === true;
}

export async function checkInvariants(
  db: Kysely<Database>,
  completed: readonly CompletedSession[],
  stationPrefix: string,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const like = `${stationPrefix}%`;
  const rows = await sql<{
    station_id: string;
    transaction_id: string;
    status: string;
    billing_status: string;
    cdrs: string | bigint;
    cdr_energy_wh: string | bigint | null;
  }>`select s.station_id, s.transaction_id, s.status, s.billing_status,
            (select count(*) from cdrs c where c.session_id = s.id) as cdrs,
            (select max(c.energy_wh) from cdrs c where c.session_id = s.id) as cdr_energy_wh
       from sessions s where s.station_id like ${like}`.execute(db);
  const byKey = new Map<string, (typeof rows.rows)[number][]>();
  for (const row of rows.rows) {
    const key = `${row.station_id}/${row.transaction_id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }

  const missing: string[] = [];
  const wrong: string[] = [];
  const energyWrong: string[] = [];
  for (const session of completed) {
    const key = `${session.stationId}/${session.transactionId}`;
    const found = byKey.get(key) ?? [];
    if (found.length !== 1) missing.push(`${key} (${found.length} rows)`);
    else if (found[0]!.status !== 'Completed' || Number(found[0]!.cdrs) !== 1) {
      wrong.push(`${key} status ${found[0]!.status}, billing ${found[0]!.billing_status}, ${found[0]!.cdrs} CDRs`);
    } else if (Number(found[0]!.cdr_energy_wh) !== session.energyWh) {
      energyWrong.push(`${key} billed ${found[0]!.cdr_energy_wh} Wh, station measured ${session.energyWh} Wh`);
    }
  }
  results.push({
    name: 'every session the stations completed is stored once, completed, with exactly one CDR',
    ok: missing.length === 0 && wrong.length === 0,
    detail:
      `${completed.length} sessions checked` +
      (missing.length ? `; not stored once: ${missing.slice(0, 5).join(', ')}` : '') +
      (wrong.length ? `; wrong: ${wrong.slice(0, 5).join(', ')}` : ''),
  });

  results.push({
    name: 'every CDR bills exactly the energy the station measured (no late or duplicated message changed it)',
    ok: energyWrong.length === 0,
    detail: `${energyWrong.length} differ${energyWrong.length ? `: ${energyWrong.slice(0, 5).join(', ')}` : ''}`,
  });

  const open = rows.rows.filter((row) => row.status !== 'Completed');
  results.push({
    name: 'no session left open after the stations drained',
    ok: open.length === 0,
    detail: `${open.length} open${
      open.length
        ? `: ${open
            .slice(0, 5)
            .map((r) => `${r.station_id}/${r.transaction_id}`)
            .join(', ')}`
        : ''
    }`,
  });

  const billedWrong = rows.rows.filter(
    (row) =>
      row.status === 'Completed' &&
      (Number(row.cdrs) > 1 || (row.billing_status === 'Billed') !== (Number(row.cdrs) === 1)),
  );
  const unbilled = rows.rows.filter((row) => row.status === 'Completed' && row.billing_status === 'Pending');
  const held = rows.rows.filter((row) => row.billing_status === 'Held').length;
  results.push({
    name: 'every completed session billed exactly once (Billed ⇔ one CDR), none left Pending',
    ok: billedWrong.length === 0 && unbilled.length === 0,
    detail:
      `${rows.rows.length} sessions in the database for ${completed.length} completed by stations; ` +
      `${held} held for review; ${billedWrong.length} with a CDR count not matching, ${unbilled.length} unbilled`,
  });
  results.push({
    name: 'the database holds no session the stations did not complete',
    ok: rows.rows.length === completed.length,
    detail: `${rows.rows.length} in the database, ${completed.length} completed by stations`,
  });

  if (await tableExists(db, 'ledger_postings')) {
    const unbalanced = await sql<{ n: string | bigint }>`
      select count(*) as n from (select transfer_id from ledger_postings group by transfer_id, currency
                                 having sum(amount_minor) <> 0) t`.execute(db);
    const n = Number(unbalanced.rows[0]?.n ?? 0);
    const transfers = await sql<{ n: string | bigint }>`select count(*) as n from ledger_transfers`.execute(db);
    results.push({
      name: 'ledger balanced (every transfer sums to zero per currency)',
      ok: n === 0,
      detail: `${n} unbalanced of ${transfers.rows[0]?.n} transfers`,
    });
    results.push(...(await checkLedgerCauses(db)));
  } else {
    results.push({ name: 'ledger balanced', ok: true, detail: 'skipped: no ledger tables in this database' });
  }

  if (await tableExists(db, 'invoices')) {
    const series = await sql<{
      operator_id: string;
      series: string;
      n: string | bigint;
      lo: string | bigint;
      hi: string | bigint;
    }>`
      select operator_id, series, count(*) as n, min(number) as lo, max(number) as hi
        from invoices group by operator_id, series`.execute(db);
    const gaps = series.rows.filter((row) => Number(row.lo) !== 1 || Number(row.hi) !== Number(row.n));
    results.push({
      name: 'invoice numbers gapless per series',
      ok: gaps.length === 0,
      detail:
        series.rows.map((row) => `series ${row.series}: ${row.n} invoices, numbers ${row.lo}..${row.hi}`).join('; ') ||
        'no invoices',
    });
    if (await tableExists(db, 'invoice_sessions')) results.push(...(await checkInvoicedSessions(db)));
  } else {
    results.push({ name: 'invoice numbers gapless', ok: true, detail: 'skipped: no invoices table in this database' });
  }
  results.push(await checkStaleStatuses(db, completed));
  return results;
}

/**
 * An older status delivered after a newer one (the station's queue out of order) never overwrites it: a station
 * whose last session ended with its Available acknowledged and then an older status of that session
 * (`staleStatusAfter`, lean-station.ts) must show Available on EVSE 1. Nothing the station sends after its last
 * session changes the status but a reconnect's report, which is Available too.
 */
export async function checkStaleStatuses(
  db: Kysely<Database>,
  completed: readonly CompletedSession[],
): Promise<CheckResult> {
  const last = new Map<string, CompletedSession>();
  for (const session of completed) last.set(session.stationId, session);
  const stations = [...last.values()].filter((session) => session.staleStatusAfter).map((s) => s.stationId);
  const injected = completed.filter((session) => session.staleStatusAfter).length;
  const rows =
    stations.length === 0
      ? []
      : (
          await sql<{ station_id: string; status: string | null }>`
            select station_id, status from evses where evse_id = 1 and station_id = any(${stations}::text[])`.execute(
            db,
          )
        ).rows;
  const wrong = stations
    .map((id) => ({ id, status: rows.find((row) => row.station_id === id)?.status ?? 'no EVSE 1' }))
    .filter((row) => row.status !== 'Available')
    .map((row) => `${row.id}: ${row.status}`);
  return {
    name: 'an older status delivered after a newer one never overwrote it',
    ok: wrong.length === 0,
    detail:
      `${injected} older statuses delivered after an acknowledged Available; ${stations.length} stations ended ` +
      `their last session so, ${wrong.length} of them not Available${sample(wrong)}`,
  };
}

type Minor = string | bigint | number | null;
const minor = (value: Minor): bigint => BigInt(value ?? 0);
const sample = (items: readonly string[]) => (items.length ? `: ${items.slice(0, 5).join(', ')}` : '');

/**
 * The ledger books each cause as often as the business rules say, whatever idempotency key a posting used (keys are
 * unique per operator already, so grouping by them finds nothing):
 * - a Billed session: exactly one transfer of cause ('session', session id), posted, whose debit is its CDR's
 *   total incl. VAT (none when the CDR costs nothing: src/ledger/session-posting.ts); no session transfer for a
 *   session that is not Billed or does not exist;
 * - a captured payment: exactly one transfer of cause ('capture', payment id; a wallet debit names its session),
 *   posted, of its captured amount (a payment is captured once: src/payments/apply-provider-payment.ts); none for a
 *   payment that captured nothing, none naming no payment;
 * - refunds (one transfer per refund and per lost dispute, cause ('refund', payment id)) may be several per payment,
 *   but never return more than the payment captured. Credit notes reverse one transfer per session of the invoice
 *   (several per cause; a transfer is reversed once by a unique index), so they are not counted here.
 */
export async function checkLedgerCauses(db: Kysely<Database>): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const sessions = await sql<{
    operator_id: string;
    session_id: string | null;
    cause_id: string | null;
    billing_status: string | null;
    cdr_incl: Minor;
    cdr_excl: Minor;
    transfers: Minor;
    not_posted: Minor;
    debit: Minor;
  }>`
    with booked as (
      select t.operator_id, t.cause_id, count(*) as transfers, count(*) filter (where t.kind <> 'posted') as not_posted,
             -- What the session's transfer puts on the customer's receivables (src/ledger/session-posting.ts): exact
             -- whatever the other postings' signs (a negative adjustment can make a VAT posting a debit).
             sum((select sum(p.amount_minor) from ledger_postings p join ledger_accounts a on a.id = p.account_id
                   where p.transfer_id = t.id
                     and (a.code = 'customer_receivables' or a.code like 'customer_receivables:%')))
               as debit
        from ledger_transfers t where t.cause_type = 'session' group by t.operator_id, t.cause_id),
    billed as (
      select s.operator_id, s.id::text as id, s.billing_status, c.total_incl_vat_minor, c.total_excl_vat_minor
        from sessions s left join cdrs c on c.session_id = s.id)
    select coalesce(b.operator_id, k.operator_id) as operator_id, b.id as session_id, k.cause_id, b.billing_status,
           b.total_incl_vat_minor as cdr_incl, b.total_excl_vat_minor as cdr_excl, k.transfers, k.not_posted, k.debit
      from billed b full join booked k on k.operator_id = b.operator_id and k.cause_id = b.id
     where b.billing_status = 'Billed' or k.cause_id is not null`.execute(db);
  const sessionWrong: string[] = [];
  let billed = 0;
  let free = 0;
  for (const row of sessions.rows) {
    const id = row.session_id ?? row.cause_id;
    const transfers = Number(row.transfers ?? 0);
    if (row.billing_status !== 'Billed') {
      sessionWrong.push(`${id}: ${transfers} transfers for a session ${row.billing_status ?? 'that does not exist'}`);
      continue;
    }
    billed++;
    const costs = minor(row.cdr_incl) !== 0n || minor(row.cdr_excl) !== 0n;
    if (!costs) free++;
    if (transfers !== (costs ? 1 : 0)) sessionWrong.push(`${id}: ${transfers} transfers`);
    else if (costs && Number(row.not_posted ?? 0) > 0) sessionWrong.push(`${id}: transfer not of kind posted`);
    else if (costs && minor(row.debit) !== minor(row.cdr_incl)) {
      sessionWrong.push(`${id}: booked ${minor(row.debit)}, CDR total ${minor(row.cdr_incl)}`);
    }
  }
  results.push({
    name: 'ledger: every Billed session booked by exactly one posted transfer of its CDR total, no other session booked',
    ok: sessionWrong.length === 0,
    detail: `${billed} Billed sessions (${free} free, no transfer); ${sessionWrong.length} wrong${sample(sessionWrong)}`,
  });

  if (!(await tableExists(db, 'payments'))) return results;
  const payments = await sql<{
    payment_id: string | null;
    cause_id: string | null;
    kind: string | null;
    captured_minor: Minor;
    captures: Minor;
    not_posted: Minor;
    capture_debit: Minor;
    refunded: Minor;
  }>`
    with amounts as (
      select t.operator_id, t.cause_type, t.cause_id, t.kind,
             (select sum(p.amount_minor) from ledger_postings p where p.transfer_id = t.id and p.amount_minor > 0) as debit
        from ledger_transfers t where t.cause_type in ('capture', 'refund')),
    booked as (
      select operator_id, cause_id,
             count(*) filter (where cause_type = 'capture') as captures,
             count(*) filter (where cause_type = 'capture' and kind <> 'posted') as not_posted,
             sum(debit) filter (where cause_type = 'capture') as capture_debit,
             sum(debit) filter (where cause_type = 'refund') as refunded
        from amounts group by operator_id, cause_id),
    paid as (
      select p.id::text as id, p.operator_id, p.kind, p.captured_minor,
             case when p.provider = 'wallet' then p.session_id::text else p.id::text end as cause_id
        from payments p)
    select p.id as payment_id, k.cause_id, p.kind, p.captured_minor, k.captures, k.not_posted, k.capture_debit,
           k.refunded
      from paid p full join booked k on k.operator_id = p.operator_id and k.cause_id = p.cause_id
     where p.captured_minor > 0 or k.cause_id is not null`.execute(db);
  const paymentWrong: string[] = [];
  let captured = 0;
  for (const row of payments.rows) {
    const captures = Number(row.captures ?? 0);
    if (row.payment_id === null) {
      paymentWrong.push(`${row.cause_id}: ${captures} capture transfers naming no payment`);
      continue;
    }
    const capturedMinor = minor(row.captured_minor);
    if (capturedMinor > 0n) captured++;
    const expected = capturedMinor > 0n ? 1 : 0;
    const id = `${row.payment_id} (${row.kind})`;
    if (captures !== expected) paymentWrong.push(`${id}: captured ${capturedMinor}, ${captures} capture transfers`);
    else if (Number(row.not_posted ?? 0) > 0) paymentWrong.push(`${id}: capture transfer not of kind posted`);
    else if (expected && minor(row.capture_debit) !== capturedMinor) {
      paymentWrong.push(`${id}: captured ${capturedMinor}, booked ${minor(row.capture_debit)}`);
    }
    if (minor(row.refunded) > capturedMinor) {
      paymentWrong.push(`${id}: refunds booked ${minor(row.refunded)} of ${capturedMinor} captured`);
    }
  }
  results.push({
    name: 'ledger: every captured payment booked by exactly one posted capture transfer of its amount, no other capture booked, no refund above it',
    ok: paymentWrong.length === 0,
    detail: `${captured} captured payments; ${paymentWrong.length} wrong${sample(paymentWrong)}`,
  });
  return results;
}

/**
 * Invoices bill exactly the Billed sessions, each once, at its CDR's totals (the unique constraint on
 * invoice_sessions.session_id already forbids a second invoice; this finds a missing one or wrong amounts):
 * - every Billed session (but those of a monthly plan, which wait for their statement) is on an invoice or
 *   statement, with its own CDR and that CDR's totals; no session that is not Billed is on one;
 * - every invoice and statement bills at least one session, and its totals (excl. and incl. VAT) are the sums of
 *   its sessions' CDR totals (equal by construction: src/billing/invoices/build-invoice-document.ts).
 */
export async function checkInvoicedSessions(db: Kysely<Database>): Promise<CheckResult[]> {
  const sessions = await sql<{
    session_id: string;
    billing_status: string;
    cdr_id: string | null;
    cdr_excl: Minor;
    cdr_incl: Minor;
    invoice_id: string | null;
    invoice_kind: string | null;
    line_cdr_id: string | null;
    line_excl: Minor;
    line_incl: Minor;
    monthly: boolean | null;
  }>`
    select s.id as session_id, s.billing_status, c.id as cdr_id, c.total_excl_vat_minor as cdr_excl,
           c.total_incl_vat_minor as cdr_incl, i.invoice_id, v.kind as invoice_kind, i.cdr_id as line_cdr_id,
           i.total_excl_vat_minor as line_excl, i.total_incl_vat_minor as line_incl,
           exists (select 1 from invoice_billing_plans bp where bp.id_token_id = s.id_token_id and bp.mode = 'monthly')
             as monthly
      from sessions s
      left join cdrs c on c.session_id = s.id
      left join invoice_sessions i on i.session_id = s.id
      left join invoices v on v.id = i.invoice_id
     where s.billing_status = 'Billed' or i.session_id is not null`.execute(db);
  const sessionWrong: string[] = [];
  let billed = 0;
  let awaitingStatement = 0;
  for (const row of sessions.rows) {
    const id = row.session_id;
    if (row.billing_status !== 'Billed') {
      sessionWrong.push(`${id}: ${row.billing_status} but on invoice ${row.invoice_id}`);
      continue;
    }
    billed++;
    if (row.invoice_id === null) {
      if (row.monthly) awaitingStatement++;
      else sessionWrong.push(`${id}: Billed, on no invoice`);
    } else if (row.invoice_kind === 'credit_note') sessionWrong.push(`${id}: on a credit note`);
    else if (row.line_cdr_id !== row.cdr_id) sessionWrong.push(`${id}: invoiced with CDR ${row.line_cdr_id}`);
    else if (minor(row.line_excl) !== minor(row.cdr_excl) || minor(row.line_incl) !== minor(row.cdr_incl)) {
      sessionWrong.push(
        `${id}: invoiced ${minor(row.line_excl)}/${minor(row.line_incl)}, CDR ${minor(row.cdr_excl)}/${minor(row.cdr_incl)}`,
      );
    }
  }
  const invoices = await sql<{
    invoice_number: string | null;
    total_excl: Minor;
    total_incl: Minor;
    sessions: Minor;
    cdr_excl: Minor;
    cdr_incl: Minor;
  }>`
    select v.invoice_number, v.total_excl_vat_minor as total_excl, v.total_incl_vat_minor as total_incl,
           count(i.session_id) as sessions, sum(c.total_excl_vat_minor) as cdr_excl,
           sum(c.total_incl_vat_minor) as cdr_incl
      from invoices v
      left join invoice_sessions i on i.invoice_id = v.id
      left join cdrs c on c.id = i.cdr_id
     where v.kind <> 'credit_note'
     group by v.id`.execute(db);
  const invoiceWrong = invoices.rows
    .filter(
      (row) =>
        Number(row.sessions) === 0 ||
        minor(row.total_excl) !== minor(row.cdr_excl) ||
        minor(row.total_incl) !== minor(row.cdr_incl),
    )
    .map(
      (row) =>
        `${row.invoice_number}: ${row.sessions} sessions, totals ${minor(row.total_excl)}/${minor(row.total_incl)}, ` +
        `CDRs ${minor(row.cdr_excl)}/${minor(row.cdr_incl)}`,
    );
  return [
    {
      name: 'every Billed session on exactly one invoice with its CDR and its totals, no other session invoiced',
      ok: sessionWrong.length === 0,
      detail:
        `${billed} Billed sessions` +
        (awaitingStatement ? ` (${awaitingStatement} of monthly plans awaiting their statement)` : '') +
        `; ${sessionWrong.length} wrong${sample(sessionWrong)}`,
    },
    {
      name: "every invoice's totals (excl. and incl. VAT) = its sessions' CDR totals",
      ok: invoiceWrong.length === 0,
      detail: `${invoices.rows.length} invoices and statements; ${invoiceWrong.length} differ${sample(invoiceWrong)}`,
    },
  ];
}

/**
 * With signing stations (`--signed`, src/load/load-meter.ts): every Completed session of the fleet holds a signed
 * begin and end (at least two distinct raw values: a retried message may store one again) and its findings say the
 * signed data verified and proved the billed energy, with nothing held. A session held on its signed data is not
 * Billed either, which checkInvariants reports; this check says why.
 */
export async function checkSignedSessions(db: Kysely<Database>, stationPrefix: string): Promise<CheckResult> {
  const rows = (
    await sql<{ id: string; findings: unknown; signed: string | number }>`
      select s.id, s.findings,
             (select count(distinct v.raw) from session_signed_values v where v.session_id = s.id) as signed
      from sessions s
      where s.station_id like ${`${stationPrefix}%`} and s.status = 'Completed'`.execute(db)
  ).rows;
  const wrong: string[] = [];
  for (const row of rows) {
    const findings = (typeof row.findings === 'string' ? JSON.parse(row.findings) : (row.findings ?? [])) as {
      code: string;
      severity: string;
    }[];
    const held = findings.filter((finding) => finding.severity === 'hold').map((finding) => finding.code);
    if (Number(row.signed) < 2) wrong.push(`${row.id}: ${row.signed} signed values`);
    else if (held.length > 0) wrong.push(`${row.id}: held (${held.join(', ')})`);
    else if (!findings.some((finding) => finding.code === 'SignedDataVerified')) wrong.push(`${row.id}: not verified`);
  }
  return {
    name: 'every completed session signed at its begin and end, verified, its signed energy the billed one',
    ok: rows.length > 0 && wrong.length === 0,
    detail: `${rows.length} completed sessions, ${wrong.length} without verified signed data${sample(wrong)}`,
  };
}
