/**
 * Rule: the transaction's energy agrees with the sampled register. The readings the station marks as the
 * transaction's begin and end must equal meterStart and meterStop, and no reading within the session may lie above
 * meterStop: otherwise the billed energy (meterStop − meterStart) is not what the meter measured.
 */
import type { Finding } from '../../sessions/finding.ts';
import {
  formatMilliWh,
  type PlausibilityConfig,
  type PlausibilityInput,
  registerReadings,
} from './plausibility-input.ts';

export function checkEnergyAgreesWithSamples(input: PlausibilityInput, config: PlausibilityConfig): Finding[] {
  if (input.meterStopWh === null) return [];
  const toleranceMilliWh = config.energyToleranceWh * 1000n;
  const startMilliWh = input.meterStartWh * 1000n;
  const stopMilliWh = input.meterStopWh * 1000n;
  const startMs = input.startedAt.getTime();
  const endMs = input.endedAt.getTime();
  const readings = registerReadings(input.samples).filter(
    (reading) => reading.at.getTime() >= startMs && reading.at.getTime() <= endMs,
  );
  const problems: string[] = [];
  const differs = (a: bigint, b: bigint) => (a > b ? a - b : b - a) > toleranceMilliWh;
  const begin = readings.find((reading) => reading.context === 'Transaction.Begin');
  if (begin !== undefined && differs(begin.registerMilliWh, startMilliWh)) {
    problems.push(
      `the Transaction.Begin reading is ${formatMilliWh(begin.registerMilliWh)} Wh, meterStart ${input.meterStartWh} Wh`,
    );
  }
  const end = readings.findLast((reading) => reading.context === 'Transaction.End');
  if (end !== undefined && differs(end.registerMilliWh, stopMilliWh)) {
    problems.push(
      `the Transaction.End reading is ${formatMilliWh(end.registerMilliWh)} Wh, meterStop ${input.meterStopWh} Wh`,
    );
  }
  const highest = readings.reduce<bigint | undefined>(
    (max, reading) => (max === undefined || reading.registerMilliWh > max ? reading.registerMilliWh : max),
    undefined,
  );
  if (highest !== undefined && highest - stopMilliWh > toleranceMilliWh) {
    problems.push(`a reading of ${formatMilliWh(highest)} Wh lies above meterStop ${input.meterStopWh} Wh`);
  }
  if (problems.length === 0) return [];
  return [
    {
      code: 'EnergyDisagreesWithSamples',
      severity: config.severities.energyDisagrees,
      message: `the billed energy disagrees with the sampled register (tolerance ${config.energyToleranceWh} Wh): ${problems.join('; ')}`,
    },
  ];
}
