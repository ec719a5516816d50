/**
 * Verifies that several signed records form one charging session, as OCMF's "Signing and Verification Process"
 * requires: every record valid, all from the same source (serial number and key), a continuous pagination (no
 * record removed or added), the first record marks the begin and the last the end of the transaction, and the
 * billing register never runs backwards. The session's energy is the end reading of the last record minus the begin
 * reading of the first, exact, in Wh. One record holding both begin and end is a session of one.
 *
 * The checks work on SessionRecord, a summary both OCMF and Alfen verdicts convert to.
 */
import { compareDecimal } from './exact-decimal.ts';
import { MAX_RECORDS_PER_SESSION } from './limits.ts';
import {
  type BilledEnergy,
  checkBilledEnergy,
  decimalOf,
  type EnergyReading,
  type SignedEnergy,
  signedEnergyOf,
} from './signed-energy.ts';
import { type Reason, statusFromReasons, type VerdictStatus, type Warning } from './verdict-reason.ts';

export type SessionRecord = {
  /** How messages name the record, e.g. "record 2 (T29)". */
  readonly label: string;
  readonly status: VerdictStatus;
  readonly sourceSerial: string | null;
  readonly publicKeySpkiHex: string | null;
  /** Pagination context (T, F, or ALFEN for Alfen's paging counter) and counter as decimal text. */
  readonly pagination: { readonly context: string; readonly counter: string } | null;
  /** The user identification (OCMF ID), only compared to warn about a change. */
  readonly identification: string | null;
  /** A session identifier the meter signs (Alfen); null for OCMF. */
  readonly sessionId: string | null;
  readonly hasBegin: boolean;
  readonly hasEnd: boolean;
  readonly energyReadings: readonly EnergyReading[];
};

export type SessionVerdict = {
  readonly status: VerdictStatus;
  readonly reasons: readonly Reason[];
  readonly warnings: readonly Warning[];
  readonly recordCount: number;
  readonly sourceSerial: string | null;
  /** First and last pagination of the session in counter order, e.g. T28 and T29. */
  readonly pagination: { readonly first: string; readonly last: string } | null;
  /** Begin reading of the first record, end reading of the last, and their difference (Wh, exact). */
  readonly energyWh: SignedEnergy | null;
};

export type VerifySessionOptions = { readonly billedEnergy?: BilledEnergy };

export function verifySession(records: readonly SessionRecord[], options: VerifySessionOptions = {}): SessionVerdict {
  const reasons: Reason[] = [];
  const warnings: Warning[] = [];
  if (records.length > MAX_RECORDS_PER_SESSION) {
    reasons.push({ code: 'TooManyRecords', message: `a session of more than ${MAX_RECORDS_PER_SESSION} records` });
    return verdictOf(reasons, warnings, records, null, null);
  }
  checkRecordStatuses(records, reasons);
  checkSameSource(records, reasons, warnings);
  const ordered = orderByPagination(records, reasons);
  checkBeginAndEnd(ordered, reasons);
  const energy = checkEnergy(ordered, reasons);
  if (options.billedEnergy !== undefined) {
    const billed = checkBilledEnergy(energy, options.billedEnergy);
    if (!billed.ok) {
      reasons.push({
        code: billed.error.code === 'SignedEnergyMissing' ? 'SignedEnergyMissing' : 'BilledEnergyMismatch',
        message: billed.error.message,
      });
    }
  }
  const first = ordered[0]?.pagination;
  const last = ordered.at(-1)?.pagination;
  const pagination =
    first == null || last == null
      ? null
      : { first: `${first.context}${first.counter}`, last: `${last.context}${last.counter}` };
  return verdictOf(reasons, warnings, records, pagination, energy);
}

function verdictOf(
  reasons: Reason[],
  warnings: Warning[],
  records: readonly SessionRecord[],
  pagination: SessionVerdict['pagination'],
  energyWh: SignedEnergy | null,
): SessionVerdict {
  if (records.length === 0) reasons.push({ code: 'TransactionBeginMissing', message: 'no records' });
  return {
    status: statusFromReasons(reasons),
    reasons,
    warnings,
    recordCount: records.length,
    sourceSerial: records.find((record) => record.sourceSerial !== null)?.sourceSerial ?? null,
    pagination,
    energyWh,
  };
}

function checkRecordStatuses(records: readonly SessionRecord[], reasons: Reason[]): void {
  for (const record of records) {
    if (record.status === 'invalid') reasons.push({ code: 'RecordInvalid', message: `${record.label} is not valid` });
    if (record.status === 'unverifiable') {
      reasons.push({ code: 'RecordUnverifiable', message: `${record.label} could not be verified` });
    }
  }
}

function checkSameSource(records: readonly SessionRecord[], reasons: Reason[], warnings: Warning[]): void {
  const distinct = (pick: (record: SessionRecord) => string | null): string[] => [
    ...new Set(records.map(pick).filter((value): value is string => value !== null)),
  ];
  const serials = distinct((record) => record.sourceSerial);
  if (serials.length > 1) {
    reasons.push({
      code: 'MeterSerialChanged',
      message: `the records come from different meters: ${serials.join(', ')}`,
    });
  }
  if (distinct((record) => record.publicKeySpkiHex).length > 1) {
    reasons.push({ code: 'PublicKeyChanged', message: 'the records are signed with different public keys' });
  }
  const sessions = distinct((record) => record.sessionId);
  if (sessions.length > 1) {
    reasons.push({
      code: 'SessionIdChanged',
      message: `the records belong to different sessions: ${sessions.join(', ')}`,
    });
  }
  const identifications = distinct((record) => record.identification);
  if (identifications.length > 1) {
    warnings.push({
      code: 'IdentificationChanged',
      message: `the user identification differs between records: ${identifications.join(', ')}`,
    });
  }
}

/** Records in pagination order; the counters must be one context, without duplicates and without gaps. */
function orderByPagination(records: readonly SessionRecord[], reasons: Reason[]): readonly SessionRecord[] {
  if (records.some((record) => record.pagination === null)) return records;
  const contexts = new Set(records.map((record) => record.pagination!.context));
  if (contexts.size > 1) {
    reasons.push({
      code: 'PaginationContextMixed',
      message: `pagination contexts ${[...contexts].join(', ')} are mixed`,
    });
    return records;
  }
  const ordered = [...records].sort((a, b) => {
    const difference = BigInt(a.pagination!.counter) - BigInt(b.pagination!.counter);
    return difference < 0n ? -1 : difference > 0n ? 1 : 0;
  });
  for (let index = 1; index < ordered.length; index++) {
    const previous = ordered[index - 1]!;
    const current = ordered[index]!;
    const step = BigInt(current.pagination!.counter) - BigInt(previous.pagination!.counter);
    if (step === 0n) {
      reasons.push({
        code: 'PaginationDuplicate',
        message: `${previous.label} and ${current.label} have the same pagination ${current.pagination!.context}${current.pagination!.counter}`,
      });
    } else if (step > 1n) {
      reasons.push({
        code: 'PaginationGap',
        message: `${step - 1n} record(s) missing between ${previous.label} and ${current.label}`,
      });
    }
  }
  return ordered;
}

function checkBeginAndEnd(ordered: readonly SessionRecord[], reasons: Reason[]): void {
  const first = ordered[0];
  const last = ordered.at(-1);
  if (first !== undefined && !first.hasBegin) {
    reasons.push({
      code: 'TransactionBeginMissing',
      message: `the first record, ${first.label}, does not begin the transaction`,
    });
  }
  if (last !== undefined && !last.hasEnd) {
    reasons.push({
      code: 'TransactionEndMissing',
      message: `the last record, ${last.label}, does not end the transaction`,
    });
  }
  ordered.forEach((record, index) => {
    if (index > 0 && record.hasBegin) {
      reasons.push({
        code: 'ReadingsOutOfOrder',
        message: `${record.label} begins a transaction after ${first?.label}`,
      });
    }
    if (index < ordered.length - 1 && record.hasEnd) {
      reasons.push({
        code: 'ReadingsOutOfOrder',
        message: `${record.label} ends the transaction before ${last?.label}`,
      });
    }
  });
}

function checkEnergy(ordered: readonly SessionRecord[], reasons: Reason[]): SignedEnergy | null {
  const first = ordered[0];
  const last = ordered.at(-1);
  if (first === undefined || last === undefined) return null;
  const beginReading = first.energyReadings.find((reading) => reading.kind === 'begin');
  if (beginReading === undefined) return null;
  const register = beginReading.registerId;
  const endReading = last.energyReadings.findLast(
    (reading) => reading.kind === 'end' && reading.registerId === register,
  );
  if (endReading === undefined) {
    if (last.energyReadings.some((reading) => reading.kind === 'end')) {
      reasons.push({
        code: 'RegisterMismatch',
        message: `the session begins on register ${register ?? '(unnamed)'} but ${last.label} ends another register`,
      });
    }
    return null;
  }
  const readings = ordered.flatMap((record) =>
    record.energyReadings.filter((reading) => reading.registerId === register),
  );
  for (let index = 1; index < readings.length; index++) {
    const previous = readings[index - 1]!;
    const current = readings[index]!;
    if (compareDecimal(decimalOf(current.valueWh), decimalOf(previous.valueWh)) < 0) {
      reasons.push({
        code: 'MeterRunningBackwards',
        message: `${current.label} (${current.valueWh} Wh) is below ${previous.label} (${previous.valueWh} Wh)`,
      });
    }
  }
  const [beginTime, endTime] = [beginReading.time, endReading.time];
  if (
    beginTime !== undefined &&
    endTime !== undefined &&
    beginTime.status !== 'U' &&
    endTime.status !== 'U' &&
    endTime.epochMs < beginTime.epochMs
  ) {
    reasons.push({
      code: 'TimeGoesBackwards',
      message: `the end (${endReading.label}) is earlier than the begin (${beginReading.label})`,
    });
  }
  return signedEnergyOf([beginReading, endReading]);
}
