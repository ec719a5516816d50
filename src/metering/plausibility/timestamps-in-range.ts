/**
 * Rule: no timestamp lies in the future (later than when the message reached Voltbill, plus the allowed clock
 * skew) and no reading lies before the session's start (minus the skew). A station with a wrong clock shifts energy
 * between tariff periods; a start or end in the future cannot be priced honestly at all.
 */
import type { Finding } from '../../sessions/finding.ts';
import type { PlausibilityConfig, PlausibilityInput } from './plausibility-input.ts';

export function checkTimestampsInRange(input: PlausibilityInput, config: PlausibilityConfig): Finding[] {
  const skewMs = config.clockSkewS * 1000;
  const latestMs = input.receivedAt.getTime() + skewMs;
  const findings: Finding[] = [];
  const future = [
    { label: 'start', at: input.startedAt },
    { label: 'end', at: input.endedAt },
    ...input.samples.map((sample) => ({ label: 'sample', at: sample.at })),
  ].filter((stamp) => stamp.at.getTime() > latestMs);
  if (future.length > 0) {
    const first = future[0]!;
    findings.push({
      code: 'TimestampInFuture',
      severity: config.severities.timestampInFuture,
      message: `${future.length} timestamp(s) later than the time received (${input.receivedAt.toISOString()}) + ${config.clockSkewS} s; first: ${first.label} at ${first.at.toISOString()}`,
    });
  }
  const earliestMs = input.startedAt.getTime() - skewMs;
  const early = input.samples.filter((sample) => sample.at.getTime() < earliestMs);
  if (early.length > 0) {
    findings.push({
      code: 'TimestampBeforeSession',
      severity: config.severities.timestampBeforeSession,
      message: `${early.length} reading(s) dated before the session's start ${input.startedAt.toISOString()} - ${config.clockSkewS} s; first at ${early[0]!.at.toISOString()}`,
    });
  }
  return findings;
}
