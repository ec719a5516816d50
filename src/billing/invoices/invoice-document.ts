/**
 * The invoice document as issued and stored (invoices.document): everything a rendering needs, frozen at issue
 * time. Money is integer minor units written as decimal strings (JSON has no bigint); quantities and prices are
 * exact decimal strings. Credit notes carry negative amounts, so that summing documents nets out.
 */
export type InvoiceKind = 'invoice' | 'statement' | 'credit_note';

export type InvoiceParty = {
  readonly name: string;
  readonly street: string | null;
  readonly city: string | null;
  readonly postalCode: string | null;
  /** ISO 3166-1 alpha-2. */
  readonly countryCode: string;
  readonly vatId: string | null;
  readonly email?: string | null;
};

export type InvoiceSeller = InvoiceParty & { readonly iban: string | null; readonly paymentTermsDays: number };

/** EN 16931 VAT category codes used here: S standard/reduced rate, Z zero rate, O outside the scope of VAT. */
export type VatCategory = 'S' | 'Z' | 'O';

export type InvoiceSessionDetails = {
  readonly sessionId: string;
  readonly cdrId: string;
  readonly stationId: string;
  readonly evseUid: string;
  readonly locationName: string;
  readonly locationAddress: string;
  readonly timeZone: string;
  /** Local wall-clock time at the station, e.g. '2026-11-21 11:00:00 CET'. */
  readonly startLocal: string;
  readonly endLocal: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly meterStartWh: string;
  readonly meterStopWh: string;
  readonly energyWh: string;
  readonly idTag: string;
  readonly signedDataNote: string;
};

export type InvoiceDocumentLine = {
  readonly lineNo: number;
  readonly sessionId: string;
  readonly dimension: string;
  readonly description: string;
  /** Billed quantity (exact decimal) in `unit`; negative on credit notes and for a price cap reduction. */
  readonly quantity: string;
  /** 'kWh', 's' (priced per hour, see priceBaseQuantity) or 'session'. */
  readonly unit: 'kWh' | 's' | 'session';
  /** Price per priceBaseQuantity units excluding VAT, exact decimal; the adjustment's amount for adjustments. */
  readonly unitPriceExclVat: string;
  /** Units the unit price is for: 1, or 3600 for time priced per hour. */
  readonly priceBaseQuantity: number;
  readonly vatCategory: VatCategory;
  /** VAT rate percent as an exact decimal; '0' for categories Z and O. */
  readonly vatPercent: string;
  readonly exclVatMinor: string;
  readonly vatMinor: string;
  readonly inclVatMinor: string;
};

export type VatBreakdownRow = {
  readonly category: VatCategory;
  readonly percent: string;
  readonly taxableMinor: string;
  readonly vatMinor: string;
};

export type InvoiceDocument = {
  readonly version: 1;
  readonly kind: InvoiceKind;
  readonly invoiceNumber: string;
  readonly issuedAt: string;
  /** Tax point (date of supply), YYYY-MM-DD in the station's calendar. */
  readonly taxPointDate: string;
  readonly dueDate: string;
  readonly currency: string;
  readonly seller: InvoiceSeller;
  readonly buyer: InvoiceParty;
  readonly idTag: string | null;
  /** A statement's period: instants (end exclusive) and the first and last local dates it covers. */
  readonly period: {
    readonly start: string;
    readonly end: string;
    readonly startDate: string;
    readonly endDate: string;
  } | null;
  readonly sessions: readonly InvoiceSessionDetails[];
  readonly lines: readonly InvoiceDocumentLine[];
  readonly vatBreakdown: readonly VatBreakdownRow[];
  readonly totals: { readonly exclVatMinor: string; readonly vatMinor: string; readonly inclVatMinor: string };
  /** On a credit note: the invoice it corrects. */
  readonly credits: { readonly invoiceId: string; readonly invoiceNumber: string; readonly issuedAt: string } | null;
  readonly note: string | null;
};
