/**
 * The energy a set of signed readings proves: the end reading minus the begin reading of one energy register,
 * computed exactly. Readings in kWh and Wh are converted to Wh by moving the decimal point (kWh to Wh is a shift by
 * three places), never through a float, and energy leaves this module as decimal text in Wh ("259.6").
 */
import { err, ok, type Result } from '../../shared/result.ts';
import {
  compareDecimal,
  type ExactDecimal,
  formatDecimal,
  parseExactDecimal,
  shift,
  subtractDecimal,
} from './exact-decimal.ts';
import { type OcmfReading, type OcmfTimeStatus, TRANSACTION_END_TYPES } from './ocmf-document.ts';

/** Power of ten that converts a reading in this unit to Wh. */
export const ENERGY_UNIT_POWER: Readonly<Record<string, number>> = { Wh: 0, kWh: 3 };

export type EnergyReadingKind = 'begin' | 'end' | 'other';

/** One reading of an energy register, in Wh, in the order the records state them. */
export type EnergyReading = {
  readonly registerId: string | null;
  readonly kind: EnergyReadingKind;
  /** Exact decimal text in Wh. */
  readonly valueWh: string;
  readonly time: { readonly epochMs: number; readonly status: OcmfTimeStatus | undefined } | undefined;
  /** Where the reading is, for messages: "reading 2" or "record T29 reading 0". */
  readonly label: string;
};

export type SignedEnergy = {
  /** The register (OBIS code, RI) the energy was measured on; null when the meter names none. */
  readonly registerId: string | null;
  /** Exact decimal text in Wh. */
  readonly begin: string;
  readonly end: string;
  /** end − begin, exact decimal text in Wh. */
  readonly delta: string;
};

/** The value of an energy reading in Wh, or undefined for readings of other quantities or without a value. */
export function readingValueWh(reading: Pick<OcmfReading, 'RV' | 'RU'>): ExactDecimal | undefined {
  const power = reading.RU === undefined ? undefined : ENERGY_UNIT_POWER[reading.RU];
  if (power === undefined || reading.RV === undefined) return undefined;
  const value = parseExactDecimal(reading.RV);
  return value === undefined ? undefined : shift(value, power);
}

export function energyKindOf(reading: Pick<OcmfReading, 'TX'>): EnergyReadingKind {
  if (reading.TX === 'B') return 'begin';
  return reading.TX !== undefined && TRANSACTION_END_TYPES.has(reading.TX) ? 'end' : 'other';
}

/** The energy readings of one OCMF record, in RD order. */
export function energyReadingsOf(readings: readonly OcmfReading[], labelPrefix = ''): EnergyReading[] {
  const result: EnergyReading[] = [];
  for (const reading of readings) {
    const value = readingValueWh(reading);
    if (value === undefined) continue;
    result.push({
      registerId: reading.RI ?? null,
      kind: energyKindOf(reading),
      valueWh: formatDecimal(value),
      time: reading.TM === undefined ? undefined : { epochMs: reading.TM.epochMs, status: reading.TM.status },
      label: `${labelPrefix}reading ${reading.index}`,
    });
  }
  return result;
}

/**
 * The billing register is the one the first energy reading names (meters list the import register first); its
 * first begin reading and its last end reading give the signed energy. Null when either is missing.
 */
export function signedEnergyOf(readings: readonly EnergyReading[]): SignedEnergy | null {
  const registerId = readings[0]?.registerId;
  if (registerId === undefined) return null;
  const register = readings.filter((reading) => reading.registerId === registerId);
  const begin = register.find((reading) => reading.kind === 'begin');
  const end = register.findLast((reading) => reading.kind === 'end');
  if (begin === undefined || end === undefined) return null;
  const delta = subtractDecimal(decimalOf(end.valueWh), decimalOf(begin.valueWh));
  return { registerId, begin: begin.valueWh, end: end.valueWh, delta: formatDecimal(delta) };
}

export function decimalOf(text: string): ExactDecimal {
  const value = parseExactDecimal(text);
  if (value === undefined) throw new Error(`not a decimal: ${text}`);
  return value;
}

/** Billed energy: exact milliwatt-hours (as MeterSample holds it) or a decimal text in Wh. */
export type BilledEnergy = { readonly milliWh: bigint } | { readonly wh: string };

export type BilledEnergyProblem = {
  readonly code: 'SignedEnergyMissing' | 'BilledEnergyMismatch' | 'BilledEnergyMalformed';
  readonly message: string;
};

/**
 * Compares the signed energy with the billed energy exactly: both become exact decimals in Wh (milli-Wh are a shift
 * by three places) and must be equal to the last digit. Returns the signed delta in Wh on a match.
 */
export function checkBilledEnergy(
  energy: SignedEnergy | null,
  billed: BilledEnergy,
): Result<string, BilledEnergyProblem> {
  const billedWh = 'milliWh' in billed ? { units: billed.milliWh, scale: 3 } : parseExactDecimal(billed.wh.trim());
  if (billedWh === undefined) {
    return err({
      code: 'BilledEnergyMalformed',
      message: `billed energy '${(billed as { wh: string }).wh}' is not a decimal`,
    });
  }
  if (energy === null) {
    return err({ code: 'SignedEnergyMissing', message: 'the signed data has no begin and end reading to bill from' });
  }
  if (compareDecimal(decimalOf(energy.delta), billedWh) !== 0) {
    return err({
      code: 'BilledEnergyMismatch',
      message: `billed ${formatDecimal(billedWh)} Wh but the meter signed ${energy.delta} Wh (${energy.end} − ${energy.begin})`,
    });
  }
  return ok(energy.delta);
}
