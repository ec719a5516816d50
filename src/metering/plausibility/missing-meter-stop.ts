/**
 * Rule: a transaction that ends without a meterStop is billed from its last register reading, and flagged. Without
 * any reading after the start there is nothing to bill from, and the session is held.
 */
import type { Finding } from '../../sessions/finding.ts';
import { type PlausibilityConfig, type PlausibilitySample, registerReadings } from './plausibility-input.ts';

export type MeterStopResolution = {
  /** The register to bill to, in Wh (whole Wh, rounded down: never bill energy that was not measured); or null. */
  readonly meterStopWh: bigint | null;
  readonly findings: Finding[];
};

export function resolveMeterStop(
  meterStopWh: bigint | null | undefined,
  samples: readonly PlausibilitySample[],
  endedAt: Date,
  config: PlausibilityConfig,
): MeterStopResolution {
  if (meterStopWh !== null && meterStopWh !== undefined) return { meterStopWh, findings: [] };
  const last = registerReadings(samples)
    .filter((reading) => reading.at.getTime() <= endedAt.getTime())
    .at(-1);
  if (last === undefined) {
    return {
      meterStopWh: null,
      findings: [
        {
          code: 'StopMissing',
          severity: 'hold',
          message: 'the transaction ended without a meterStop and without any register reading to bill from',
        },
      ],
    };
  }
  const wh = last.registerMilliWh / 1000n;
  return {
    meterStopWh: wh,
    findings: [
      {
        code: 'StopMissing',
        severity: config.severities.meterStopMissing,
        message: `the transaction ended without a meterStop; billed to the last reading, ${wh} Wh at ${last.at.toISOString()}`,
      },
    ],
  };
}
