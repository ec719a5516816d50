/**
 * What priceSession accepts: the charging periods of an OCPI CDR, or Voltbill's own session timeline, plus the
 * options that the law, the contract or the location decide (time zone, rounding mode).
 */
import type { RoundingMode } from '../shared/decimal.ts';

/** OCPP charging states (2.0.1 ChargingStateEnumType; 1.6 statuses map onto them at the gateway). */
export const CHARGING_STATES = ['Charging', 'SuspendedEV', 'SuspendedEVSE', 'EVConnected', 'Idle'] as const;
export type ChargingState = (typeof CHARGING_STATES)[number];

/**
 * One meter sample of a session. `energyWh` is the cumulative energy since the session started (meter register
 * minus its value at start), with at most 3 decimals (1 mWh); it rises linearly until the next sample. The state,
 * power and current hold until the next sample.
 */
export type TimelineSample = {
  readonly at: Date;
  readonly energyWh: number;
  readonly state: ChargingState;
  readonly powerW?: number;
  readonly currentA?: number;
};

/** A session as Voltbill's stations record it. Samples are in time order, within [startedAt, endedAt]. */
export type SessionTimeline = {
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly samples: readonly TimelineSample[];
};

/** OCPI 2.2.1 CdrDimensionType. */
export const CDR_DIMENSION_TYPES = [
  'CURRENT',
  'ENERGY',
  'ENERGY_EXPORT',
  'ENERGY_IMPORT',
  'MAX_CURRENT',
  'MIN_CURRENT',
  'MAX_POWER',
  'MIN_POWER',
  'PARKING_TIME',
  'POWER',
  'RESERVATION_TIME',
  'STATE_OF_CHARGE',
  'TIME',
] as const;
export type CdrDimensionType = (typeof CDR_DIMENSION_TYPES)[number];

/**
 * OCPI CdrDimension. Units as in OCPI: kWh (ENERGY*), hours (TIME, PARKING_TIME, RESERVATION_TIME), A (currents),
 * kW (powers), percent (STATE_OF_CHARGE). The volume is a JSON number or a decimal string and is read exactly.
 */
export type CdrDimension = { readonly type: string; readonly volume: number | string };

/** OCPI ChargingPeriod: it lasts until the next period starts; the last one until the CDR's end. */
export type CdrChargingPeriod = {
  readonly startedAt: Date;
  readonly dimensions: readonly CdrDimension[];
  readonly tariffId?: string;
};

export type PricingInput =
  | {
      readonly kind: 'cdr';
      readonly startedAt: Date;
      readonly endedAt: Date;
      readonly periods: readonly CdrChargingPeriod[];
    }
  | { readonly kind: 'timeline'; readonly timeline: SessionTimeline };

export type PricingOptions = {
  /** IANA zone of the location (e.g. Europe/Amsterdam). Required: local-time restrictions are never guessed. */
  readonly timeZone: string;
  /** How each invoice line is rounded to the currency's minor unit (operator setting). */
  readonly rounding: RoundingMode;
  /** Bill time in SuspendedEVSE (the station, not the car, paused) as TIME. Default false: not billed. */
  readonly billSuspendedEvseAsTime?: boolean;
};
