/**
 * Rule: the power implied by two register readings (energy / time) is never above the EVSE's rated power plus a
 * margin. A register that grows faster than the EVSE can deliver is a wrong reading or the wrong meter. The check
 * is exact: ΔmWh × 3600 × 100 ≤ ratedW × (100 + margin%) × Δms + resolution, all in bigint.
 */
import type { Finding } from '../../sessions/finding.ts';
import {
  formatMilliWh,
  type PlausibilityConfig,
  type PlausibilityInput,
  registerReadings,
} from './plausibility-input.ts';

export function checkImpliedPower(input: PlausibilityInput, config: PlausibilityConfig): Finding[] {
  if (input.ratedPowerW === null || input.ratedPowerW <= 0) return [];
  const points = [
    { at: input.startedAt, registerMilliWh: input.meterStartWh * 1000n },
    ...registerReadings(input.samples),
    ...(input.meterStopWh === null ? [] : [{ at: input.endedAt, registerMilliWh: input.meterStopWh * 1000n }]),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  const rated = BigInt(Math.round(input.ratedPowerW));
  const margin = BigInt(100 + Math.round(config.powerMarginPercent));
  const resolutionMilliWh = config.registerResolutionWh * 1000n;
  let worst: { impliedW: bigint; from: Date; to: Date; milliWh: bigint } | undefined;
  for (let index = 1; index < points.length; index++) {
    const from = points[index - 1]!;
    const to = points[index]!;
    const milliWh = to.registerMilliWh - from.registerMilliWh;
    if (milliWh <= 0n) continue;
    const durationMs = BigInt(to.at.getTime() - from.at.getTime());
    // Energy allowed in milli-Wh: rated W × margin/100 × Δms / 3 600 000 ms/h × 1000 mWh/Wh, plus one register step.
    const allowedScaled = rated * margin * durationMs + resolutionMilliWh * 360_000n;
    if (milliWh * 360_000n <= allowedScaled) continue;
    const impliedW = durationMs === 0n ? -1n : (milliWh * 3_600n) / durationMs;
    if (worst === undefined || impliedW < 0n || (worst.impliedW >= 0n && impliedW > worst.impliedW)) {
      worst = { impliedW, from: from.at, to: to.at, milliWh };
    }
  }
  if (worst === undefined) return [];
  const implied = worst.impliedW < 0n ? 'an instantaneous jump' : `${worst.impliedW} W`;
  return [
    {
      code: 'PowerAboveRated',
      severity: config.severities.powerAboveRated,
      message: `${formatMilliWh(worst.milliWh)} Wh between ${worst.from.toISOString()} and ${worst.to.toISOString()} implies ${implied}, above the EVSE's rated ${input.ratedPowerW} W + ${config.powerMarginPercent}%`,
    },
  ];
}
