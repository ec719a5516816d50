/**
 * Sessions end as numbered invoices: over real OCPP to a real server, then the invoice JSON, PDF (text extracted)
 * and UBL XML downloads, a credit note that reverses exactly, and monthly statements.
 */
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountBalances } from '../src/ledger/balances.ts';
import type { RunningServer } from '../src/main.ts';
import { reconcile } from '../src/reconcile/reconcile.ts';
import { systemClock } from '../src/shared/clock.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

async function pdfText(bytes: Uint8Array): Promise<string> {
  const pdf = await getDocument({
    data: bytes,
    isEvalSupported: false,
    standardFontDataUrl: fileURLToPath(new URL('../node_modules/pdfjs-dist/standard_fonts/', import.meta.url)),
  }).promise;
  const pages: string[] = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    const content = await (await pdf.getPage(i)).getTextContent();
    pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join('\n'));
  }
  await pdf.destroy();
  return pages.join('\n');
}

describe.skipIf(skip)('invoices', () => {
  let server: RunningServer;
  let key: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  const json = (response: Response) => response.json() as Promise<any>;
  const get = (path: string) => fetch(`${server.httpUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const post = (path: string, body: unknown) =>
    fetch(`${server.httpUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_RECONCILE_INTERVAL_S: '0' });
    key = server.seeded!.adminApiKey;
    const db = server.database.db;
    // DEMO0003 is a fleet card billed by monthly statement.
    const token = await db
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', 'DEMO0003')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('invoice_billing_plans')
      .values({
        id_token_id: token.id,
        operator_id: token.operator_id,
        mode: 'monthly',
        buyer_name: 'Fleet Logistics AG',
        buyer_vat_id: 'DE987654321',
        buyer_street: 'Hafenstraße 1',
        buyer_city: 'Hamburg',
        buyer_postal_code: '20457',
        buyer_country_code: 'DE',
      })
      .execute();
    const station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    const sessions: [string, number, string, string][] = [
      ['DEMO0001', 10_000, '2026-11-02T10:00:00.000Z', '2026-11-02T11:00:00.000Z'],
      ['DEMO0002', 8_000, '2026-11-03T10:00:00.000Z', '2026-11-03T10:30:00.000Z'],
      ['DEMO0003', 5_000, '2026-10-04T10:00:00.000Z', '2026-10-04T10:20:00.000Z'],
      ['DEMO0003', 7_500, '2026-10-05T10:00:00.000Z', '2026-10-05T10:40:00.000Z'],
    ];
    let meter = 0;
    for (const [idTag, energyWh, start, stop] of sessions) {
      const started = await station.call<{ transactionId: number }>('StartTransaction', {
        connectorId: 1,
        idTag,
        meterStart: meter,
        timestamp: start,
      });
      meter += energyWh;
      await station.call('StopTransaction', {
        transactionId: started.transactionId,
        meterStop: meter,
        timestamp: stop,
      });
    }
    await station.close({ force: true });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  it('issues one numbered invoice per session of a per-session driver', async () => {
    const list = await json(await get('/api/v1/invoices?kind=invoice'));
    expect(list.data.map((i: { invoiceNumber: string }) => i.invoiceNumber)).toEqual(['INV-00000002', 'INV-00000001']);
    const first = list.data[1];
    // 10 kWh at 0.49 + 0.35 session fee = 5.25 excl. VAT; 19 % VAT per line: 0.93 + 0.07.
    expect(first.totals).toEqual({ exclVat: '5.25', vat: '1.00', inclVat: '6.25' });
    const invoice = await json(await get(`/api/v1/invoices/${first.id}`));
    expect(invoice.paymentStatus).toBe('open');
    expect(
      invoice.document.lines.map((l: { dimension: string; quantity: string; exclVatMinor: string }) => [
        l.dimension,
        l.quantity,
        l.exclVatMinor,
      ]),
    ).toEqual([
      ['FLAT', '1', '35'],
      ['ENERGY', '10', '490'],
    ]);
    expect(invoice.document.vatBreakdown).toEqual([
      { category: 'S', percent: '19', taxableMinor: '525', vatMinor: '100' },
    ]);
    expect(invoice.document.sessions[0]).toMatchObject({
      stationId: 'DEMO-0001',
      evseUid: 'DE*VBL*E0001*1',
      startLocal: '2026-11-02 11:00:00 GMT+1',
      endLocal: '2026-11-02 12:00:00 GMT+1',
      meterStartWh: '0',
      meterStopWh: '10000',
      energyWh: '10000',
    });
    expect(invoice.document.seller).toMatchObject({ name: 'Voltbill Demo CPO GmbH', vatId: 'DE123456789' });
    expect(invoice.document.taxPointDate).toBe('2026-11-02');
  });

  it('renders a PDF whose text shows the invoice', async () => {
    const list = await json(await get('/api/v1/invoices?kind=invoice'));
    const response = await get(`/api/v1/invoices/${list.data[1].id}.pdf`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const text = await pdfText(new Uint8Array(await response.arrayBuffer()));
    for (const expected of [
      'Invoice INV-00000001',
      'Voltbill Demo CPO GmbH',
      'VAT ID: DE123456789',
      'LOGO',
      'Session fee',
      'Energy',
      '10 kWh',
      '0.49 / kWh',
      'VAT 19 % on 5.25 EUR',
      'Total due',
      '6.25 EUR',
      'open',
      'Station DEMO-0001, EVSE DE*VBL*E0001*1',
      'Start 2026-11-02 11:00:00 GMT+1',
      'End 2026-11-02 12:00:00 GMT+1',
    ]) {
      expect(text).toContain(expected);
    }
  });

  it('renders EN 16931 UBL 2.1 with the mandatory business terms', async () => {
    const list = await json(await get('/api/v1/invoices?kind=invoice'));
    const response = await get(`/api/v1/invoices/${list.data[1].id}.xml`);
    expect(response.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    const xml = await response.text();
    const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml);
    const inv = parsed.Invoice;
    expect(inv['@_xmlns']).toBe('urn:oasis:names:specification:ubl:schema:xsd:Invoice-2');
    expect(inv['cbc:CustomizationID']).toBe('urn:cen.eu:en16931:2017'); // BT-24
    expect(inv['cbc:ID']).toBe('INV-00000001'); // BT-1
    expect(inv['cbc:IssueDate']).toMatch(/^\d{4}-\d{2}-\d{2}$/); // BT-2
    expect(inv['cbc:InvoiceTypeCode']).toBe('380'); // BT-3
    expect(inv['cbc:DocumentCurrencyCode']).toBe('EUR'); // BT-5
    expect(inv['cbc:TaxPointDate']).toBe('2026-11-02'); // BT-7
    const seller = inv['cac:AccountingSupplierParty']['cac:Party'];
    expect(seller['cac:PartyLegalEntity']['cbc:RegistrationName']).toBe('Voltbill Demo CPO GmbH'); // BT-27
    expect(seller['cac:PartyTaxScheme']['cbc:CompanyID']).toBe('DE123456789'); // BT-31
    expect(seller['cac:PostalAddress']['cac:Country']['cbc:IdentificationCode']).toBe('DE'); // BT-40
    const buyer = inv['cac:AccountingCustomerParty']['cac:Party'];
    expect(buyer['cac:PartyLegalEntity']['cbc:RegistrationName']).toBe('demo card DEMO0001 (DEMO0001)'); // BT-44
    expect(buyer['cac:PostalAddress']['cac:Country']['cbc:IdentificationCode']).toBe('DE'); // BT-55
    const tax = inv['cac:TaxTotal'];
    expect(tax['cbc:TaxAmount']).toEqual({ '#text': '1.00', '@_currencyID': 'EUR' }); // BT-110
    expect(tax['cac:TaxSubtotal']['cbc:TaxableAmount']['#text']).toBe('5.25'); // BT-116
    expect(tax['cac:TaxSubtotal']['cbc:TaxAmount']['#text']).toBe('1.00'); // BT-117
    expect(tax['cac:TaxSubtotal']['cac:TaxCategory']['cbc:ID']).toBe('S'); // BT-118
    expect(tax['cac:TaxSubtotal']['cac:TaxCategory']['cbc:Percent']).toBe('19'); // BT-119
    const totals = inv['cac:LegalMonetaryTotal'];
    expect(totals['cbc:LineExtensionAmount']['#text']).toBe('5.25'); // BT-106
    expect(totals['cbc:TaxExclusiveAmount']['#text']).toBe('5.25'); // BT-109
    expect(totals['cbc:TaxInclusiveAmount']['#text']).toBe('6.25'); // BT-112
    expect(totals['cbc:PayableAmount']['#text']).toBe('6.25'); // BT-115
    const lines = inv['cac:InvoiceLine'];
    expect(lines).toHaveLength(2);
    expect(lines[1]['cbc:ID']).toBe('2'); // BT-126
    expect(lines[1]['cbc:InvoicedQuantity']).toEqual({ '#text': '10', '@_unitCode': 'KWH' }); // BT-129, BT-130
    expect(lines[1]['cbc:LineExtensionAmount']['#text']).toBe('4.90'); // BT-131
    expect(lines[1]['cac:Item']['cbc:Name']).toBe('Energy'); // BT-153
    expect(lines[1]['cac:Item']['cac:ClassifiedTaxCategory']['cbc:ID']).toBe('S'); // BT-151
    expect(lines[1]['cac:Price']['cbc:PriceAmount']['#text']).toBe('0.49'); // BT-146
    // The UBL 2.1 schema fixes the order of the top-level elements.
    const order = [...xml.matchAll(/^<Invoice[^>]*>|<(c[ab]c:[A-Za-z]+)/gm)].map((m) => m[1]).filter(Boolean);
    const topLevel = [
      'cbc:CustomizationID',
      'cbc:ProfileID',
      'cbc:ID',
      'cbc:IssueDate',
      'cbc:DueDate',
      'cbc:InvoiceTypeCode',
      'cbc:TaxPointDate',
      'cbc:DocumentCurrencyCode',
      'cbc:BuyerReference',
      'cac:AccountingSupplierParty',
      'cac:AccountingCustomerParty',
      'cac:PaymentMeans',
      'cac:TaxTotal',
      'cac:LegalMonetaryTotal',
      'cac:InvoiceLine',
    ];
    const positions = topLevel.map((name) => order.indexOf(name));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('a credit note reverses the invoice exactly, once', async () => {
    const db = server.database.db;
    const operatorId = server.seeded!.operatorId;
    const list = await json(await get('/api/v1/invoices?kind=invoice'));
    const invoice = list.data[0];
    const before = await accountBalances(db, operatorId);
    const created = await post(`/api/v1/invoices/${invoice.id}/credit-notes`, { reason: 'wrong card charged' });
    expect(created.status).toBe(201);
    const note = await json(created);
    expect(note).toMatchObject({ kind: 'credit_note', invoiceNumber: 'CRN-00000001', creditsInvoiceId: invoice.id });
    expect(note.totals).toEqual({
      exclVat: `-${invoice.totals.exclVat}`,
      vat: `-${invoice.totals.vat}`,
      inclVat: `-${invoice.totals.inclVat}`,
    });
    const after = await accountBalances(db, operatorId);
    const session = (await json(await get(`/api/v1/invoices/${invoice.id}`))).document.sessions[0].sessionId;
    const transfers = await json(await get(`/api/v1/ledger/transfers?causeId=${session}`));
    const booked = transfers.data[0].postings;
    for (const posting of booked) {
      const b = before.find((x) => x.code === posting.account)!;
      const a = after.find((x) => x.code === posting.account)!;
      expect(a.postedMinor - b.postedMinor).toBe(-BigInt(posting.amountMinor));
    }
    const again = await post(`/api/v1/invoices/${invoice.id}/credit-notes`, { reason: 'twice' });
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('InvoiceAlreadyCredited');
    const xml = await (await get(`/api/v1/invoices/${note.id}.xml`)).text();
    const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml).CreditNote;
    expect(parsed['cbc:CreditNoteTypeCode']).toBe('381');
    expect(parsed['cac:BillingReference']['cac:InvoiceDocumentReference']['cbc:ID']).toBe(invoice.invoiceNumber);
    expect(parsed['cac:LegalMonetaryTotal']['cbc:PayableAmount']['#text']).toBe(invoice.totals.inclVat);
    const text = await pdfText(new Uint8Array(await (await get(`/api/v1/invoices/${note.id}.pdf`)).arrayBuffer()));
    expect(text).toContain('Credit note CRN-00000001');
    expect(text).toContain(`Corrects invoice:`);
    expect(text).toContain(invoice.invoiceNumber);
  });

  it('bills a monthly plan by statement, with its sessions as lines', async () => {
    const before = await json(await get('/api/v1/invoices?kind=statement'));
    expect(before.data).toEqual([]);
    const issued = await post('/api/v1/invoices/statements', { month: '2026-10' });
    expect(issued.status).toBe(201);
    expect((await json(issued)).data).toMatchObject([{ invoiceNumber: 'STM-00000001', sessions: 2 }]);
    const again = await post('/api/v1/invoices/statements', { month: '2026-10' });
    expect((await json(again)).data).toEqual([]);
    const list = await json(await get('/api/v1/invoices?kind=statement'));
    const statement = await json(await get(`/api/v1/invoices/${list.data[0].id}`));
    expect(statement.document.buyer).toMatchObject({ name: 'Fleet Logistics AG', vatId: 'DE987654321' });
    expect(statement.document.lines).toHaveLength(4);
    expect(statement.document.taxPointDate).toBe('2026-10-31');
    const xml = await (await get(`/api/v1/invoices/${list.data[0].id}.xml`)).text();
    const inv = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml).Invoice;
    expect(inv['cac:InvoicePeriod']).toEqual({ 'cbc:StartDate': '2026-10-01', 'cbc:EndDate': '2026-10-31' });
    expect(inv['cac:AccountingCustomerParty']['cac:Party']['cac:PartyTaxScheme']['cbc:CompanyID']).toBe('DE987654321');
  });

  it('reconciles clean after all of it', async () => {
    const report = await reconcile(server.database.db, systemClock);
    expect(report.differences).toEqual([]);
    expect(report.clean).toBe(true);
  });
});
