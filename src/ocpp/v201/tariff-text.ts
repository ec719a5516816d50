/**
 * The tariff a driver would be charged at a station, as the short text OCPP 2.0.1 shows in the Authorize reply's
 * personalMessage (the tariff's own OCPI tariff_alt_text; use case I01 "Show EV driver-specific tariff").
 */
import type { Kysely } from 'kysely';
import type { IdTokenRecord } from '../../auth/id-token-store.ts';
import type { Database } from '../../db/schema.ts';
import { loadEvseContext } from '../../stations/station-store.ts';
import { findTariffInForce } from '../../tariff/tariff-store.ts';

export async function tariffTextFor(
  db: Kysely<Database>,
  stationId: string,
  evseId: number | undefined,
  token: IdTokenRecord | undefined,
  at: Date,
): Promise<{ language: string; text: string } | undefined> {
  const evse =
    evseId ??
    (
      await db
        .selectFrom('evses')
        .select('evse_id')
        .where('station_id', '=', stationId)
        .orderBy('evse_id')
        .executeTakeFirst()
    )?.evse_id;
  if (evse === undefined) return undefined;
  const where = await loadEvseContext(db, stationId, evse);
  if (!where) return undefined;
  const tariff = await findTariffInForce(db, {
    operatorId: where.operatorId,
    locationId: where.locationId,
    stationId,
    evseId: evse,
    at,
    groupId: token?.groupId ?? null,
    audience: token?.type === 'AD_HOC_USER' ? 'ad_hoc' : 'contract',
  });
  const texts = (tariff?.body as { tariff_alt_text?: { language: string; text: string }[] } | undefined)
    ?.tariff_alt_text;
  if (!texts || texts.length === 0) return undefined;
  return texts.find((t) => t.language === 'en') ?? texts[0];
}
