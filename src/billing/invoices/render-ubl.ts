/**
 * The invoice as an EN 16931 e-invoice in UBL 2.1 syntax (Invoice or CreditNote), for business customers. Every
 * mandatory business term is written (BT-1, 2, 3, 5, 24, 27, 40, 44, 55, 106, 109, 110, 112, 115, 116, 117, 118,
 * 126, 129, 130, 131, 146, 151, 153), elements in the order the UBL 2.1 schema requires. Built only from the stored
 * document. Credit notes are written with positive amounts, as a UBL CreditNote expects.
 */
import { formatMinor } from './format-invoice-values.ts';
import type { InvoiceDocument, InvoiceDocumentLine, InvoiceParty, VatCategory } from './invoice-document.ts';

export const EN16931_CUSTOMIZATION_ID = 'urn:cen.eu:en16931:2017';
const PEPPOL_PROFILE_ID = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0';

/** UN/ECE Recommendation 20 unit codes. */
const UNIT_CODES = { kWh: 'KWH', s: 'SEC', session: 'C62' } as const;

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

type Node = string;
const el = (name: string, content: string | Node[], attributes: Record<string, string> = {}): Node => {
  const attrs = Object.entries(attributes)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const body = Array.isArray(content) ? content.filter(Boolean).join('') : escapeXml(content);
  return `<${name}${attrs}>${body}</${name}>`;
};

function negateDecimal(text: string): string {
  if (text.startsWith('-')) return text.slice(1);
  return /^0*(\.0*)?$/.test(text) ? text : `-${text}`;
}

function party(p: InvoiceParty): Node {
  return el('cac:Party', [
    el('cac:PostalAddress', [
      p.street ? el('cbc:StreetName', p.street) : '',
      p.city ? el('cbc:CityName', p.city) : '',
      p.postalCode ? el('cbc:PostalZone', p.postalCode) : '',
      el('cac:Country', [el('cbc:IdentificationCode', p.countryCode)]),
    ]),
    p.vatId ? el('cac:PartyTaxScheme', [el('cbc:CompanyID', p.vatId), el('cac:TaxScheme', [el('cbc:ID', 'VAT')])]) : '',
    el('cac:PartyLegalEntity', [el('cbc:RegistrationName', p.name)]),
    p.email ? el('cac:Contact', [el('cbc:ElectronicMail', p.email)]) : '',
  ]);
}

function taxCategory(name: string, category: VatCategory, percent: string, withReason: boolean): Node {
  return el(name, [
    el('cbc:ID', category),
    // Category O (outside the scope of VAT) carries no rate (BR-O-05) and, in the breakdown, a reason (BR-O-10).
    category === 'O' ? '' : el('cbc:Percent', percent),
    category === 'O' && withReason ? el('cbc:TaxExemptionReason', 'Not subject to VAT') : '',
    el('cac:TaxScheme', [el('cbc:ID', 'VAT')]),
  ]);
}

/** UBL 2.1 XML of an invoice, statement (both as Invoice, type 380) or credit note (CreditNote, type 381). */
export function renderInvoiceUbl(doc: InvoiceDocument): string {
  const credit = doc.kind === 'credit_note';
  const cur = doc.currency;
  // A CreditNote states what is credited with positive amounts; our stored credit note has negative ones.
  const sign = (minor: string) => (credit ? (-BigInt(minor)).toString() : minor);
  const amount = (name: string, minor: string) => el(name, formatMinor(sign(minor), cur), { currencyID: cur });
  const root = credit ? 'CreditNote' : 'Invoice';
  const namespace = credit
    ? 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2'
    : 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2';

  const line = (l: InvoiceDocumentLine): Node =>
    el(credit ? 'cac:CreditNoteLine' : 'cac:InvoiceLine', [
      el('cbc:ID', String(l.lineNo)),
      el(credit ? 'cbc:CreditedQuantity' : 'cbc:InvoicedQuantity', credit ? negateDecimal(l.quantity) : l.quantity, {
        unitCode: UNIT_CODES[l.unit],
      }),
      amount('cbc:LineExtensionAmount', l.exclVatMinor),
      el('cac:Item', [
        el('cbc:Description', `Charging session ${l.sessionId}`),
        el('cbc:Name', l.description),
        taxCategory('cac:ClassifiedTaxCategory', l.vatCategory, l.vatPercent, false),
      ]),
      el('cac:Price', [
        el('cbc:PriceAmount', l.unitPriceExclVat, { currencyID: cur }),
        l.priceBaseQuantity !== 1
          ? el('cbc:BaseQuantity', String(l.priceBaseQuantity), { unitCode: UNIT_CODES[l.unit] })
          : '',
      ]),
    ]);

  const body = [
    el('cbc:CustomizationID', EN16931_CUSTOMIZATION_ID),
    el('cbc:ProfileID', PEPPOL_PROFILE_ID),
    el('cbc:ID', doc.invoiceNumber),
    el('cbc:IssueDate', doc.issuedAt.slice(0, 10)),
    credit ? '' : el('cbc:DueDate', doc.dueDate),
    el(credit ? 'cbc:CreditNoteTypeCode' : 'cbc:InvoiceTypeCode', credit ? '381' : '380'),
    doc.note ? el('cbc:Note', doc.note) : '',
    el('cbc:TaxPointDate', doc.taxPointDate),
    el('cbc:DocumentCurrencyCode', cur),
    el('cbc:BuyerReference', doc.idTag ?? doc.invoiceNumber),
    doc.period
      ? el('cac:InvoicePeriod', [el('cbc:StartDate', doc.period.startDate), el('cbc:EndDate', doc.period.endDate)])
      : '',
    doc.credits
      ? el('cac:BillingReference', [
          el('cac:InvoiceDocumentReference', [
            el('cbc:ID', doc.credits.invoiceNumber),
            el('cbc:IssueDate', doc.credits.issuedAt.slice(0, 10)),
          ]),
        ])
      : '',
    el('cac:AccountingSupplierParty', [party(doc.seller)]),
    el('cac:AccountingCustomerParty', [party(doc.buyer)]),
    doc.seller.iban && !credit
      ? el('cac:PaymentMeans', [
          el('cbc:PaymentMeansCode', '58'),
          el('cbc:PaymentID', doc.invoiceNumber),
          el('cac:PayeeFinancialAccount', [el('cbc:ID', doc.seller.iban)]),
        ])
      : '',
    el('cac:TaxTotal', [
      amount('cbc:TaxAmount', doc.totals.vatMinor),
      ...doc.vatBreakdown.map((row) =>
        el('cac:TaxSubtotal', [
          amount('cbc:TaxableAmount', row.taxableMinor),
          amount('cbc:TaxAmount', row.vatMinor),
          taxCategory('cac:TaxCategory', row.category, row.percent, true),
        ]),
      ),
    ]),
    el('cac:LegalMonetaryTotal', [
      amount('cbc:LineExtensionAmount', doc.totals.exclVatMinor),
      amount('cbc:TaxExclusiveAmount', doc.totals.exclVatMinor),
      amount('cbc:TaxInclusiveAmount', doc.totals.inclVatMinor),
      amount('cbc:PayableAmount', doc.totals.inclVatMinor),
    ]),
    ...doc.lines.map(line),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el(root, body, {
    xmlns: namespace,
    'xmlns:cac': 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
    'xmlns:cbc': 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
  })}\n`;
}
