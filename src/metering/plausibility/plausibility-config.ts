/**
 * The plausibility configuration from the VOLTBILL_PLAUSIBILITY_* settings (config.ts): limits as numbers, and
 * severities as `rule=severity` pairs over the defaults. An unknown rule name is an error naming the known ones,
 * never ignored (a typo would otherwise silently keep a rule at a severity the operator meant to change).
 */
import type { FindingSeverity } from '../../sessions/finding.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import {
  DEFAULT_PLAUSIBILITY_CONFIG,
  type PlausibilityConfig,
  type PlausibilitySeverities,
} from './plausibility-input.ts';

export type PlausibilitySettings = {
  readonly powerMarginPercent: number;
  readonly maxGapS: number;
  readonly clockSkewS: number;
  readonly energyToleranceWh: number;
  /** `rule=severity,...`; undefined keeps every default. */
  readonly severities: string | undefined;
};

const SEVERITIES: readonly FindingSeverity[] = ['info', 'warn', 'hold'];

export function plausibilityConfigFrom(settings: PlausibilitySettings): Result<PlausibilityConfig, string> {
  const severities: Record<string, FindingSeverity> = { ...DEFAULT_PLAUSIBILITY_CONFIG.severities };
  const known = Object.keys(DEFAULT_PLAUSIBILITY_CONFIG.severities);
  for (const pair of (settings.severities ?? '').split(',').filter((text) => text.trim() !== '')) {
    const [name = '', severity = ''] = pair.split('=').map((part) => part.trim());
    if (!known.includes(name)) {
      return err(`VOLTBILL_PLAUSIBILITY_SEVERITIES: unknown rule '${name}'; the rules are ${known.join(', ')}`);
    }
    if (!SEVERITIES.includes(severity as FindingSeverity)) {
      return err(`VOLTBILL_PLAUSIBILITY_SEVERITIES: '${severity}' is not info, warn or hold`);
    }
    severities[name] = severity as FindingSeverity;
  }
  return ok({
    powerMarginPercent: settings.powerMarginPercent,
    registerResolutionWh: DEFAULT_PLAUSIBILITY_CONFIG.registerResolutionWh,
    maxGapS: settings.maxGapS,
    clockSkewS: settings.clockSkewS,
    energyToleranceWh: BigInt(settings.energyToleranceWh),
    severities: severities as PlausibilitySeverities,
  });
}
