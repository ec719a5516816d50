/** Reading what a CSMS stub recorded, for assertions about the simulator's messages. */
import type { RecordedCall } from './csms-stub.ts';

/** The timestamps a call carries (StatusNotification, Start/StopTransaction, every MeterValues entry), in ms. */
export function timestampsOf(call: RecordedCall): number[] {
  const params = call.params as {
    timestamp?: string;
    meterValue?: { timestamp: string }[];
  };
  if (call.method === 'MeterValues') return (params.meterValue ?? []).map((value) => Date.parse(value.timestamp));
  return params.timestamp === undefined ? [] : [Date.parse(params.timestamp)];
}

/** The energy register (Wh) of each MeterValues entry of a call. */
export function registersOf(call: RecordedCall): number[] {
  const params = call.params as {
    meterValue?: { sampledValue: { measurand?: string; value: string }[] }[];
  };
  return (params.meterValue ?? []).map((value) =>
    Number(value.sampledValue.find((sampled) => sampled.measurand === 'Energy.Active.Import.Register')?.value),
  );
}

/** Resolves once `predicate` holds, polling every few ms; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
