/**
 * Rule: no interval without a reading is longer than the limit. The timeline between two readings is interpolated
 * for pricing; a long gap means the split of energy over tariff periods (day/night, power bands) is a guess.
 * Readings outside the session do not close a gap.
 */
import type { Finding } from '../../sessions/finding.ts';
import type { PlausibilityConfig, PlausibilityInput } from './plausibility-input.ts';

export function checkSampleGaps(input: PlausibilityInput, config: PlausibilityConfig): Finding[] {
  const startMs = input.startedAt.getTime();
  const endMs = input.endedAt.getTime();
  if (endMs <= startMs) return [];
  const times = [
    startMs,
    ...input.samples.map((sample) => sample.at.getTime()).filter((atMs) => atMs > startMs && atMs < endMs),
    endMs,
  ].sort((a, b) => a - b);
  const limitMs = config.maxGapS * 1000;
  let gaps = 0;
  let longestMs = 0;
  let longestFrom = startMs;
  for (let index = 1; index < times.length; index++) {
    const gapMs = times[index]! - times[index - 1]!;
    if (gapMs <= limitMs) continue;
    gaps++;
    if (gapMs > longestMs) {
      longestMs = gapMs;
      longestFrom = times[index - 1]!;
    }
  }
  if (gaps === 0) return [];
  return [
    {
      code: 'SampleGap',
      severity: config.severities.sampleGap,
      message: `${gaps} interval(s) without a meter reading longer than ${config.maxGapS} s; the longest is ${Math.round(longestMs / 1000)} s from ${new Date(longestFrom).toISOString()}`,
    },
  ];
}
