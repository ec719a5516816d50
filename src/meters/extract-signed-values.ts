/**
 * Picks the signed meter values out of OCPP 1.6 MeterValue lists (sampledValue format "SignedData", in
 * MeterValues.meterValue and StopTransaction.transactionData). The value string is kept exactly as received: the
 * signature covers bytes inside it, so it is never parsed and re-serialized before it is stored.
 */

export type ExtractedSignedValue = {
  /** The meterValue's timestamp, or null when it is not a date (the value is still kept). */
  readonly at: Date | null;
  readonly context: string | null;
  readonly raw: string;
};

type SampledValueLike = { readonly value?: unknown; readonly format?: unknown; readonly context?: unknown };
type MeterValueLike = { readonly timestamp?: unknown; readonly sampledValue?: readonly SampledValueLike[] };

export function extractV16SignedValues(meterValues: readonly MeterValueLike[] | undefined): ExtractedSignedValue[] {
  const values: ExtractedSignedValue[] = [];
  for (const meterValue of meterValues ?? []) {
    const at = typeof meterValue.timestamp === 'string' ? new Date(meterValue.timestamp) : null;
    for (const sampled of meterValue.sampledValue ?? []) {
      if (sampled.format !== 'SignedData' || typeof sampled.value !== 'string' || sampled.value.length === 0) continue;
      values.push({
        at: at !== null && !Number.isNaN(at.getTime()) ? at : null,
        context: typeof sampled.context === 'string' ? sampled.context : null,
        raw: sampled.value,
      });
    }
  }
  return values;
}

type V201SampledValueLike = { readonly signedMeterValue?: unknown; readonly context?: unknown };
type V201MeterValueLike = { readonly timestamp?: unknown; readonly sampledValue?: readonly V201SampledValueLike[] };

/**
 * The signed meter values of OCPP 2.0.1 MeterValue lists (sampledValue.signedMeterValue), each kept as the JSON
 * text of its SignedMeterValueType: the signed bytes are inside signedMeterData (Base64), so serializing the object
 * changes nothing that is signed. unwrapSignedValueText reads this form back.
 */
export function extractV201SignedValues(
  meterValues: readonly V201MeterValueLike[] | undefined,
): ExtractedSignedValue[] {
  const values: ExtractedSignedValue[] = [];
  for (const meterValue of meterValues ?? []) {
    const at = typeof meterValue.timestamp === 'string' ? new Date(meterValue.timestamp) : null;
    for (const sampled of meterValue.sampledValue ?? []) {
      if (typeof sampled.signedMeterValue !== 'object' || sampled.signedMeterValue === null) continue;
      values.push({
        at: at !== null && !Number.isNaN(at.getTime()) ? at : null,
        context: typeof sampled.context === 'string' ? sampled.context : null,
        raw: JSON.stringify(sampled.signedMeterValue),
      });
    }
  }
  return values;
}
