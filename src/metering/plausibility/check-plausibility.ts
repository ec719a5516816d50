/**
 * Runs every plausibility rule over one finished session. Pure; the order of findings is the order of the rules.
 * A missing meterStop is resolved by the caller first (resolveMeterStop), so that these rules see the billed stop.
 */
import type { Finding } from '../../sessions/finding.ts';
import { checkEnergyAgreesWithSamples } from './energy-agrees-with-samples.ts';
import { checkImpliedPower } from './implied-power.ts';
import { checkMeterContinuity } from './meter-continuity.ts';
import { DEFAULT_PLAUSIBILITY_CONFIG, type PlausibilityConfig, type PlausibilityInput } from './plausibility-input.ts';
import { checkRegisterNeverDecreases } from './register-never-decreases.ts';
import { checkSampleGaps } from './sample-gaps.ts';
import { checkTimestampsInRange } from './timestamps-in-range.ts';

export type PlausibilityRule = (input: PlausibilityInput, config: PlausibilityConfig) => Finding[];

export const PLAUSIBILITY_RULES: readonly PlausibilityRule[] = [
  checkRegisterNeverDecreases,
  checkImpliedPower,
  checkSampleGaps,
  checkTimestampsInRange,
  checkMeterContinuity,
  checkEnergyAgreesWithSamples,
];

export function checkPlausibility(
  input: PlausibilityInput,
  config: PlausibilityConfig = DEFAULT_PLAUSIBILITY_CONFIG,
): Finding[] {
  return PLAUSIBILITY_RULES.flatMap((rule) => rule(input, config));
}
