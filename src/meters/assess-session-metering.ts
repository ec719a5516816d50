/**
 * Everything metering decides about a session when it ends, inside the stop's transaction: the meterStop to bill
 * (the last reading when the station sent none), the plausibility findings, the meter's calibration and its signed
 * data verified against the registry (pinning a first-seen key). The findings join the session's; a `hold` among
 * them keeps the session from being billed automatically.
 */
import type { Transaction } from 'kysely';
import type { Database, SessionRow } from '../db/schema.ts';
import { checkPlausibility } from '../metering/plausibility/check-plausibility.ts';
import { resolveMeterStop } from '../metering/plausibility/missing-meter-stop.ts';
import {
  DEFAULT_PLAUSIBILITY_CONFIG,
  type PlausibilityConfig,
  type PlausibilitySample,
} from '../metering/plausibility/plausibility-input.ts';
import type { Finding } from '../sessions/finding.ts';
import { parseScaled } from '../shared/decimal.ts';
import { assessSignedValues } from './assess-signed-values.ts';
import { checkCalibration } from './calibration-status.ts';
import { findMeterOfEvse, pinMeterKey } from './meter-store.ts';
import { loadSignedValues } from './signed-values-store.ts';

export type MeteringAssessmentInput = {
  readonly session: SessionRow;
  readonly endedAt: Date;
  /** As the station sent it; undefined or null when it sent none. */
  readonly meterStopWh: bigint | null | undefined;
  /** When the end reached Voltbill. */
  readonly receivedAt: Date;
  readonly config?: PlausibilityConfig;
};

export type MeteringAssessment = {
  /** The meterStop to bill to, in Wh; null when there is nothing to bill from (a hold finding says why). */
  readonly meterStopWh: bigint | null;
  readonly findings: Finding[];
};

export async function assessSessionMetering(
  trx: Transaction<Database>,
  input: MeteringAssessmentInput,
): Promise<MeteringAssessment> {
  const { session } = input;
  const config = input.config ?? DEFAULT_PLAUSIBILITY_CONFIG;
  const [samples, evse, previous, meter, signedValues] = await Promise.all([
    loadRegisterSamples(trx, session.id),
    trx
      .selectFrom('evses')
      .select('max_power_w')
      .where('station_id', '=', session.station_id)
      .where('evse_id', '=', session.evse_id)
      .executeTakeFirst(),
    trx
      .selectFrom('sessions')
      .select('meter_stop_wh')
      .where('station_id', '=', session.station_id)
      .where('evse_id', '=', session.evse_id)
      .where('status', '=', 'Completed')
      .where('id', '!=', session.id)
      .where('started_at', '<', session.started_at)
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst(),
    findMeterOfEvse(trx, session.station_id, session.evse_id),
    loadSignedValues(trx, session.id),
  ]);
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
          ratedPowerW: evse?.max_power_w ?? null,
          previousMeterStopWh: previous?.meter_stop_wh ?? null,
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
  return { meterStopWh: stop.meterStopWh, findings };
}

/** The session's readings with their context (Transaction.Begin/End matter to the rules). */
async function loadRegisterSamples(trx: Transaction<Database>, sessionId: string): Promise<PlausibilitySample[]> {
  const rows = await trx
    .selectFrom('meter_samples')
    .select(['sampled_at', 'register_wh', 'context'])
    .where('session_id', '=', sessionId)
    .orderBy('sampled_at')
    .execute();
  return rows.map((row) => {
    const registerMilliWh = row.register_wh === null ? undefined : parseScaled(row.register_wh, 3);
    return {
      at: row.sampled_at,
      context: row.context,
      ...(registerMilliWh !== undefined && { registerMilliWh }),
    };
  });
}
