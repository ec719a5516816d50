/**
 * The part of normalization both OCPP versions share: per-phase values are summed only when no total was sent (a
 * total is never added to its own phases), and one MeterSample is made of what a meterValue carried.
 */
import type { MeterSample } from './meter-sample.ts';

/** Instantaneous values of one measurand in one meterValue: the total, or the sum of its phases. */
export type PhaseAccumulator<T> = { total?: T; phaseSum?: T };

export function accumulatePhase(target: PhaseAccumulator<number>, phase: string | undefined, value: number): void {
  if (phase === undefined) target.total = value;
  else target.phaseSum = (target.phaseSum ?? 0) + value;
}

/**
 * The largest power and current a sample can hold (meter_samples.power_w numeric(14,3), current_a numeric(12,3)):
 * far beyond any charger (a megawatt charger draws 1e6 W), so a value past them is not a reading. Left out with a
 * problem rather than stored: the database would refuse the whole sample, and on OCPP 2.0.1 the event carrying it
 * could then never be applied.
 */
const MAX_ABS_POWER_W = 1e11;
const MAX_ABS_CURRENT_A = 1e9;
/**
 * The same for the energy register (meter_samples.register_wh numeric(20,3): below 1e17 Wh, a thousand times all the
 * electricity the world uses in a year). Found by a review: on OCPP 2.0.1 a reading is stored in one statement with
 * its event and the other stations' readings, and such a value failed that whole statement.
 */
const MAX_ABS_REGISTER_MILLI_WH = 10n ** 20n;

/** The sample of one meterValue, or undefined when it carried nothing used for billing. */
export function assembleSample(
  at: Date,
  context: string,
  energy: PhaseAccumulator<bigint>,
  power: PhaseAccumulator<number>,
  current: PhaseAccumulator<number>,
  socPercent: number | undefined,
  problems: string[] = [],
): MeterSample | undefined {
  const energyRegisterMilliWh = registerWithinRange(energy.total ?? energy.phaseSum, problems);
  const powerW = withinRange(power.total ?? power.phaseSum, MAX_ABS_POWER_W, 'power (W)', problems);
  const currentA = withinRange(current.total ?? current.phaseSum, MAX_ABS_CURRENT_A, 'current (A)', problems);
  if (energyRegisterMilliWh === undefined && powerW === undefined && currentA === undefined && socPercent === undefined)
    return undefined;
  return {
    at,
    context,
    ...(energyRegisterMilliWh !== undefined && { energyRegisterMilliWh }),
    ...(powerW !== undefined && { powerW }),
    ...(currentA !== undefined && { currentA }),
    ...(socPercent !== undefined && { socPercent }),
  };
}

function withinRange(value: number | undefined, maxAbs: number, what: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  if (Number.isFinite(value) && Math.abs(value) < maxAbs) return value;
  problems.push(`${what} ${value} is beyond ±${maxAbs}: left out`);
  return undefined;
}

function registerWithinRange(milliWh: bigint | undefined, problems: string[]): bigint | undefined {
  if (milliWh === undefined) return undefined;
  if (milliWh < MAX_ABS_REGISTER_MILLI_WH && milliWh > -MAX_ABS_REGISTER_MILLI_WH) return milliWh;
  problems.push(`energy register ${milliWh / 1000n} Wh is beyond ±${MAX_ABS_REGISTER_MILLI_WH / 1000n} Wh: left out`);
  return undefined;
}
