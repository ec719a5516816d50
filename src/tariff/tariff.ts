/**
 * Voltbill's tariff model: the OCPI 2.2.1 Tariff object, validated, with every number also held as an exact
 * integer for the pricing hot path. The OCPI field names are kept as they are so that a tariff can be read next to
 * the standard; the exact forms have Voltbill names with their unit in the name.
 *
 * The original JSON document stays in `ocpi` (deep-frozen), including fields this version does not know, so that
 * a CDR can embed the tariff exactly as received and later OCPP 2.1 / OCPI 2.3 fields survive a round trip.
 */
import type { RoundingMode } from '../shared/decimal.ts';
import type { CurrencyCode } from '../shared/money.ts';
import type { JsonObject } from './read-json.ts';

export const TARIFF_DIMENSION_TYPES = ['ENERGY', 'FLAT', 'PARKING_TIME', 'TIME'] as const;
export type TariffDimensionType = (typeof TARIFF_DIMENSION_TYPES)[number];

export const TARIFF_TYPES = ['AD_HOC_PAYMENT', 'PROFILE_CHEAP', 'PROFILE_FAST', 'PROFILE_GREEN', 'REGULAR'] as const;
export type TariffType = (typeof TARIFF_TYPES)[number];

/** OCPI DayOfWeek, in ISO order: index 0 is Monday. */
export const DAYS_OF_WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

export const RESERVATION_RESTRICTION_TYPES = ['RESERVATION', 'RESERVATION_EXPIRES'] as const;
export type ReservationRestrictionType = (typeof RESERVATION_RESTRICTION_TYPES)[number];

/** Prices (unit prices, min_price, max_price) are exact to 10^-9 of the currency unit ("nano" units). */
export const PRICE_SCALE = 9;
/** VAT percentages are exact to 10^-4 percent, which makes a whole number of parts per million. */
export const VAT_PERCENT_SCALE = 4;
/** Energy restrictions (min_kwh, max_kwh) are exact to 1 mWh = 10^-6 kWh. */
export const ENERGY_KWH_SCALE = 6;
/** Power restrictions are exact to 1 W = 10^-3 kW. */
export const POWER_KW_SCALE = 3;

export type DisplayText = { readonly language: string; readonly text: string };

/** An OCPI Price (min_price, max_price) with its exact forms. */
export type TariffPrice = {
  readonly excl_vat: number;
  readonly incl_vat?: number;
  readonly exclVatNano: bigint;
  /** incl_vat in nano units; equals exclVatNano when the tariff has no VAT anywhere and incl_vat is omitted. */
  readonly inclVatNano: bigint;
};

export type PriceComponent = {
  readonly type: TariffDimensionType;
  /** Price per unit excluding VAT as written in the tariff: per kWh, per hour, or per session (FLAT). */
  readonly price: number;
  /** VAT percentage as written; absent means "no VAT applicable", which is not 0 %. */
  readonly vat?: number;
  /** OCPI step_size: Wh for ENERGY, seconds for TIME and PARKING_TIME, meaningless for FLAT. */
  readonly step_size: number;
  /** `price` × 10^9, exact. */
  readonly priceNanoPerUnit: bigint;
  /** VAT rate in parts per million of the amount excluding VAT (21 % = 210000); null: no VAT applicable. */
  readonly vatRatePpm: bigint | null;
  /** step_size in the engine's units (mWh for ENERGY, ms for TIME and PARKING_TIME); 0: the exact volume is billed. */
  readonly stepMilliUnits: number;
  /** The price and VAT as exact decimal text (e.g. "0.25", "21"), for invoice lines. */
  readonly priceText: string;
  readonly vatText: string | null;
};

/** OCPI TariffRestrictions exactly as written (validated). */
export type TariffRestrictions = {
  readonly start_time?: string;
  readonly end_time?: string;
  readonly start_date?: string;
  readonly end_date?: string;
  readonly min_kwh?: number;
  readonly max_kwh?: number;
  readonly min_current?: number;
  readonly max_current?: number;
  readonly min_power?: number;
  readonly max_power?: number;
  readonly min_duration?: number;
  readonly max_duration?: number;
  readonly day_of_week?: readonly DayOfWeek[];
  readonly reservation?: ReservationRestrictionType;
};

/** How a time-of-day restriction behaves; see compile-restrictions.ts for the decided semantics. */
export type TimeWindowKind = 'none' | 'within-day' | 'past-midnight' | 'never';

/**
 * Restrictions in the engine's exact units. Absent bounds are -Infinity / +Infinity so that every check is one
 * comparison; power and current bounds are null when absent because a missing measurement matters only when a
 * bound exists.
 */
export type CompiledRestrictions = {
  /** True when the element has no restriction that can fail (its reservation kind is handled by the plan). */
  readonly unrestricted: boolean;
  readonly timeWindow: TimeWindowKind;
  /** Local wall-clock time of day in ms since local midnight; end 00:00 is 86 400 000 (end of day). */
  readonly startTimeOfDayMs: number;
  readonly endTimeOfDayMs: number;
  /** Local dates as day numbers (days since 1970-01-01): start inclusive, end exclusive. */
  readonly startDay: number;
  readonly endDay: number;
  /** Bit i set: day i of DAYS_OF_WEEK (0 = Monday) allowed. 127 = every day. */
  readonly dayOfWeekMask: number;
  /** Cumulative session energy: min inclusive, max exclusive, in mWh. */
  readonly minEnergyMilliWh: number;
  readonly maxEnergyMilliWh: number;
  /** Session duration since start: min inclusive, max exclusive, in ms. */
  readonly minDurationMs: number;
  readonly maxDurationMs: number;
  /** Current in A and power in W: min inclusive, max exclusive. */
  readonly minCurrentA: number | null;
  readonly maxCurrentA: number | null;
  readonly minPowerW: number | null;
  readonly maxPowerW: number | null;
  readonly reservation: ReservationRestrictionType | null;
};

export type TariffElement = {
  readonly price_components: readonly PriceComponent[];
  readonly restrictions?: TariffRestrictions;
  readonly compiled: CompiledRestrictions;
};

/**
 * Tables derived once from the elements so that pricing a session does no searching or parsing. Candidate lists
 * hold element indices in list order: the first one whose restrictions hold is the one that applies (OCPI rule).
 */
export type PricingPlan = {
  /** restrictions[element]: each element's compiled restrictions, in one array for the hot loop. */
  readonly restrictions: readonly CompiledRestrictions[];
  /** Elements without a reservation restriction that have a component of the dimension. */
  readonly energyCandidates: readonly number[];
  readonly timeCandidates: readonly number[];
  readonly parkingCandidates: readonly number[];
  readonly flatCandidates: readonly number[];
  /** Reservation elements for a reservation that was used (RESERVATION only). */
  readonly reservationTimeCandidates: readonly number[];
  readonly reservationFlatCandidates: readonly number[];
  /** Reservation elements for an expired reservation: RESERVATION_EXPIRES first, then RESERVATION. */
  readonly expiredReservationTimeCandidates: readonly number[];
  readonly expiredReservationFlatCandidates: readonly number[];
  /** componentOf[dimension][element]: the element's component of that dimension, if any. */
  readonly componentOf: Readonly<Record<TariffDimensionType, readonly (PriceComponent | undefined)[]>>;
  /** Distinct start/end times of day (ms since local midnight, excluding 0 and 24 h), ascending. */
  readonly timeOfDayBoundariesMs: readonly number[];
  /** True when any restriction depends on the local date (time of day, dates, day of week). */
  readonly usesLocalTime: boolean;
  /** Distinct min/max durations in ms, ascending. */
  readonly durationBoundariesMs: readonly number[];
  /** Distinct min/max kWh in mWh, ascending. */
  readonly energyBoundariesMilliWh: readonly number[];
  readonly usesPower: boolean;
  readonly usesCurrent: boolean;
  /** Distinct power limits (W) and current limits (A), ascending: the values at which a restriction can flip. */
  readonly powerBoundsW: readonly number[];
  readonly currentBoundsA: readonly number[];
  /** Tariff validity (start_date_time inclusive, end_date_time exclusive) in epoch ms; ±Infinity when open. */
  readonly validFromMs: number;
  readonly validUntilMs: number;
  /** True when any component carries a VAT percentage. */
  readonly hasVat: boolean;
  /** The exact unit of every amount priced with this tariff (see exact-amount.ts). */
  readonly amountScale: AmountScale;
  /**
   * amountPerUnit[dimension][element]: the exact amount (numerator over amountScale.denominator) of one engine
   * unit (1 mWh, 1 ms, 1 session) excluding and including VAT, so that a line costs one multiplication.
   */
  readonly amountPerUnit: Readonly<Record<TariffDimensionType, readonly (LineFactors | undefined)[]>>;
  /** min_price / max_price as exact amounts (numerators over amountScale.denominator); null when absent. */
  readonly minPriceAmount: PriceLimitAmount | null;
  readonly maxPriceAmount: PriceLimitAmount | null;
};

/** A min_price or max_price: exact (numerators over the amount denominator) and rounded to minor units per mode. */
export type PriceLimitAmount = {
  readonly exclVat: bigint;
  readonly inclVat: bigint;
  readonly minorByMode: Readonly<Record<RoundingMode, { readonly exclVat: bigint; readonly inclVat: bigint }>>;
};

/**
 * Exact amounts priced with one tariff are integers over `denominator` = 36 * 10^decimals, where `decimals` is
 * the smallest power that makes every price (to its last written decimal), every VAT factor, 1 mWh and 1 ms
 * whole. Keeping the denominator as small as the tariff allows keeps the bigints small, which keeps pricing fast.
 */
export type AmountScale = {
  readonly denominator: bigint;
  readonly decimals: number;
  /** The denominator as a double when it is below 2^53 (then exact), otherwise NaN. */
  readonly denominatorNumber: number;
};

/** Exact amount of one engine unit of a component, excluding and including VAT. */
export type LineFactors = { readonly exclVat: bigint; readonly inclVat: bigint };

/** A parsed, validated OCPI 2.2.1 tariff. Construct only through parseTariff. */
export type Tariff = {
  readonly id: string;
  readonly country_code?: string;
  readonly party_id?: string;
  readonly currency: CurrencyCode;
  readonly type?: TariffType;
  readonly tariff_alt_text?: readonly DisplayText[];
  readonly tariff_alt_url?: string;
  readonly min_price?: TariffPrice;
  readonly max_price?: TariffPrice;
  readonly elements: readonly TariffElement[];
  readonly start_date_time?: string;
  readonly end_date_time?: string;
  readonly energy_mix?: JsonObject;
  readonly last_updated?: string;
  /** The tariff exactly as received (deep-frozen), unknown fields included: what a CDR embeds. */
  readonly ocpi: JsonObject;
  readonly plan: PricingPlan;
};
