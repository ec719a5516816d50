/**
 * EVSE statuses (StatusNotification) written in batches: a session brings three or four of them (Preparing,
 * Charging, Finishing, Available), each an UPDATE with its own round trip and commit when written one by one. Here
 * they go through a group commit (batch-writer.ts): every status that queued while the previous write was in flight
 * goes in the next statement. A station's reply still waits until its status is committed, as before.
 *
 * A stored status is never overwritten by an older one (a late retry): the statement only writes a status at least
 * as new as the stored one, and of several statuses of one EVSE in one batch only the latest (by its time, the later queued
 * on a tie, as one-by-one writes would end) is written, since an UPDATE changes each row at most once per statement.
 */
import { type Kysely, sql } from 'kysely';
import { BatchWriter } from '../db/batch-writer.ts';
import type { Database } from '../db/schema.ts';

export type EvseStatusUpdate = {
  readonly stationId: string;
  readonly evseId: number;
  readonly status: string;
  readonly errorCode: string | null;
  readonly at: Date;
};

/** Most statuses per statement (each travels in five array parameters). */
export const EVSE_STATUS_BATCH_ITEMS = 1_000;
/** Most statuses waiting: a stalled database makes StatusNotification fail (the station retries) instead of growing. */
const EVSE_STATUS_QUEUED_ITEMS = EVSE_STATUS_BATCH_ITEMS * 50;

/** The range `evses.evse_id` allows (migrations/0001_foundation.sql). */
const MIN_EVSE_ID = 1;
const MAX_EVSE_ID = 1000;

export type EvseStatusWriter = BatchWriter<EvseStatusUpdate>;

export function createEvseStatusWriter(db: Kysely<Database>): EvseStatusWriter {
  return new BatchWriter<EvseStatusUpdate>(
    async (updates) => {
      await writeEvseStatuses(db, updates);
    },
    {
      maxBatchItems: EVSE_STATUS_BATCH_ITEMS,
      maxQueuedItems: EVSE_STATUS_QUEUED_ITEMS,
    },
  );
}

/** Writes a batch in one statement; returns how many EVSE rows changed. */
export async function writeEvseStatuses(db: Kysely<Database>, updates: readonly EvseStatusUpdate[]): Promise<number> {
  const latest = new Map<string, EvseStatusUpdate>();
  for (const update of updates) {
    // One bad item must not fail the batch of every other station: an EVSE number no row can have (the column's
    // check allows 1 to 1000) would fail the int4 cast. It matches nothing, so it is left out. The texts are enum
    // values checked against the OCPP schema by the gateway (strict mode).
    if (!Number.isInteger(update.evseId) || update.evseId < MIN_EVSE_ID || update.evseId > MAX_EVSE_ID) continue;
    const key = `${update.evseId} ${update.stationId}`;
    const before = latest.get(key);
    if (!before || before.at.getTime() <= update.at.getTime()) latest.set(key, update);
  }
  if (latest.size === 0) return 0;
  const rows = [...latest.values()];
  const result = await sql`
    update evses e set status = v.status, error_code = v.error_code, status_at = v.at
    from unnest(${rows.map((r) => r.stationId)}::text[], ${rows.map((r) => r.evseId)}::int4[],
                ${rows.map((r) => r.status)}::text[], ${rows.map((r) => r.errorCode)}::text[],
                ${rows.map((r) => r.at.toISOString())}::timestamptz[]) as v(station_id, evse_id, status, error_code, at)
    where e.station_id = v.station_id and e.evse_id = v.evse_id and (e.status_at is null or e.status_at <= v.at)`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0n);
}
