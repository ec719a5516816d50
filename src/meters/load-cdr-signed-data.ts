/**
 * The signed data a session's CDR carries: the stored raw values verified with the meter's registered key, turned
 * into OCPI SignedData. Null when the session has no signed data that can be read. At a stop the records the stop
 * verified a moment before, in the same transaction, are taken as they are (an ECDSA verification per record, about
 * 0.2 ms each, is the dearest part of a signed session's bill); billed later (a review released), they are verified
 * here.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { assessSignedValues, type VerifiedRecord } from './assess-signed-values.ts';
import { buildOcpiSignedData, type OcpiSignedData } from './build-ocpi-signed-data.ts';
import { findMeterOfEvse, type MeterRow } from './meter-store.ts';
import { loadSignedValues } from './signed-values-store.ts';

export type CdrMetering = {
  readonly signedData: OcpiSignedData | null;
  /** The registered meter's serial (OCPI CDR.meter_id), or null. */
  readonly meterId: string | null;
};

export async function loadCdrMetering(
  trx: Transaction<Database>,
  session: { readonly id: string; readonly station_id: string; readonly evse_id: number },
  /** What the stop read already in this transaction (assess-session-metering.ts); a part left undefined is read. */
  loaded: {
    readonly signedValues?: readonly string[];
    readonly meter?: MeterRow | null;
    readonly signedRecords?: readonly VerifiedRecord[];
  } = {},
): Promise<CdrMetering> {
  const [values, meter] = await Promise.all([
    loaded.signedValues ?? loadSignedValues(trx, session.id),
    loaded.meter === undefined
      ? findMeterOfEvse(trx, session.station_id, session.evse_id)
      : (loaded.meter ?? undefined),
  ]);
  const meterId = meter === undefined ? null : meter.serial.slice(0, 255);
  if (values.length === 0) return { signedData: null, meterId };
  // The same values and the same key as the stop's: the records it verified are this CDR's (see above).
  if (loaded.signedRecords !== undefined && loaded.signedValues !== undefined) {
    return { signedData: buildOcpiSignedData(loaded.signedRecords), meterId };
  }
  const assessed = assessSignedValues({
    values,
    meter:
      meter === undefined ? null : { serial: meter.serial, publicKey: meter.public_key, signedDataRequired: false },
    billedEnergyWh: null,
  });
  return { signedData: buildOcpiSignedData(assessed.records), meterId };
}
