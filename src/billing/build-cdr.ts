/**
 * Assembles the OCPI 2.2.1 CDR of a finished session: who charged (token), where (location, EVSE, connector),
 * and the priced part (periods and every total) computed by the tariff engine. Pure: ids and times come in.
 */
import type { EvseContext } from '../stations/station-store.ts';

export type CdrIdentity = {
  readonly cdrId: string;
  readonly sessionId: string;
  readonly idTag: string;
  readonly tokenType: string;
  readonly contractId: string | null;
  readonly meterId: string | null;
  readonly lastUpdated: Date;
  /** OCPI SignedData of the session's signed meter values (src/meters/build-ocpi-signed-data.ts), if any. */
  readonly signedData?: object | null;
};

/** The tariff engine's OCPI output: charging_periods, tariffs and the total_* fields, merged in as they are. */
export type PricedOcpiFields = Record<string, unknown>;

export function buildCdr(identity: CdrIdentity, where: EvseContext, priced: PricedOcpiFields): Record<string, unknown> {
  return {
    country_code: where.countryCode,
    party_id: where.partyId,
    id: identity.cdrId,
    session_id: identity.sessionId,
    cdr_token: {
      country_code: where.countryCode,
      party_id: where.partyId,
      uid: identity.idTag,
      type: identity.tokenType,
      contract_id: identity.contractId ?? identity.idTag,
    },
    auth_method: 'AUTH_REQUEST',
    cdr_location: {
      id: where.locationId,
      name: where.locationName,
      address: where.address,
      city: where.city,
      postal_code: where.postalCode,
      country: where.country,
      coordinates: { latitude: where.latitude ?? '0.000000', longitude: where.longitude ?? '0.000000' },
      evse_uid: where.evseUid,
      evse_id: where.evseUid,
      connector_id: '1',
      connector_standard: where.connectorStandard,
      connector_format: where.connectorFormat,
      connector_power_type: where.powerType,
    },
    ...(identity.meterId !== null && { meter_id: identity.meterId }),
    ...priced,
    ...(identity.signedData && { signed_data: identity.signedData }),
    last_updated: identity.lastUpdated.toISOString(),
  };
}
