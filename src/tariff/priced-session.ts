/**
 * What priceSession returns: the priced periods, the OCPI 2.2.1 CDR pricing fields, and the invoice lines rounded
 * to the currency's minor unit with their exact unrounded amounts.
 */
import type { RoundingMode } from '../shared/decimal.ts';
import type { CurrencyCode, Money } from '../shared/money.ts';
import type { CdrDimensionType } from './pricing-input.ts';
import type { JsonObject } from './read-json.ts';

/**
 * One period as priced. Volumes are measured (as recorded) and billed (after step_size, which only ever adds to
 * the last period of a dimension). An element index is the tariff element that priced that dimension, or null
 * when no element applies (free) or the period has none of it.
 */
export type PricedPeriod = {
  /** Epoch ms; the period lasts until endMs (exclusive). */
  readonly startMs: number;
  readonly endMs: number;
  /** A reservation period (CDR RESERVATION_TIME), priced by reservation elements only. */
  readonly reservation: boolean;
  readonly energyMilliWh: number;
  readonly billedEnergyMilliWh: number;
  readonly energyElementIndex: number | null;
  readonly timeMs: number;
  readonly billedTimeMs: number;
  readonly timeElementIndex: number | null;
  readonly parkingTimeMs: number;
  readonly billedParkingTimeMs: number;
  readonly parkingTimeElementIndex: number | null;
  readonly reservationTimeMs: number;
  readonly billedReservationTimeMs: number;
  readonly reservationTimeElementIndex: number | null;
  /** The FLAT component active in this period (charged once per session per distinct component). */
  readonly flatElementIndex: number | null;
};

/**
 * Invoice line kinds: the four OCPI dimensions, reservation fees and time (OCPI total_reservation_cost), and the
 * adjustment lines that bring the session total to min_price or max_price.
 */
export type InvoiceLineDimension =
  | 'FLAT'
  | 'ENERGY'
  | 'TIME'
  | 'PARKING_TIME'
  | 'RESERVATION_FLAT'
  | 'RESERVATION_TIME'
  | 'MIN_PRICE'
  | 'MAX_PRICE';

/**
 * How VAT applies to a line: a percentage ('rate', possibly 0 %), no VAT applicable ('not_applicable': the
 * component had no vat; incl = excl and the line is outside VAT scope), or 'implied' for MIN_PRICE/MAX_PRICE
 * adjustments, whose VAT is the difference of the tariff's limits including and excluding VAT.
 */
export type LineVat = 'rate' | 'not_applicable' | 'implied';

/** One priced line: one per dimension x tariff element x VAT rate, plus price-limit adjustments. */
export type InvoiceLine = {
  readonly dimension: InvoiceLineDimension;
  /** Index into tariff.elements; null for adjustment lines. */
  readonly elementIndex: number | null;
  /** Unit price excluding VAT as an exact decimal, per priceUnit; null for adjustment lines. */
  readonly unitPriceExclVat: string | null;
  readonly priceUnit: 'kWh' | 'hour' | 'session' | null;
  /** Billed volume (after step_size) and measured volume, exact decimals in volumeUnit. */
  readonly volume: string;
  readonly measuredVolume: string;
  readonly volumeUnit: 'kWh' | 's' | 'session';
  /** VAT percentage as an exact decimal when vat is 'rate'; null otherwise. */
  readonly vatPercent: string | null;
  readonly vat: LineVat;
  /** Unrounded amounts: exact decimals, or 20 decimal places when the exact value has no finite expansion. */
  readonly unroundedExclVat: string;
  readonly unroundedInclVat: string;
  /** Rounded once to the currency's minor unit with the session's rounding mode. */
  readonly exclVat: Money;
  readonly inclVat: Money;
};

export type OcpiPrice = { readonly excl_vat: number; readonly incl_vat: number };
export type OcpiCdrDimension = { readonly type: CdrDimensionType; readonly volume: number };
export type OcpiChargingPeriod = {
  readonly start_date_time: string;
  readonly dimensions: readonly OcpiCdrDimension[];
  readonly tariff_id?: string;
};

/**
 * The OCPI 2.2.1 CDR fields that pricing determines. Money totals are the exact unrounded amounts as the nearest
 * JSON number (the exact decimal whenever it has at most 15 significant digits); sub-totals per dimension exclude the
 * min/max price adjustment, total_cost includes it. total_time is the session's duration in hours,
 * total_parking_time the measured PARKING_TIME, total_energy the measured ENERGY in kWh.
 */
export type OcpiPricedCdr = {
  readonly start_date_time: string;
  readonly end_date_time: string;
  readonly currency: string;
  readonly tariffs: readonly JsonObject[];
  readonly charging_periods: readonly OcpiChargingPeriod[];
  readonly total_cost: OcpiPrice;
  readonly total_fixed_cost: OcpiPrice;
  readonly total_energy: number;
  readonly total_energy_cost: OcpiPrice;
  readonly total_time: number;
  readonly total_time_cost: OcpiPrice;
  readonly total_parking_time: number;
  readonly total_parking_cost: OcpiPrice;
  readonly total_reservation_cost: OcpiPrice;
};

export type PricedSession = {
  readonly currency: CurrencyCode;
  readonly rounding: RoundingMode;
  readonly periods: readonly PricedPeriod[];
  readonly ocpi: OcpiPricedCdr;
  readonly lines: readonly InvoiceLine[];
  /** Sums of the rounded lines: what the driver pays. */
  readonly totals: { readonly exclVat: Money; readonly inclVat: Money };
  /** The unrounded session total after min/max price (exact, or to 20 decimals; see InvoiceLine). */
  readonly unroundedTotals: { readonly exclVat: string; readonly inclVat: string };
  /** Things a person should look at; the price is still right. Each starts with a snake_case code. */
  readonly warnings: readonly string[];
};
