/**
 * Builds invoice documents from priced sessions (the CDR's invoice lines) and credit notes from invoices. Pure:
 * numbers, times, seller and buyer come in; nothing is read from the clock or the database. Amounts are the tariff
 * engine's rounded lines, summed exactly, so an invoice's totals equal its CDRs' totals by construction.
 */
import { DateTime, IANAZone } from 'luxon';
import { assert } from '../../shared/assert.ts';
import { formatScaled } from '../../shared/decimal.ts';
import { currencyExponent, parseCurrency } from '../../shared/money.ts';
import type {
  InvoiceDocument,
  InvoiceDocumentLine,
  InvoiceKind,
  InvoiceParty,
  InvoiceSeller,
  InvoiceSessionDetails,
  VatBreakdownRow,
  VatCategory,
} from './invoice-document.ts';
import { zoneAbbreviation } from './zone-abbreviation.ts';

/** An InvoiceLine of the tariff engine as stored in cdrs.lines (bigints written as strings). */
export type StoredInvoiceLine = {
  readonly dimension: string;
  readonly unitPriceExclVat: string | null;
  readonly priceUnit: 'kWh' | 'hour' | 'session' | null;
  readonly volume: string;
  readonly volumeUnit: 'kWh' | 's' | 'session';
  readonly vatPercent: string | null;
  readonly vat: 'rate' | 'not_applicable' | 'implied';
  readonly exclVat: { readonly minor: string | number; readonly currency: string };
  readonly inclVat: { readonly minor: string | number; readonly currency: string };
};

export type SessionToInvoice = {
  readonly sessionId: string;
  readonly cdrId: string;
  readonly stationId: string;
  readonly evseUid: string;
  readonly locationName: string;
  readonly locationAddress: string;
  readonly timeZone: string;
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly meterStartWh: bigint;
  readonly meterStopWh: bigint;
  readonly energyWh: bigint;
  readonly idTag: string;
  readonly signedData: boolean;
  readonly lines: readonly StoredInvoiceLine[];
};

export type InvoiceDocumentInput = {
  readonly kind: Exclude<InvoiceKind, 'credit_note'>;
  readonly invoiceNumber: string;
  readonly issuedAt: Date;
  readonly currency: string;
  readonly seller: InvoiceSeller;
  readonly buyer: InvoiceParty;
  readonly idTag: string | null;
  readonly period: { readonly start: Date; readonly end: Date } | null;
  readonly sessions: readonly SessionToInvoice[];
  readonly note?: string | null;
};

const DESCRIPTIONS: Record<string, string> = {
  FLAT: 'Session fee',
  ENERGY: 'Energy',
  TIME: 'Charging time',
  PARKING_TIME: 'Parking time',
  RESERVATION_FLAT: 'Reservation fee',
  RESERVATION_TIME: 'Reservation time',
  MIN_PRICE: 'Minimum price adjustment',
  MAX_PRICE: 'Maximum price adjustment',
};

const LOCAL_FORMAT = 'yyyy-MM-dd HH:mm:ss ZZZZ';

export function localTime(at: Date, timeZone: string): string {
  const local = DateTime.fromJSDate(at, { zone: timeZone });
  assert(local.isValid, `invalid time zone ${timeZone}`);
  // ZZZZ of an IANA zone is its short name from Intl: taken from a kept formatter (zone-abbreviation.ts), the same
  // text. Fixed offsets ("UTC", "UTC+1") name themselves in Luxon without Intl.
  if (!(local.zone instanceof IANAZone)) return local.toFormat(LOCAL_FORMAT);
  return `${local.toFormat('yyyy-MM-dd HH:mm:ss')} ${zoneAbbreviation(at, local.zone.name, local.locale as string)}`;
}

function localDate(at: Date, timeZone: string): string {
  return DateTime.fromJSDate(at, { zone: timeZone }).toISODate() as string;
}

function minorOf(value: { readonly minor: string | number }): bigint {
  return BigInt(value.minor);
}

/** The document lines of one session, numbered from `firstLineNo` (also used by the ledger for its VAT split). */
export function sessionLines(session: SessionToInvoice, currency: string, firstLineNo: number): InvoiceDocumentLine[] {
  const rates = new Set(session.lines.filter((l) => l.vat === 'rate').map((l) => l.vatPercent as string));
  // A min/max price adjustment carries the VAT its limits imply; it belongs to the session's one rate, if it has one.
  const impliedRate = rates.size === 1 ? [...rates][0]! : null;
  return session.lines.map((line, index) => {
    assert(line.exclVat.currency === currency, `line in ${line.exclVat.currency} on a ${currency} invoice`);
    const excl = minorOf(line.exclVat);
    const incl = minorOf(line.inclVat);
    const percent = line.vat === 'rate' ? (line.vatPercent as string) : line.vat === 'implied' ? impliedRate : null;
    const category: VatCategory = percent === null ? 'O' : isZero(percent) ? 'Z' : 'S';
    const adjustment = line.unitPriceExclVat === null;
    const perHour = line.volumeUnit === 's';
    return {
      lineNo: firstLineNo + index,
      sessionId: session.sessionId,
      dimension: line.dimension,
      description: DESCRIPTIONS[line.dimension] ?? line.dimension,
      quantity: adjustment ? (excl < 0n ? '-1' : '1') : line.volume,
      unit: adjustment ? 'session' : line.volumeUnit,
      unitPriceExclVat: adjustment ? formatMinorAbs(excl, currency) : (line.unitPriceExclVat as string),
      priceBaseQuantity: perHour && !adjustment ? 3600 : 1,
      vatCategory: category,
      vatPercent: percent ?? '0',
      exclVatMinor: excl.toString(),
      vatMinor: (incl - excl).toString(),
      inclVatMinor: incl.toString(),
    };
  });
}

function isZero(decimal: string): boolean {
  return /^[+-]?0*(\.0*)?$/.test(decimal);
}

/** An amount in minor units as a major-unit decimal, without sign (a unit price is never negative in EN 16931). */
function formatMinorAbs(minor: bigint, currency: string): string {
  const parsed = parseCurrency(currency);
  assert(parsed.ok, `unknown currency ${currency}`);
  const exponent = currencyExponent(parsed.value);
  return formatScaled(minor < 0n ? -minor : minor, exponent, exponent);
}

/** VAT per category and rate, summed from the lines (EN 16931 BG-23). */
export function vatBreakdown(lines: readonly InvoiceDocumentLine[]): VatBreakdownRow[] {
  const rows = new Map<string, { category: VatCategory; percent: string; taxable: bigint; vat: bigint }>();
  for (const line of lines) {
    const key = `${line.vatCategory}|${normalizeDecimal(line.vatPercent)}`;
    const row = rows.get(key) ?? {
      category: line.vatCategory,
      percent: normalizeDecimal(line.vatPercent),
      taxable: 0n,
      vat: 0n,
    };
    row.taxable += BigInt(line.exclVatMinor);
    row.vat += BigInt(line.vatMinor);
    rows.set(key, row);
  }
  return [...rows.values()]
    .sort((a, b) => a.category.localeCompare(b.category) || Number(a.percent) - Number(b.percent))
    .map((r) => ({
      category: r.category,
      percent: r.percent,
      taxableMinor: r.taxable.toString(),
      vatMinor: r.vat.toString(),
    }));
}

/** '19.0' and '19' are the same rate. */
export function normalizeDecimal(text: string): string {
  const trimmed = (text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text).replace(
    /^(-?)0+(?=\d)/,
    '$1',
  );
  return trimmed === '' || trimmed === '-' || trimmed === '-0' ? '0' : trimmed;
}

function totalsOf(lines: readonly InvoiceDocumentLine[]) {
  let excl = 0n;
  let vat = 0n;
  for (const line of lines) {
    excl += BigInt(line.exclVatMinor);
    vat += BigInt(line.vatMinor);
  }
  return { exclVatMinor: excl.toString(), vatMinor: vat.toString(), inclVatMinor: (excl + vat).toString() };
}

function dueDate(issuedAt: Date, seller: InvoiceSeller, timeZone: string): string {
  return DateTime.fromJSDate(issuedAt, { zone: timeZone })
    .plus({ days: seller.paymentTermsDays })
    .toISODate() as string;
}

function signedDataNote(signed: boolean): string {
  return signed
    ? 'The meter signed this session\'s readings (OCMF); check them with "voltbill verify-meter" or the S.A.F.E. transparency software.'
    : 'The station did not send signed meter readings for this session.';
}

/** An invoice (one session) or a statement (a period's sessions, in the order given). */
export function buildInvoiceDocument(input: InvoiceDocumentInput): InvoiceDocument {
  assert(input.sessions.length > 0, 'an invoice bills at least one session');
  assert(input.kind !== 'invoice' || input.sessions.length === 1, 'a per-session invoice bills exactly one session');
  const lines: InvoiceDocumentLine[] = [];
  const sessions: InvoiceSessionDetails[] = [];
  for (const session of input.sessions) {
    lines.push(...sessionLines(session, input.currency, lines.length + 1));
    sessions.push({
      sessionId: session.sessionId,
      cdrId: session.cdrId,
      stationId: session.stationId,
      evseUid: session.evseUid,
      locationName: session.locationName,
      locationAddress: session.locationAddress,
      timeZone: session.timeZone,
      startLocal: localTime(session.startedAt, session.timeZone),
      endLocal: localTime(session.endedAt, session.timeZone),
      startedAt: session.startedAt.toISOString(),
      endedAt: session.endedAt.toISOString(),
      meterStartWh: session.meterStartWh.toString(),
      meterStopWh: session.meterStopWh.toString(),
      energyWh: session.energyWh.toString(),
      idTag: session.idTag,
      signedDataNote: signedDataNote(session.signedData),
    });
  }
  const last = input.sessions.reduce((a, b) => (b.endedAt > a.endedAt ? b : a));
  const zone = last.timeZone;
  const taxPoint =
    input.kind === 'statement' && input.period
      ? localDate(new Date(input.period.end.getTime() - 1), zone)
      : localDate(last.endedAt, zone);
  return {
    version: 1,
    kind: input.kind,
    invoiceNumber: input.invoiceNumber,
    issuedAt: input.issuedAt.toISOString(),
    taxPointDate: taxPoint,
    dueDate: dueDate(input.issuedAt, input.seller, zone),
    currency: input.currency,
    seller: input.seller,
    buyer: input.buyer,
    idTag: input.idTag,
    period: input.period
      ? {
          start: input.period.start.toISOString(),
          end: input.period.end.toISOString(),
          startDate: localDate(input.period.start, zone),
          endDate: localDate(new Date(input.period.end.getTime() - 1), zone),
        }
      : null,
    sessions,
    lines,
    vatBreakdown: vatBreakdown(lines),
    totals: totalsOf(lines),
    credits: null,
    note: input.note ?? null,
  };
}

const negate = (minor: string) => (-BigInt(minor)).toString();
const negateDecimal = (text: string) => (text.startsWith('-') ? text.slice(1) : isZero(text) ? text : `-${text}`);

/** A credit note that reverses an invoice exactly: the same lines with opposite signs. */
export function buildCreditNoteDocument(
  original: InvoiceDocument,
  credit: { invoiceId: string; invoiceNumber: string; issuedAt: Date; reason: string },
): InvoiceDocument {
  assert(original.kind !== 'credit_note', 'a credit note corrects an invoice, not another credit note');
  const lines = original.lines.map((line) => ({
    ...line,
    quantity: negateDecimal(line.quantity),
    exclVatMinor: negate(line.exclVatMinor),
    vatMinor: negate(line.vatMinor),
    inclVatMinor: negate(line.inclVatMinor),
  }));
  return {
    ...original,
    kind: 'credit_note',
    invoiceNumber: credit.invoiceNumber,
    issuedAt: credit.issuedAt.toISOString(),
    dueDate: DateTime.fromJSDate(credit.issuedAt, { zone: 'UTC' }).toISODate() as string,
    lines,
    vatBreakdown: vatBreakdown(lines),
    totals: totalsOf(lines),
    credits: { invoiceId: credit.invoiceId, invoiceNumber: original.invoiceNumber, issuedAt: original.issuedAt },
    note: credit.reason,
  };
}
