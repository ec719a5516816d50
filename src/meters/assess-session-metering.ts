/**
 * Everything metering decides about a session when it ends, inside the stop's transaction: the meterStop to bill
 * (the last reading when the station sent none), the plausibility findings, the meter's calibration and its signed
 * data verified against the registry (pinning a first-seen key). The findings join the session's; a `hold` among
 * them keeps the session from being billed automatically.
 */
import { sql, type Transaction } from 'kysely';
import { queryTemplate } from '../db/query-template.ts';
import type { Database, SessionRow } from '../db/schema.ts';
import { checkPlausibility } from '../metering/plausibility/check-plausibility.ts';
import { resolveMeterStop } from '../metering/plausibility/missing-meter-stop.ts';
import {
  DEFAULT_PLAUSIBILITY_CONFIG,
  type PlausibilityConfig,
  type PlausibilitySample,
} from '../metering/plausibility/plausibility-input.ts';
import type { StoredSample, StoredStateChange } from '../sessions/build-timeline.ts';
import type { Finding } from '../sessions/finding.ts';
import {
  type LoadedSampleRow,
  sampleRowsJson,
  sampleRowsOfJson,
  stateChangesJson,
  stateChangesOfJson,
  toStoredSample,
} from '../sessions/session-store.ts';
import { parseScaled } from '../shared/decimal.ts';
import { assessSignedValues, type VerifiedRecord } from './assess-signed-values.ts';
import { checkCalibration } from './calibration-status.ts';
import { type MeterRow, pinMeterKey } from './meter-store.ts';

export type MeteringAssessmentInput = {
  readonly session: SessionRow;
  readonly endedAt: Date;
  /** As the station sent it; undefined or null when it sent none. */
  readonly meterStopWh: bigint | null | undefined;
  /** When the end reached Voltbill. */
  readonly receivedAt: Date;
  readonly config?: PlausibilityConfig;
  /** The EVSE's context read by the stop already (its rated power); absent or null: the EVSE row is read. */
  readonly evse?: { readonly maxPowerW: number } | null;
};

export type MeteringAssessment = {
  /** The meterStop to bill to, in Wh; null when there is nothing to bill from (a hold finding says why). */
  readonly meterStopWh: bigint | null;
  readonly findings: Finding[];
  /** What was read here, for pricing and the CDR in the same transaction (so that nothing is read twice). */
  readonly loaded: LoadedMetering;
};

export type LoadedMetering = {
  /** The session's samples in time order, as pricing reads them. */
  readonly samples: readonly StoredSample[];
  /** The session's charging-state changes in time order, as pricing reads them. */
  readonly states: readonly StoredStateChange[];
  /** The raw signed values, in the order they arrived. */
  readonly signedValues: readonly string[];
  /** The EVSE's meter (null: none); undefined when a key was pinned here, so the row changed: read it again. */
  readonly meter: MeterRow | null | undefined;
  /**
   * The signed values' records as verified here: with the registered key, or with the key the data carried, which
   * a pin has just registered; the CDR's signed data is built from them (load-cdr-signed-data.ts) instead of
   * verifying every signature a second time in the same transaction.
   */
  readonly signedRecords: readonly VerifiedRecord[];
};

export async function assessSessionMetering(
  trx: Transaction<Database>,
  input: MeteringAssessmentInput,
): Promise<MeteringAssessment> {
  const { session } = input;
  const config = input.config ?? DEFAULT_PLAUSIBILITY_CONFIG;
  const [ratedPowerW, { sampleRows, states, previousMeterStopWh, signedValues, meter }] = await Promise.all([
    input.evse
      ? (input.evse.maxPowerW ?? null)
      : trx
          .selectFrom('evses')
          .select('max_power_w')
          .where('station_id', '=', session.station_id)
          .where('evse_id', '=', session.evse_id)
          .executeTakeFirst()
          .then((evse) => evse?.max_power_w ?? null),
    loadMeteringContext(trx, session),
  ]);
  const samples = sampleRows.map(toRegisterSample);
  const stop = resolveMeterStop(input.meterStopWh, samples, input.endedAt, config);
  const findings: Finding[] = [...stop.findings];
  if (stop.meterStopWh !== null) {
    findings.push(
      ...checkPlausibility(
        {
          startedAt: session.started_at,
          endedAt: input.endedAt,
          meterStartWh: session.meter_start_wh,
          meterStopWh: stop.meterStopWh,
          samples,
          ratedPowerW,
          previousMeterStopWh,
          receivedAt: input.receivedAt,
        },
        config,
      ),
    );
  }
  if (meter !== undefined) {
    findings.push(
      ...checkCalibration(
        { serial: meter.serial, calibrationValidUntil: meter.calibration_valid_until },
        input.endedAt,
        session.time_zone,
      ),
    );
  }
  const signed = assessSignedValues({
    values: signedValues,
    meter:
      meter === undefined
        ? null
        : { serial: meter.serial, publicKey: meter.public_key, signedDataRequired: meter.signed_data_required },
    billedEnergyWh: stop.meterStopWh === null ? null : stop.meterStopWh - session.meter_start_wh,
  });
  findings.push(...signed.findings);
  if (signed.pin !== null) {
    await pinMeterKey(
      trx,
      { operatorId: session.operator_id, stationId: session.station_id, evseId: session.evse_id },
      signed.pin,
      input.receivedAt,
    );
  }
  return {
    meterStopWh: stop.meterStopWh,
    findings,
    loaded: {
      samples: sampleRows.map(toStoredSample),
      states,
      signedValues,
      meter: signed.pin !== null ? undefined : (meter ?? null),
      signedRecords: signed.records,
    },
  };
}

/** loadMeteringContext's statement, built once (src/db/query-template.ts): it runs on every stop. */
const meteringContextQuery = queryTemplate(
  'loadMeteringContext',
  ['stationId', 'evseId', 'sessionId', 'startedAt'],
  (db, p: { stationId: string; evseId: number; sessionId: string; startedAt: Date }) =>
    db
      .selectFrom(sql<{ one: number }>`(select 1 as one)`.as('one'))
      .leftJoin('meters as m', (join) => join.on('m.station_id', '=', p.stationId).on('m.evse_id', '=', p.evseId))
      .selectAll('m')
      .select((eb) => [
        eb
          .selectFrom('sessions')
          .select('meter_stop_wh')
          .where('station_id', '=', p.stationId)
          .where('evse_id', '=', p.evseId)
          .where('status', '=', 'Completed')
          .where('id', '!=', p.sessionId)
          .where('started_at', '<', p.startedAt)
          .orderBy('started_at', 'desc')
          .limit(1)
          .as('previous_meter_stop_wh'),
        eb
          .selectFrom('session_signed_values')
          // JSON text of each raw value: a lossless round trip for any text, on PostgreSQL and PGlite alike.
          .select(sql<string[]>`coalesce(json_agg(raw order by id), '[]'::json)`.as('raws'))
          .where('session_id', '=', p.sessionId)
          .as('signed_values'),
        sampleRowsJson(p.sessionId).as('sample_rows'),
        stateChangesJson(p.sessionId).as('state_changes'),
      ]),
);

/**
 * In one statement: the EVSE's meter (meter-store.ts findMeterOfEvse), the meterStop of the EVSE's previous
 * completed session (continuity of the register), the session's raw signed values in the order they arrived
 * (signed-values-store.ts loadSignedValues), and its samples and charging-state changes (session-store.ts
 * loadSampleRows and loadStateChanges, as json: three statements were one each).
 */
async function loadMeteringContext(
  trx: Transaction<Database>,
  session: SessionRow,
): Promise<{
  sampleRows: LoadedSampleRow[];
  states: StoredStateChange[];
  previousMeterStopWh: bigint | null;
  signedValues: string[];
  meter: MeterRow | undefined;
}> {
  const [row] = await meteringContextQuery.rows(trx, {
    stationId: session.station_id,
    evseId: session.evse_id,
    sessionId: session.id,
    startedAt: session.started_at,
  });
  if (row === undefined) throw new Error('the metering read returned no row (it selects from one constant row)');
  const { previous_meter_stop_wh, signed_values, sample_rows, state_changes, ...m } = row;
  const meter: MeterRow | undefined =
    m.id === null
      ? undefined
      : {
          id: m.id,
          operator_id: m.operator_id as string,
          station_id: m.station_id as string,
          evse_id: m.evse_id as number,
          serial: m.serial as string,
          model: m.model,
          public_key: m.public_key,
          key_source: m.key_source,
          key_pinned_at: m.key_pinned_at,
          calibration_certificate_ref: m.calibration_certificate_ref,
          last_calibrated_on: m.last_calibrated_on,
          calibration_valid_until: m.calibration_valid_until,
          signed_data_required: m.signed_data_required as boolean,
          created_at: m.created_at as Date,
          updated_at: m.updated_at as Date,
        };
  return {
    sampleRows: sampleRowsOfJson(sample_rows),
    states: stateChangesOfJson(state_changes),
    previousMeterStopWh: previous_meter_stop_wh ?? null,
    signedValues: signed_values ?? [],
    meter,
  };
}

/** A reading with its context (Transaction.Begin/End matter to the rules). */
function toRegisterSample(row: LoadedSampleRow): PlausibilitySample {
  const registerMilliWh = row.register_wh === null ? undefined : parseScaled(row.register_wh, 3);
  return {
    at: row.sampled_at,
    context: row.context,
    ...(registerMilliWh !== undefined && { registerMilliWh }),
  };
}
