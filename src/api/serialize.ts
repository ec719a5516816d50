/**
 * Rows to JSON for the API. Money leaves as decimal strings in the currency's minor unit (never a float), energy as
 * integer Wh, times as ISO 8601 UTC.
 */
import type { CdrRow, SessionRow, StationRow } from '../db/schema.ts';
import { formatMoney, parseCurrency } from '../shared/money.ts';

function moneyText(minor: bigint, currency: string): string {
  const parsed = parseCurrency(currency);
  return parsed.ok ? formatMoney({ minor, currency: parsed.value }) : minor.toString();
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);
const wh = (value: bigint | null) => (value === null ? null : Number(value));

export function stationJson(row: StationRow) {
  return {
    id: row.id,
    registrationStatus: row.registration_status,
    locationId: row.location_id,
    vendor: row.vendor,
    model: row.model,
    serialNumber: row.serial_number,
    firmwareVersion: row.firmware_version,
    ocppVersion: row.ocpp_version,
    lastBootAt: iso(row.last_boot_at),
    lastSeenAt: iso(row.last_seen_at),
  };
}

export function sessionJson(row: SessionRow) {
  return {
    id: row.id,
    stationId: row.station_id,
    evseId: row.evse_id,
    transactionId: row.transaction_id,
    idTag: row.id_tag,
    authorizationStatus: row.authorization_status,
    status: row.status,
    billingStatus: row.billing_status,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    meterStartWh: wh(row.meter_start_wh),
    meterStopWh: wh(row.meter_stop_wh),
    energyWh: wh(row.energy_wh),
    stopReason: row.stop_reason,
    chargingState: row.charging_state,
    timeZone: row.time_zone,
    currency: row.currency,
    tariffVersionId: row.tariff_version_id,
    findings: row.findings,
  };
}

export function cdrJson(row: CdrRow) {
  return {
    id: row.id,
    sessionId: row.session_id,
    currency: row.currency,
    energyWh: Number(row.energy_wh),
    totalCost: {
      exclVat: moneyText(row.total_excl_vat_minor, row.currency),
      inclVat: moneyText(row.total_incl_vat_minor, row.currency),
    },
    createdAt: iso(row.created_at),
    lines: row.lines,
    ocpi: row.cdr,
  };
}
