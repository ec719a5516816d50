/**
 * What the plausibility rules look at and how strict they are. The rules are pure functions of these values: they
 * never read the clock, the database or the environment, so the same session always gets the same findings.
 */
import type { FindingSeverity } from '../../sessions/finding.ts';

/** A meter reading of the session, as stored (the register is absolute, in exact milliwatt-hours). */
export type PlausibilitySample = {
  readonly at: Date;
  readonly registerMilliWh?: bigint;
  /** OCPP reading context (Transaction.Begin, Sample.Periodic, Transaction.End, ...); undefined when unknown. */
  readonly context?: string;
};

export type PlausibilityInput = {
  readonly startedAt: Date;
  readonly endedAt: Date;
  /** Register at the start, in Wh, as the station reported it. */
  readonly meterStartWh: bigint;
  /** Register at the end, in Wh; null when the station sent none (then the last sample is billed, flagged). */
  readonly meterStopWh: bigint | null;
  readonly samples: readonly PlausibilitySample[];
  /** The EVSE's rated power in W (evses.max_power_w); null when unknown, which skips the power rule. */
  readonly ratedPowerW: number | null;
  /** meterStop of the previous completed session on the same EVSE (same meter), or null when there is none. */
  readonly previousMeterStopWh: bigint | null;
  /** When the end reached Voltbill (server clock): "in the future" means later than this plus the clock skew. */
  readonly receivedAt: Date;
};

export type PlausibilitySeverities = {
  readonly registerDecreases: FindingSeverity;
  readonly powerAboveRated: FindingSeverity;
  readonly sampleGap: FindingSeverity;
  readonly timestampInFuture: FindingSeverity;
  readonly timestampBeforeSession: FindingSeverity;
  readonly meterStartAbovePrevious: FindingSeverity;
  readonly meterStartBelowPrevious: FindingSeverity;
  readonly meterStopMissing: FindingSeverity;
  readonly energyDisagrees: FindingSeverity;
};

export type PlausibilityConfig = {
  /** Implied power may exceed the rated power by this many percent (meter accuracy class, rating tolerance). */
  readonly powerMarginPercent: number;
  /**
   * Energy that is always allowed on top of rated power × time, in Wh: a register with a resolution of 1 Wh can
   * jump by a whole step between two close readings, which would otherwise look like an impossible power.
   */
  readonly registerResolutionWh: bigint;
  /** Longest interval without a reading (between start, samples and end), in seconds. */
  readonly maxGapS: number;
  /** How far a station's clock may run ahead of ours, and samples lie before the start, in seconds. */
  readonly clockSkewS: number;
  /** Largest difference between the transaction's registers and the sampled ones that is accepted, in Wh. */
  readonly energyToleranceWh: bigint;
  readonly severities: PlausibilitySeverities;
};

export const DEFAULT_PLAUSIBILITY_CONFIG: PlausibilityConfig = {
  powerMarginPercent: 10,
  registerResolutionWh: 1n,
  maxGapS: 1800,
  clockSkewS: 300,
  energyToleranceWh: 1n,
  severities: {
    registerDecreases: 'hold',
    powerAboveRated: 'hold',
    sampleGap: 'warn',
    timestampInFuture: 'hold',
    timestampBeforeSession: 'warn',
    // Energy between two sessions is normal (the station's own consumption, a session it never reported); a
    // register lower than the last stop means a meter exchange or reset, which the registry should show.
    meterStartAbovePrevious: 'warn',
    meterStartBelowPrevious: 'warn',
    meterStopMissing: 'warn',
    energyDisagrees: 'hold',
  },
};

/** Readings that carry a register, in time order (Array.prototype.sort is stable: equal times keep their order). */
export function registerReadings(
  samples: readonly PlausibilitySample[],
): (PlausibilitySample & { readonly registerMilliWh: bigint })[] {
  return samples
    .filter(
      (sample): sample is PlausibilitySample & { registerMilliWh: bigint } => sample.registerMilliWh !== undefined,
    )
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Wh with three decimals, for messages. */
export function formatMilliWh(milliWh: bigint): string {
  const negative = milliWh < 0n;
  const abs = negative ? -milliWh : milliWh;
  const whole = abs / 1000n;
  const fraction = abs % 1000n;
  const text = fraction === 0n ? `${whole}` : `${whole}.${fraction.toString().padStart(3, '0').replace(/0+$/, '')}`;
  return negative ? `-${text}` : text;
}
