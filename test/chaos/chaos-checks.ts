/**
 * The invariants the crash test checks once the stations have delivered everything: every session the stations saw
 * completed is in the database once, completed, with exactly one CDR; nothing is left open or unbilled; the ledger
 * balances; invoice numbers have no gaps. Tables another part of Voltbill has not created yet are skipped (and said).
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
    const duplicateCauses = await sql<{ n: string | bigint }>`
      select count(*) as n from (select cause_type, cause_id, kind from ledger_transfers where kind = 'posted'
                                 group by cause_type, cause_id, kind, idempotency_key having count(*) > 1) t`.execute(
      db,
    );
    results.push({
      name: 'no ledger transfer posted twice for one cause',
      ok: Number(duplicateCauses.rows[0]?.n ?? 0) === 0,
      detail: `${duplicateCauses.rows[0]?.n} duplicates`,
    });
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
    if (await tableExists(db, 'invoice_sessions')) {
      const twice = await sql<{ n: string | bigint }>`
        select count(*) as n from (select session_id from invoice_sessions group by session_id having count(*) > 1) t`.execute(
        db,
      );
      results.push({
        name: 'no session on two invoices',
        ok: Number(twice.rows[0]?.n ?? 0) === 0,
        detail: `${twice.rows[0]?.n} sessions invoiced twice`,
      });
    }
  } else {
    results.push({ name: 'invoice numbers gapless', ok: true, detail: 'skipped: no invoices table in this database' });
  }
  return results;
}
