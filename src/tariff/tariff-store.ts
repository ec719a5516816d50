/**
 * Which tariff version applies to a session: the assignment with the narrowest scope (EVSE, then location, then
 * operator) names a tariff, and of that tariff the newest version valid at the session's start is frozen into the
 * session. A retired tariff applies to no session that starts after its retirement.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';

export type TariffVersionRecord = {
  readonly tariffVersionId: string;
  readonly tariffId: string;
  readonly code: string;
  readonly version: number;
  readonly currency: string;
  readonly body: unknown;
};

export type TariffScope = {
  readonly operatorId: string;
  readonly locationId: string;
  readonly stationId: string;
  readonly evseId: number;
  readonly at: Date;
};

export async function findTariffInForce(
  db: Kysely<Database>,
  scope: TariffScope,
): Promise<TariffVersionRecord | undefined> {
  return db
    .selectFrom('tariff_assignments as a')
    .innerJoin('tariffs as t', 't.id', 'a.tariff_id')
    .innerJoin('tariff_versions as v', 'v.tariff_id', 't.id')
    .select(['v.id as tariffVersionId', 't.id as tariffId', 't.code', 'v.version', 'v.currency', 'v.body'])
    .where('a.operator_id', '=', scope.operatorId)
    .where((eb) =>
      eb.or([
        eb('a.scope', '=', 'operator'),
        eb.and([eb('a.scope', '=', 'location'), eb('a.location_id', '=', scope.locationId)]),
        eb.and([
          eb('a.scope', '=', 'evse'),
          eb('a.station_id', '=', scope.stationId),
          eb('a.evse_id', '=', scope.evseId),
        ]),
      ]),
    )
    .where('v.valid_from', '<=', scope.at)
    .where((eb) => eb.or([eb('t.retired_at', 'is', null), eb('t.retired_at', '>', scope.at)]))
    .orderBy(sql`case a.scope when 'evse' then 0 when 'location' then 1 else 2 end`)
    .orderBy('v.valid_from', 'desc')
    .orderBy('v.version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function loadTariffVersion(
  db: Kysely<Database>,
  tariffVersionId: string,
): Promise<TariffVersionRecord | undefined> {
  return db
    .selectFrom('tariff_versions as v')
    .innerJoin('tariffs as t', 't.id', 'v.tariff_id')
    .select(['v.id as tariffVersionId', 't.id as tariffId', 't.code', 'v.version', 'v.currency', 'v.body'])
    .where('v.id', '=', tariffVersionId)
    .executeTakeFirst();
}
