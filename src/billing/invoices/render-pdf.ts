/**
 * The invoice as a PDF a driver recognises: seller with logo placeholder and address, buyer, numbers and dates,
 * the sessions (station, EVSE, local times, meter readings), the priced lines, the VAT table, totals and the
 * payment status. Built only from the stored document, so a re-rendering years later prints the same invoice.
 * Content streams are left uncompressed and use the standard Helvetica fonts, so the text is extractable.
 */
import PDFDocument from 'pdfkit';
import { formatMinor, formatQuantity, formatUnitPrice, KIND_TITLES } from './format-invoice-values.ts';
import type { InvoiceDocument } from './invoice-document.ts';

export type PaymentStatus = 'paid' | 'open' | 'partially paid' | 'credited' | 'refund due';

const MARGIN = 50;
const PAGE_BOTTOM = 790;

export function renderInvoicePdf(doc: InvoiceDocument, paymentStatus: PaymentStatus): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: false,
    info: {
      Title: `${KIND_TITLES[doc.kind]} ${doc.invoiceNumber}`,
      Author: doc.seller.name,
      Subject: `${KIND_TITLES[doc.kind]} ${doc.invoiceNumber}`,
      CreationDate: new Date(doc.issuedAt),
    },
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const money = (minor: string) => `${formatMinor(minor, doc.currency)} ${doc.currency}`;
  let y = MARGIN;
  const ensure = (height: number) => {
    if (y + height > PAGE_BOTTOM) {
      pdf.addPage();
      y = MARGIN;
    }
  };
  const text = (
    value: string,
    x: number,
    width: number,
    options: { bold?: boolean; size?: number; align?: 'left' | 'right' } = {},
  ) => {
    pdf.font(options.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(options.size ?? 9);
    pdf.text(value, x, y, { width, align: options.align ?? 'left', lineBreak: false });
  };

  // Header: logo placeholder, seller.
  pdf.rect(MARGIN, y, 90, 40).stroke();
  pdf
    .font('Helvetica')
    .fontSize(10)
    .text('LOGO', MARGIN + 30, y + 15, { lineBreak: false });
  const sellerLines = [
    doc.seller.name,
    doc.seller.street ?? '',
    [doc.seller.postalCode, doc.seller.city].filter(Boolean).join(' '),
    doc.seller.countryCode,
    doc.seller.vatId ? `VAT ID: ${doc.seller.vatId}` : '',
    doc.seller.email ?? '',
  ].filter(Boolean);
  for (const [i, line] of sellerLines.entries()) {
    pdf.font(i === 0 ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    pdf.text(line, 300, y + i * 12, { width: 245, align: 'right', lineBreak: false });
  }
  y += Math.max(60, sellerLines.length * 12 + 12);

  // Buyer and title.
  const buyerLines = [
    doc.buyer.name,
    doc.buyer.street ?? '',
    [doc.buyer.postalCode, doc.buyer.city].filter(Boolean).join(' '),
    doc.buyer.countryCode,
    doc.buyer.vatId ? `VAT ID: ${doc.buyer.vatId}` : '',
  ].filter(Boolean);
  for (const line of buyerLines) {
    text(line, MARGIN, 250);
    y += 12;
  }
  y += 12;
  text(`${KIND_TITLES[doc.kind]} ${doc.invoiceNumber}`, MARGIN, 495, { bold: true, size: 16 });
  y += 26;
  const meta: [string, string][] = [
    ['Invoice date', doc.issuedAt.slice(0, 10)],
    ['Tax point (date of supply)', doc.taxPointDate],
    ...(doc.period ? ([['Period', `${doc.period.startDate} to ${doc.period.endDate}`]] as [string, string][]) : []),
    ...(doc.credits
      ? ([['Corrects invoice', `${doc.credits.invoiceNumber} of ${doc.credits.issuedAt.slice(0, 10)}`]] as [
          string,
          string,
        ][])
      : []),
    ['Due date', doc.dueDate],
    ['Card / token', doc.idTag ?? '-'],
    ['Payment status', paymentStatus],
  ];
  for (const [label, value] of meta) {
    text(`${label}:`, MARGIN, 150);
    text(value, MARGIN + 150, 345);
    y += 12;
  }
  y += 10;

  // Sessions.
  text('Charging sessions', MARGIN, 495, { bold: true, size: 11 });
  y += 16;
  for (const session of doc.sessions) {
    ensure(50);
    text(`Session ${session.sessionId} at ${session.locationName}, ${session.locationAddress}`, MARGIN, 495);
    y += 11;
    text(`Station ${session.stationId}, EVSE ${session.evseUid}`, MARGIN, 495);
    y += 11;
    text(`Start ${session.startLocal}   End ${session.endLocal}`, MARGIN, 495);
    y += 11;
    text(
      `Meter start ${session.meterStartWh} Wh   Meter end ${session.meterStopWh} Wh   Energy ${session.energyWh} Wh`,
      MARGIN,
      495,
    );
    y += 11;
    text(session.signedDataNote, MARGIN, 495, { size: 8 });
    y += 15;
  }

  // Lines.
  const columns: [string, number, number, 'left' | 'right'][] = [
    ['#', MARGIN, 18, 'left'],
    ['Description', MARGIN + 20, 120, 'left'],
    ['Quantity', MARGIN + 140, 70, 'right'],
    ['Unit price', MARGIN + 212, 70, 'right'],
    ['VAT %', MARGIN + 284, 40, 'right'],
    ['Net', MARGIN + 326, 55, 'right'],
    ['VAT', MARGIN + 383, 50, 'right'],
    ['Gross', MARGIN + 435, 60, 'right'],
  ];
  const row = (cells: string[], bold = false) => {
    ensure(14);
    cells.forEach((cell, i) => {
      const [, x, width, align] = columns[i]!;
      text(cell, x, width, { bold, align });
    });
    y += 13;
  };
  y += 4;
  row(
    columns.map((c) => c[0]),
    true,
  );
  pdf
    .moveTo(MARGIN, y - 2)
    .lineTo(MARGIN + 495, y - 2)
    .stroke();
  for (const line of doc.lines) {
    row([
      String(line.lineNo),
      line.description,
      formatQuantity(line),
      formatUnitPrice(line),
      line.vatCategory === 'O' ? 'n/a' : line.vatPercent,
      formatMinor(line.exclVatMinor, doc.currency),
      formatMinor(line.vatMinor, doc.currency),
      formatMinor(line.inclVatMinor, doc.currency),
    ]);
  }
  y += 8;

  // VAT table.
  ensure(30);
  text('VAT breakdown', MARGIN, 495, { bold: true, size: 11 });
  y += 16;
  for (const vat of doc.vatBreakdown) {
    ensure(14);
    const label = vat.category === 'O' ? 'Outside the scope of VAT' : `VAT ${vat.percent} %`;
    text(`${label} on ${money(vat.taxableMinor)}`, MARGIN, 330);
    text(money(vat.vatMinor), MARGIN + 335, 160, { align: 'right' });
    y += 13;
  }
  y += 8;

  // Totals.
  ensure(50);
  const totals: [string, string][] = [
    ['Total excl. VAT', money(doc.totals.exclVatMinor)],
    ['Total VAT', money(doc.totals.vatMinor)],
    [doc.kind === 'credit_note' ? 'Total credited' : 'Total due', money(doc.totals.inclVatMinor)],
  ];
  for (const [i, [label, value]] of totals.entries()) {
    text(label, MARGIN + 250, 130, { bold: i === 2 });
    text(value, MARGIN + 385, 110, { bold: i === 2, align: 'right' });
    y += 14;
  }
  y += 10;
  ensure(40);
  if (doc.note) {
    text(`Note: ${doc.note}`, MARGIN, 495);
    y += 12;
  }
  if (doc.seller.iban && doc.kind !== 'credit_note') {
    text(`Please pay to IBAN ${doc.seller.iban}, reference ${doc.invoiceNumber}.`, MARGIN, 495);
    y += 12;
  }
  text(
    "All times are local at the station. Amounts are rounded once per line to the currency's minor unit.",
    MARGIN,
    495,
    {
      size: 8,
    },
  );
  pdf.end();
  return done;
}
