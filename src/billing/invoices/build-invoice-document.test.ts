import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildCreditNoteDocument,
  buildInvoiceDocument,
  normalizeDecimal,
  type SessionToInvoice,
  type StoredInvoiceLine,
} from './build-invoice-document.ts';

const seller = {
  name: 'Seller GmbH',
  street: 'Street 1',
  city: 'Berlin',
  postalCode: '10115',
  countryCode: 'DE',
  vatId: 'DE123456789',
  iban: null,
  paymentTermsDays: 14,
};
const buyer = { name: 'Buyer', street: null, city: null, postalCode: null, countryCode: 'DE', vatId: null };

const line = (
  dimension: string,
  excl: number,
  incl: number,
  vatPercent: string | null,
  vat: StoredInvoiceLine['vat'] = 'rate',
): StoredInvoiceLine => ({
  dimension,
  unitPriceExclVat: vat === 'implied' ? null : '0.49',
  priceUnit: vat === 'implied' ? null : 'kWh',
  volume: '10',
  volumeUnit: 'kWh',
  vatPercent,
  vat,
  exclVat: { minor: String(excl), currency: 'EUR' },
  inclVat: { minor: String(incl), currency: 'EUR' },
});

const session = (lines: StoredInvoiceLine[]): SessionToInvoice => ({
  sessionId: '00000000-0000-4000-8000-000000000001',
  cdrId: '00000000-0000-4000-8000-000000000001',
  stationId: 'S1',
  evseUid: 'DE*VBL*E1*1',
  locationName: 'Park',
  locationAddress: 'Street 1, 10115 Berlin, DEU',
  timeZone: 'Europe/Berlin',
  startedAt: new Date('2026-03-29T00:30:00Z'),
  endedAt: new Date('2026-03-29T01:30:00Z'),
  meterStartWh: 0n,
  meterStopWh: 10_000n,
  energyWh: 10_000n,
  idTag: 'CARD1',
  signedData: false,
  lines,
});

const build = (lines: StoredInvoiceLine[]) =>
  buildInvoiceDocument({
    kind: 'invoice',
    invoiceNumber: 'INV-00000001',
    issuedAt: new Date('2026-03-29T02:00:00Z'),
    currency: 'EUR',
    seller,
    buyer,
    idTag: 'CARD1',
    period: null,
    sessions: [session(lines)],
  });

describe('buildInvoiceDocument', () => {
  it('splits VAT per rate and category, local times across the DST change', () => {
    const doc = build([
      line('ENERGY', 490, 583, '19.0'),
      line('TIME', 100, 107, '7'),
      line('FLAT', 50, 50, null, 'not_applicable'),
    ]);
    expect(doc.vatBreakdown).toEqual([
      { category: 'O', percent: '0', taxableMinor: '50', vatMinor: '0' },
      { category: 'S', percent: '7', taxableMinor: '100', vatMinor: '7' },
      { category: 'S', percent: '19', taxableMinor: '490', vatMinor: '93' },
    ]);
    expect(doc.totals).toEqual({ exclVatMinor: '640', vatMinor: '100', inclVatMinor: '740' });
    expect(doc.sessions[0]?.startLocal).toBe('2026-03-29 01:30:00 GMT+1');
    expect(doc.sessions[0]?.endLocal).toBe('2026-03-29 03:30:00 GMT+2');
    expect(doc.taxPointDate).toBe('2026-03-29');
    expect(doc.dueDate).toBe('2026-04-12');
  });

  it('puts a price-limit adjustment at the session rate, as a negative quantity when it reduces', () => {
    const doc = build([line('ENERGY', 1000, 1190, '19'), line('MAX_PRICE', -200, -238, null, 'implied')]);
    expect(doc.lines[1]).toMatchObject({
      quantity: '-1',
      unitPriceExclVat: '2.00',
      vatCategory: 'S',
      vatPercent: '19',
      vatMinor: '-38',
    });
    expect(doc.totals).toEqual({ exclVatMinor: '800', vatMinor: '152', inclVatMinor: '952' });
  });

  it('normalizes rates', () => {
    expect(['19.0', '19', '07.50', '0.0', '0'].map(normalizeDecimal)).toEqual(['19', '19', '7.5', '0', '0']);
  });

  it('property: totals are the sums of the lines, the VAT table adds up, a credit note nets to zero', () => {
    const arbLine = fc
      .record({
        excl: fc.integer({ min: -5000, max: 100_000 }),
        vatMinor: fc.integer({ min: 0, max: 20_000 }),
        rate: fc.constantFrom('19', '7', '0', '21.0'),
      })
      .map(({ excl, vatMinor, rate }) => line('ENERGY', excl, excl + (rate === '0' ? 0 : vatMinor), rate));
    fc.assert(
      fc.property(fc.array(arbLine, { minLength: 1, maxLength: 12 }), (lines) => {
        const doc = build(lines);
        const excl = lines.reduce((s, l) => s + BigInt(l.exclVat.minor), 0n);
        const incl = lines.reduce((s, l) => s + BigInt(l.inclVat.minor), 0n);
        expect(doc.totals).toEqual({
          exclVatMinor: String(excl),
          vatMinor: String(incl - excl),
          inclVatMinor: String(incl),
        });
        expect(doc.vatBreakdown.reduce((s, r) => s + BigInt(r.taxableMinor), 0n)).toBe(excl);
        expect(doc.vatBreakdown.reduce((s, r) => s + BigInt(r.vatMinor), 0n)).toBe(incl - excl);
        const credit = buildCreditNoteDocument(doc, {
          invoiceId: 'x',
          invoiceNumber: 'CRN-00000001',
          issuedAt: new Date('2026-04-01T00:00:00Z'),
          reason: 'r',
        });
        expect(BigInt(credit.totals.inclVatMinor) + incl).toBe(0n);
        expect(BigInt(credit.totals.vatMinor) + (incl - excl)).toBe(0n);
        for (const [i, l] of credit.lines.entries()) {
          expect(BigInt(l.exclVatMinor)).toBe(-BigInt(doc.lines[i]!.exclVatMinor));
        }
      }),
    );
  });
});
