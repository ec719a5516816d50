/**
 * Rule: the energy register never decreases within a session. A register is cumulative; a lower reading after a
 * higher one is a meter fault, a reset or a tampered value, and no energy figure derived from it can be trusted.
 * (meterStop below meterStart is decided when the transaction ends, see sessions/end-transaction.ts.)
 */
import type { Finding } from '../../sessions/finding.ts';
import {
  formatMilliWh,
  type PlausibilityConfig,
  type PlausibilityInput,
  registerReadings,
} from './plausibility-input.ts';

export function checkRegisterNeverDecreases(input: PlausibilityInput, config: PlausibilityConfig): Finding[] {
  const readings = registerReadings(input.samples);
  // Labels are only built for the first drop: a session may hold thousands of readings.
  const label = (index: number) => (index < 0 ? 'meterStart' : `sample at ${readings[index]!.at.toISOString()}`);
  const valueAt = (index: number) => (index < 0 ? input.meterStartWh * 1000n : readings[index]!.registerMilliWh);
  let drops = 0;
  let first: string | undefined;
  for (let index = 0; index < readings.length; index++) {
    const previous = valueAt(index - 1);
    const current = valueAt(index);
    if (current < previous) {
      drops++;
      first ??= `${label(index)} reads ${formatMilliWh(current)} Wh after ${label(index - 1)} read ${formatMilliWh(previous)} Wh`;
    }
  }
  if (drops === 0) return [];
  return [
    {
      code: 'MeterWentBackwards',
      severity: config.severities.registerDecreases,
      message: `the energy register decreased ${drops} time(s) within the session; first: ${first}`,
    },
  ];
}
