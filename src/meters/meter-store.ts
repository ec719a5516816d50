/** Reads and writes of the meter registry (one meter per EVSE). */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, MetersTable } from '../db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

export type MeterRow = Selectable<MetersTable>;

export async function findMeterOfEvse(db: Db, stationId: string, evseId: number): Promise<MeterRow | undefined> {
  return db
    .selectFrom('meters')
    .selectAll()
    .where('station_id', '=', stationId)
    .where('evse_id', '=', evseId)
    .executeTakeFirst();
}

export async function findMeter(db: Db, operatorId: string, meterId: string): Promise<MeterRow | undefined> {
  return db
    .selectFrom('meters')
    .selectAll()
    .where('operator_id', '=', operatorId)
    .where('id', '=', meterId)
    .executeTakeFirst();
}

export async function listMeters(
  db: Db,
  filter: { readonly operatorId?: string; readonly stationId?: string } = {},
): Promise<MeterRow[]> {
  let query = db.selectFrom('meters').selectAll();
  if (filter.operatorId !== undefined) query = query.where('operator_id', '=', filter.operatorId);
  if (filter.stationId !== undefined) query = query.where('station_id', '=', filter.stationId);
  return query.orderBy('station_id').orderBy('evse_id').execute();
}

/**
 * Meters whose calibration lapses on or before `lastDay` ('YYYY-MM-DD'), lapsed ones included, and meters without
 * a calibration date (they cannot be shown to be calibrated at all); soonest first.
 */
export async function listMetersDue(
  db: Db,
  lastDay: string,
  filter: { readonly operatorId?: string } = {},
): Promise<MeterRow[]> {
  let query = db
    .selectFrom('meters')
    .selectAll()
    .where((eb) => eb.or([eb('calibration_valid_until', 'is', null), eb('calibration_valid_until', '<=', lastDay)]));
  if (filter.operatorId !== undefined) query = query.where('operator_id', '=', filter.operatorId);
  return query
    .orderBy('calibration_valid_until', (ob) => ob.asc().nullsFirst())
    .orderBy('station_id')
    .orderBy('evse_id')
    .execute();
}

/**
 * Pins a key seen in signed data on the EVSE's meter: creates the meter when the EVSE has none, and never replaces
 * a key that is already there (a concurrent pin or an operator's configured key wins).
 */
export async function pinMeterKey(
  db: Db,
  target: { readonly operatorId: string; readonly stationId: string; readonly evseId: number },
  pin: { readonly publicKey: string; readonly serial: string | null },
  at: Date,
): Promise<void> {
  const existing = await findMeterOfEvse(db, target.stationId, target.evseId);
  if (existing === undefined) {
    await db
      .insertInto('meters')
      .values({
        operator_id: target.operatorId,
        station_id: target.stationId,
        evse_id: target.evseId,
        serial: (pin.serial ?? 'unknown').slice(0, 64) || 'unknown',
        public_key: pin.publicKey,
        key_source: 'pinned',
        key_pinned_at: at,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) => oc.columns(['station_id', 'evse_id']).doNothing())
      .execute();
    return;
  }
  await db
    .updateTable('meters')
    .set({ public_key: pin.publicKey, key_source: 'pinned', key_pinned_at: at, updated_at: at })
    .where('id', '=', existing.id)
    .where('public_key', 'is', null)
    .execute();
}
