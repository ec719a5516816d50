/**
 * What a session costs the driver, in the currency's minor units incl. VAT, computed by the same function as the
 * final bill (buildTimeline + priceSession with the tariff frozen at the start): the running cost shown on the
 * station during charging is the price of the session as if it ended at the latest meter reading, so the amount a
 * driver watches and the invoice never disagree about the same readings.
 */
import type { Kysely } from 'kysely';
import type { Database, SessionRow } from '../../db/schema.ts';
import { buildTimeline } from '../../sessions/build-timeline.ts';
import { loadSamples, loadStateChanges } from '../../sessions/session-store.ts';
import { formatMoney, type Money, parseCurrency } from '../../shared/money.ts';
import { loadEvseContext } from '../../stations/station-store.ts';
import { parseTariff } from '../../tariff/parse-tariff.ts';
import { priceSession } from '../../tariff/price-session.ts';
import { loadTariffVersion } from '../../tariff/tariff-store.ts';

export type SessionCost =
  | { readonly kind: 'priced'; readonly inclVat: Money }
  /** Not billed to anyone (refused or unknown token): the station shows 0.00, as OCPP 2.0.1 requires. */
  | { readonly kind: 'free'; readonly currency: string }
  | { readonly kind: 'unknown'; readonly reason: string };

/** OCPP 2.0.1 totalCost is a JSON decimal number in the currency's major unit ("12.34" EUR → 12.34). */
export function totalCostNumber(cost: SessionCost): number | undefined {
  if (cost.kind === 'free') return 0;
  if (cost.kind === 'unknown') return undefined;
  return Number(formatMoney(cost.inclVat));
}

/** The running cost of an active session up to its latest energy reading. */
export async function priceRunningSession(db: Kysely<Database>, session: SessionRow): Promise<SessionCost> {
  if (session.authorization_status !== 'Accepted') return { kind: 'free', currency: session.currency };
  if (session.tariff_version_id === null) return { kind: 'unknown', reason: 'no tariff applied at the start' };
  const [version, where, samples, states] = await Promise.all([
    loadTariffVersion(db, session.tariff_version_id),
    loadEvseContext(db, session.station_id, session.evse_id, { acceptedOnly: false }),
    loadSamples(db, session.id),
    loadStateChanges(db, session.id),
  ]);
  if (!version || !where) return { kind: 'unknown', reason: 'tariff or EVSE no longer exists' };
  const tariff = parseTariff(version.body);
  if (!tariff.ok) return { kind: 'unknown', reason: tariff.error.message };
  const readings = samples.filter((s) => s.registerMilliWh !== undefined);
  const latest = readings.at(-1);
  if (!latest || latest.at.getTime() <= session.started_at.getTime()) {
    return { kind: 'unknown', reason: 'no energy reading after the start yet' };
  }
  // Whole Wh, as the final bill's meterStop (see v201/transaction-events.ts): the same reading, the same amount.
  const energyWh = (latest.registerMilliWh as bigint) / 1000n - session.meter_start_wh;
  if (energyWh < 0n) return { kind: 'unknown', reason: 'the meter is below its start reading' };
  const timeline = buildTimeline(
    { startedAt: session.started_at, endedAt: latest.at, meterStartWh: session.meter_start_wh, energyWh },
    samples.filter((s) => s.at.getTime() <= latest.at.getTime()),
    states,
  );
  const priced = priceSession(
    {
      kind: 'timeline',
      timeline: { startedAt: timeline.startedAt, endedAt: timeline.endedAt, samples: timeline.samples },
    },
    tariff.value,
    { timeZone: session.time_zone, rounding: where.roundingMode },
  );
  if (!priced.ok) return { kind: 'unknown', reason: priced.error.message };
  return { kind: 'priced', inclVat: priced.value.totals.inclVat };
}

/** The final cost of a completed session: its CDR's total, 0 when it is not billable, unknown while held. */
export async function finalSessionCost(db: Kysely<Database>, session: SessionRow): Promise<SessionCost> {
  if (session.billing_status === 'NotBillable') return { kind: 'free', currency: session.currency };
  if (session.billing_status !== 'Billed') return { kind: 'unknown', reason: `billing is ${session.billing_status}` };
  const cdr = await db
    .selectFrom('cdrs')
    .select(['total_incl_vat_minor', 'currency'])
    .where('session_id', '=', session.id)
    .executeTakeFirst();
  if (!cdr) return { kind: 'unknown', reason: 'no CDR' };
  const currency = parseCurrency(cdr.currency);
  if (!currency.ok) return { kind: 'unknown', reason: currency.error.message };
  return { kind: 'priced', inclVat: { minor: cdr.total_incl_vat_minor, currency: currency.value } };
}
