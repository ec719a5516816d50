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

/** The sample of one meterValue, or undefined when it carried nothing used for billing. */
export function assembleSample(
  at: Date,
  context: string,
  energy: PhaseAccumulator<bigint>,
  power: PhaseAccumulator<number>,
  current: PhaseAccumulator<number>,
  socPercent: number | undefined,
): MeterSample | undefined {
  const energyRegisterMilliWh = energy.total ?? energy.phaseSum;
  const powerW = power.total ?? power.phaseSum;
  const currentA = current.total ?? current.phaseSum;
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
