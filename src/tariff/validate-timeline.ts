/**
 * Checks a SessionTimeline before it is cut: timestamps in order and inside the session, cumulative energy never
 * decreasing and exact to 1 mWh, known charging states. Every rejection names the JSON path of the sample in
 * the timeline document format (`$.samples[3].energyWh`).
 */
import { PRICING_LIMITS, PricingFailure } from './pricing-error.ts';
import { CHARGING_STATES, type ChargingState, type SessionTimeline } from './pricing-input.ts';

/** Charging state codes, in the order of CHARGING_STATES. */
export const STATE_CHARGING = 0;
export const STATE_SUSPENDED_EV = 1;
export const STATE_SUSPENDED_EVSE = 2;
export const STATE_EV_CONNECTED = 3;
export const STATE_IDLE = 4;

/** Largest cumulative energy accepted: 1 GWh, far beyond any session, keeps mWh values exact. */
const MAX_ENERGY_WH = 1_000_000_000;

/** The code of a charging state (its index in CHARGING_STATES), or -1 for anything else. */
export function stateCode(state: ChargingState): number {
  switch (state) {
    case 'Charging':
      return STATE_CHARGING;
    case 'SuspendedEV':
      return STATE_SUSPENDED_EV;
    case 'SuspendedEVSE':
      return STATE_SUSPENDED_EVSE;
    case 'EVConnected':
      return STATE_EV_CONNECTED;
    case 'Idle':
      return STATE_IDLE;
    default:
      return -1;
  }
}

/** A sample's cumulative energy in mWh (validateTimeline has checked that this is exact). */
export function energyMilliWhOf(energyWh: number): number {
  return Math.round(energyWh * 1000);
}

/**
 * Checks the timeline and returns its span in epoch ms; throws PricingFailure (TimelineInvalid or InputTooLarge)
 * on the first problem. Nothing is copied: the cutter reads the samples directly.
 */
export function validateTimeline(timeline: SessionTimeline): { startMs: number; endMs: number } {
  const startMs = timeline.startedAt.getTime();
  const endMs = timeline.endedAt.getTime();
  if (Number.isNaN(startMs)) invalid('$.startedAt', 'expected a valid date-time');
  if (Number.isNaN(endMs)) invalid('$.endedAt', 'expected a valid date-time');
  if (endMs < startMs) invalid('$.endedAt', 'must not be before startedAt');
  if (endMs - startMs > PRICING_LIMITS.maxSessionMs) {
    tooLarge('$.endedAt', `a session may last at most ${PRICING_LIMITS.maxSessionMs / 86_400_000} days`);
  }
  const samples = timeline.samples;
  const count = samples.length;
  if (count > PRICING_LIMITS.maxSamples) tooLarge('$.samples', `at most ${PRICING_LIMITS.maxSamples} samples`);
  let previousAtMs = startMs;
  let previousEnergy = 0;
  for (let i = 0; i < count; i++) {
    const sample = samples[i] as SessionTimeline['samples'][number];
    const at = sample.at.getTime();
    if (Number.isNaN(at)) invalid(`$.samples[${i}].at`, 'expected a valid date-time');
    if (at < startMs) invalid(`$.samples[${i}].at`, 'is before startedAt');
    if (at > endMs) invalid(`$.samples[${i}].at`, 'is after endedAt');
    if (at < previousAtMs) invalid(`$.samples[${i}].at`, 'samples must be in time order');
    const energyWh = sample.energyWh;
    if (typeof energyWh !== 'number' || !(energyWh >= 0 && energyWh <= MAX_ENERGY_WH)) {
      invalid(`$.samples[${i}].energyWh`, `expected a number of Wh between 0 and ${MAX_ENERGY_WH}`);
    }
    // Exact conversion to mWh: the double must be the one of a decimal with at most 3 decimals.
    const milli = energyMilliWhOf(energyWh);
    if (milli / 1000 !== energyWh) invalid(`$.samples[${i}].energyWh`, 'expected at most 3 decimals (1 mWh)');
    if (milli < previousEnergy) {
      invalid(
        `$.samples[${i}].energyWh`,
        'is less than the previous sample: the cumulative energy must never decrease',
      );
    }
    if (stateCode(sample.state) < 0) {
      invalid(`$.samples[${i}].state`, `expected one of ${CHARGING_STATES.join(', ')}`);
    }
    if (sample.powerW !== undefined && !Number.isFinite(sample.powerW))
      invalid(`$.samples[${i}].powerW`, 'expected a number');
    if (sample.currentA !== undefined && !Number.isFinite(sample.currentA)) {
      invalid(`$.samples[${i}].currentA`, 'expected a number');
    }
    previousAtMs = at;
    previousEnergy = milli;
  }
  return { startMs, endMs };
}

function invalid(path: string, message: string): never {
  throw new PricingFailure({ code: 'TimelineInvalid', path, message });
}

function tooLarge(path: string, message: string): never {
  throw new PricingFailure({ code: 'InputTooLarge', path, message });
}
