/**
 * Registers a load run's stations in Voltbill's database before the run: station n (Accepted, one AC EVSE) and
 * its own RFID card, under the first operator and location (the demo seed's). A card per station, because one card
 * charging at two stations at once is refused (ConcurrentTx). Idempotent: rows that exist are left as they are.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { loadIdTag, loadStationId } from './load-options.ts';

export interface FleetSpec {
  readonly stations: number;
  readonly firstStation: number;
  readonly stationPrefix: string;
  readonly idTagPrefix: string;
}

/** Rows per INSERT: keeps each statement well below PostgreSQL's 65,535 bind parameters. */
const ROWS_PER_INSERT = 1000;

export async function provisionFleet(db: Kysely<Database>, spec: FleetSpec): Promise<{ operatorId: string }> {
  const location = await db
    .selectFrom('locations')
    .select(['id', 'operator_id'])
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
  if (location === undefined) throw new Error('no location to put the load stations in: seed the database first');
  const numbers = Array.from({ length: spec.stations }, (_, index) => spec.firstStation + index);
  for (let offset = 0; offset < numbers.length; offset += ROWS_PER_INSERT) {
    const chunk = numbers.slice(offset, offset + ROWS_PER_INSERT);
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('stations')
        .values(
          chunk.map((n) => ({
            id: loadStationId(spec.stationPrefix, n),
            operator_id: location.operator_id,
            location_id: location.id,
            registration_status: 'Accepted' as const,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await trx
        .insertInto('evses')
        .values(
          chunk.map((n) => ({
            station_id: loadStationId(spec.stationPrefix, n),
            evse_id: 1,
            evse_uid: `DE*VBL*E${spec.stationPrefix.replace(/[^A-Za-z0-9]/g, '')}${n}*1`,
            power_type: 'AC_3_PHASE' as const,
            max_power_w: 22_000,
          })),
        )
        .onConflict((oc) => oc.columns(['station_id', 'evse_id']).doNothing())
        .execute();
      await trx
        .insertInto('id_tokens')
        .values(
          chunk.map((n) => ({
            operator_id: location.operator_id,
            uid: loadIdTag(spec.idTagPrefix, n),
            status: 'Accepted' as const,
            label: 'load test card',
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    });
  }
  return { operatorId: location.operator_id };
}
