/**
 * Consistency checks on one OCMF record, independent of its signature: a well-formed pagination, a serial number
 * that identifies the source, no error flags and a good meter state on every reading, and per register: begin
 * before end, a value that never decreases and a time that never goes back. The signed energy is end − begin when
 * the record holds both (OCMF's "MR" form); a record with only a begin or only an end reading ("SR" form) has none
 * on its own.
 */
import { compareDecimal, type ExactDecimal } from './exact-decimal.ts';
import type { OcmfDocument, OcmfReading } from './ocmf-document.ts';
import {
  decimalOf,
  energyKindOf,
  energyReadingsOf,
  readingValueWh,
  type SignedEnergy,
  signedEnergyOf,
} from './signed-energy.ts';
import type { Reason, Warning } from './verdict-reason.ts';

export const PAGINATION_PATTERN = /^([TF])(0|[1-9]\d*)$/;

export type Pagination = { readonly context: 'T' | 'F'; readonly counter: string };

export type RecordCheck = {
  readonly reasons: Reason[];
  readonly warnings: Warning[];
  readonly pagination: Pagination | null;
  /** MS, or GS when the meter serial is absent (the gateway then identifies the signing source). */
  readonly sourceSerial: string | null;
  readonly energyWh: SignedEnergy | null;
};

export function checkRecord(doc: OcmfDocument): RecordCheck {
  const reasons: Reason[] = [];
  const warnings: Warning[] = [];
  const pagination = checkPagination(doc.header.PG, reasons);
  const sourceSerial = checkSerial(doc, reasons, warnings);
  checkReadingStates(doc.readings, reasons, warnings);
  checkOrder(doc.readings, reasons);
  const energy = energyReadingsOf(doc.readings);
  for (const reading of energy) {
    if (decimalOf(reading.valueWh).units < 0n) {
      reasons.push({ code: 'ReadingValueNegative', message: `${reading.label} is a negative energy register value` });
    }
  }
  return { reasons, warnings, pagination, sourceSerial, energyWh: signedEnergyOf(energy) };
}

export function parsePagination(PG: string): Pagination | null {
  const match = PAGINATION_PATTERN.exec(PG);
  return match === null ? null : { context: match[1] as 'T' | 'F', counter: match[2] as string };
}

function checkPagination(PG: string | undefined, reasons: Reason[]): Pagination | null {
  if (PG === undefined) {
    reasons.push({ code: 'PaginationMissing', message: 'the record has no pagination (PG)' });
    return null;
  }
  const pagination = parsePagination(PG);
  if (pagination === null) {
    reasons.push({
      code: 'PaginationMalformed',
      message: `pagination '${PG}' is not T or F followed by a counter without leading zeros`,
    });
  }
  return pagination;
}

function checkSerial(doc: OcmfDocument, reasons: Reason[], warnings: Warning[]): string | null {
  const { MS, GS } = doc.header;
  if (MS !== undefined && MS !== '') return MS;
  if (GS !== undefined && GS !== '') {
    warnings.push({
      code: 'MeterSerialMissing',
      message: `no meter serial (MS); the gateway serial ${GS} identifies the source`,
    });
    return GS;
  }
  reasons.push({
    code: 'SerialNumberMissing',
    message: 'neither a meter serial (MS) nor a gateway serial (GS) is given',
  });
  return null;
}

function checkReadingStates(readings: readonly OcmfReading[], reasons: Reason[], warnings: Warning[]): void {
  const flagged = readings.filter((reading) => reading.EF !== undefined && reading.EF !== '');
  if (flagged.length > 0) {
    reasons.push({
      code: 'MeterErrorFlagged',
      message: `error flags on ${listReadings(flagged, (r) => `EF '${r.EF}'`)}: those quantities are not billable`,
    });
  }
  const notOk = readings.filter((reading) => reading.ST !== undefined && reading.ST !== 'G');
  if (notOk.length > 0) {
    reasons.push({
      code: 'MeterStatusNotOk',
      message: `meter state not G (good) on ${listReadings(notOk, (r) => `ST '${r.ST}'`)}`,
    });
  }
  const exceptions = readings.filter((reading) => reading.TX === 'X' && !reading.inherited.includes('TX'));
  if (exceptions.length > 0) {
    warnings.push({
      code: 'TransactionException',
      message: `exception (TX X) on ${listReadings(exceptions, () => '')}; the error flags (EF) say what became unusable`,
    });
  }
  if (readings.some((reading) => reading.TM?.status === 'U')) {
    warnings.push({ code: 'TimeNotSynchronized', message: 'the meter clock was not synchronised (time state U)' });
  }
}

/** Per register: one begin, nothing after its end, a value that never decreases, a time that never goes back. */
function checkOrder(readings: readonly OcmfReading[], reasons: Reason[]): void {
  const begun = new Set<string>();
  const ended = new Set<string>();
  const lastWh = new Map<string, { value: ExactDecimal; reading: OcmfReading }>();
  const lastTimed = new Map<string, OcmfReading>();
  for (const reading of readings) {
    const register = reading.RI ?? '(unnamed)';
    const kind = energyKindOf(reading);
    if (kind === 'begin') {
      if (begun.has(register)) {
        reasons.push({
          code: 'TransactionBeginRepeated',
          message: `reading ${reading.index} begins register ${register} again`,
        });
      }
      begun.add(register);
    }
    if (kind !== 'end' && reading.TX !== undefined && ended.has(register)) {
      reasons.push({
        code: 'ReadingsOutOfOrder',
        message: `reading ${reading.index} (TX ${reading.TX}) follows the end of register ${register}`,
      });
    }
    if (kind === 'end') ended.add(register);
    const valueWh = readingValueWh(reading);
    if (valueWh !== undefined) {
      const previous = lastWh.get(register);
      if (previous !== undefined && compareDecimal(valueWh, previous.value) < 0) {
        reasons.push({
          code: 'MeterRunningBackwards',
          message: `reading ${reading.index} of register ${register} (${reading.RV} ${reading.RU}) is below reading ${previous.reading.index} (${previous.reading.RV} ${previous.reading.RU})`,
        });
      }
      lastWh.set(register, { value: valueWh, reading });
    }
    // Registers are listed one after the other (import begin and end, then export begin and end), so time is
    // compared per register; an unsynchronised clock (U) may jump and is not compared.
    if (reading.TM !== undefined && reading.TM.status !== 'U') {
      const previous = lastTimed.get(register);
      if (previous?.TM !== undefined && reading.TM.epochMs < previous.TM.epochMs) {
        reasons.push({
          code: 'TimeGoesBackwards',
          message: `reading ${reading.index} (${reading.TM.text}) is earlier than reading ${previous.index} (${previous.TM.text}) of register ${register}`,
        });
      }
      lastTimed.set(register, reading);
    }
  }
}

function listReadings(readings: readonly OcmfReading[], detail: (reading: OcmfReading) => string): string {
  return readings
    .map((reading) => `reading ${reading.index}${detail(reading) === '' ? '' : ` (${detail(reading)})`}`)
    .join(', ');
}
