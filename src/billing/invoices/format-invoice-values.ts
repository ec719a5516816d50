/** Display formatting shared by the renderings: amounts in major units, quantities with their units. */
import { formatMoney, parseCurrency } from '../../shared/money.ts';
import type { InvoiceDocumentLine } from './invoice-document.ts';

/** '1234' EUR minor units as '12.34'. */
export function formatMinor(minor: string | bigint, currency: string): string {
  const parsed = parseCurrency(currency);
  return parsed.ok ? formatMoney({ minor: BigInt(minor), currency: parsed.value }) : String(minor);
}

/** '5400' seconds as '1:30:00 h'; kWh as '12.345 kWh'; sessions as '1'. */
export function formatQuantity(line: InvoiceDocumentLine): string {
  if (line.unit === 's') {
    const negative = line.quantity.startsWith('-');
    const seconds = Math.round(Math.abs(Number(line.quantity)));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return `${negative ? '-' : ''}${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')} h`;
  }
  if (line.unit === 'kWh') return `${line.quantity} kWh`;
  return line.quantity;
}

/** '0.49 / kWh', '6.00 / h', '0.35'. */
export function formatUnitPrice(line: InvoiceDocumentLine): string {
  const unit = line.unit === 'kWh' ? ' / kWh' : line.unit === 's' ? ' / h' : '';
  return `${line.unitPriceExclVat}${unit}`;
}

export const KIND_TITLES = { invoice: 'Invoice', statement: 'Statement', credit_note: 'Credit note' } as const;
