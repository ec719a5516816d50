/**
 * Rule: a session's meterStart continues the previous session's meterStop on the same meter. Energy between two
 * sessions was delivered to no one we billed; a start below the last stop means the register was reset or the meter
 * exchanged. Both are worth an operator's look; how strongly is configured per direction.
 */
import type { Finding } from '../../sessions/finding.ts';
import type { PlausibilityConfig, PlausibilityInput } from './plausibility-input.ts';

export function checkMeterContinuity(input: PlausibilityInput, config: PlausibilityConfig): Finding[] {
  if (input.previousMeterStopWh === null || input.meterStartWh === input.previousMeterStopWh) return [];
  const difference = input.meterStartWh - input.previousMeterStopWh;
  const above = difference > 0n;
  return [
    {
      code: 'MeterStartDiscontinuous',
      severity: above ? config.severities.meterStartAbovePrevious : config.severities.meterStartBelowPrevious,
      message: above
        ? `meterStart ${input.meterStartWh} Wh is ${difference} Wh above the previous session's meterStop ${input.previousMeterStopWh} Wh on this meter`
        : `meterStart ${input.meterStartWh} Wh is ${-difference} Wh below the previous session's meterStop ${input.previousMeterStopWh} Wh on this meter (reset or exchanged meter?)`,
    },
  ];
}
