/**
 * What a session costs the driver, in the currency's minor units incl. VAT, computed by the same function as the
 * final bill (buildTimeline + priceSession with the tariff frozen at the start): the running cost shown on the
 * station during charging is the price of the session as if it ended at the latest meter reading, so the amount a
 * driver watches and the invoice never disagree about the same readings.
 */
import { type Kysely, sql } from 'kysely';
import type { TariffVersionCache } from '../../billing/tariff-version-cache.ts';
import type { Database, SessionRow } from '../../db/schema.ts';
import { buildTimeline, type StoredSample, type StoredStateChange } from '../../sessions/build-timeline.ts';
import type { ChargingState } from '../../sessions/session-event.ts';
import { toStoredSample } from '../../sessions/session-store.ts';
import type { RoundingMode } from '../../shared/decimal.ts';
import { formatMoney, type Money, parseCurrency } from '../../shared/money.ts';
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
export async function priceRunningSession(
  db: Kysely<Database>,
  session: SessionRow,
  /** Tariff versions already read and parsed (never changed once stored); read here when absent. */
  tariffs?: TariffVersionCache,
  /** The session's inputs when the caller read them in this request (loadPricingInputs); read here when absent. */
  preloaded?: PricingInputs,
): Promise<SessionCost> {
  if (session.authorization_status !== 'Accepted') return { kind: 'free', currency: session.currency };
  if (session.tariff_version_id === null) return { kind: 'unknown', reason: 'no tariff applied at the start' };
  const tariffVersionId = session.tariff_version_id;
  const [version, { roundingMode, samples, states }] = await Promise.all([
    tariffs
      ? tariffs.get(db, tariffVersionId)
      : loadTariffVersion(db, tariffVersionId).then((record) => record && { record, tariff: parseTariff(record.body) }),
    preloaded ?? loadPricingInputs(db, session),
  ]);
  if (!version || roundingMode === undefined) return { kind: 'unknown', reason: 'tariff or EVSE no longer exists' };
  const where = { roundingMode };
  const tariff = version.tariff;
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

/** What the running cost reads besides the session row and its tariff version. */
export type PricingInputs = {
  /** The EVSE's operator's rounding mode; undefined when the station, its location or the EVSE no longer exists. */
  readonly roundingMode: RoundingMode | undefined;
  /** In time order (the last one is the latest reading). */
  readonly samples: readonly StoredSample[];
  readonly states: readonly StoredStateChange[];
};

type PricingInputRow = {
  /** 0 a meter sample, 1 a charging-state change, 2 the EVSE's operator (its rounding mode in `label`). */
  kind: number;
  at: Date | null;
  register_wh: string | null;
  power_w: string | null;
  current_a: string | null;
  label: string | null;
};

/**
 * The session's samples and charging-state changes in time order and its EVSE's rounding mode (undefined when the
 * station, its location or the EVSE no longer exists): what loadSamples, loadStateChanges and loadEvseContext
 * (acceptedOnly: false) return for the running cost, in one statement instead of three, since the running cost is
 * priced on every TransactionEvent with readings.
 */
export async function loadPricingInputs(db: Kysely<Database>, session: SessionRow): Promise<PricingInputs> {
  const { rows } = await sql<PricingInputRow>`
    select 0 as kind, sampled_at as at, register_wh, power_w, current_a, null::text as label
      from meter_samples where session_id = ${session.id}
    union all
    select 1, changed_at, null, null, null, state from session_states where session_id = ${session.id}
    union all
    select 2, null, null, null, null, o.rounding_mode from stations s
      join operators o on o.id = s.operator_id
      join locations l on l.id = s.location_id
      join evses e on e.station_id = s.id and e.evse_id = ${session.evse_id}
      where s.id = ${session.station_id}
    order by kind, at`.execute(db);
  let roundingMode: RoundingMode | undefined;
  const samples: StoredSample[] = [];
  const states: StoredStateChange[] = [];
  for (const row of rows) {
    const kind = Number(row.kind);
    if (kind === 0) samples.push(toStoredSample({ ...row, sampled_at: row.at as Date }));
    else if (kind === 1) states.push({ at: row.at as Date, state: row.label as ChargingState });
    else roundingMode ??= row.label as RoundingMode;
  }
  return { roundingMode, samples, states };
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
