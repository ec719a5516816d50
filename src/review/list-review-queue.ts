/** The review queue: an operator's held sessions, oldest end first, each with the findings that hold it. */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Finding } from '../sessions/finding.ts';

export type ReviewItem = {
  readonly sessionId: string;
  readonly stationId: string;
  readonly evseId: number;
  readonly transactionId: string;
  readonly idTag: string;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
  readonly meterStartWh: bigint;
  readonly meterStopWh: bigint | null;
  readonly energyWh: bigint | null;
  /** The findings with severity hold: why the session waits for a decision. */
  readonly holds: readonly Finding[];
  readonly findings: readonly Finding[];
};

export async function listReviewQueue(
  db: Kysely<Database>,
  operatorId: string,
  page: { readonly limit: number; readonly after?: { readonly endedAt: Date; readonly id: string } },
): Promise<ReviewItem[]> {
  let query = db
    .selectFrom('sessions')
    .selectAll()
    .where('operator_id', '=', operatorId)
    .where('billing_status', '=', 'Held')
    .where('status', '=', 'Completed');
  const after = page.after;
  if (after !== undefined) {
    query = query.where((eb) =>
      eb.or([
        eb('ended_at', '>', after.endedAt),
        eb.and([eb('ended_at', '=', after.endedAt), eb('id', '>', after.id)]),
      ]),
    );
  }
  const rows = await query.orderBy('ended_at').orderBy('id').limit(page.limit).execute();
  return rows.map((row) => {
    const findings = (row.findings ?? []) as Finding[];
    return {
      sessionId: row.id,
      stationId: row.station_id,
      evseId: row.evse_id,
      transactionId: row.transaction_id,
      idTag: row.id_tag,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      meterStartWh: row.meter_start_wh,
      meterStopWh: row.meter_stop_wh,
      energyWh: row.energy_wh,
      holds: findings.filter((finding) => finding.severity === 'hold'),
      findings,
    };
  });
}
