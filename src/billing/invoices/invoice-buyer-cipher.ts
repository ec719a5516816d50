/**
 * The buyer's personal data on invoices (name, street, city, postal code, email) is stored encrypted with the
 * field cipher, in billing plans and in issued invoice documents alike. Both use the same contexts (the AAD), so
 * issuing an invoice copies the sealed values from the billing plan into the document without decrypting them:
 * the issuing transaction needs no key, and a credit note copies its invoice's sealed buyer the same way.
 * Renderings (API JSON, PDF, UBL) open the document with the cipher.
 *
 * Values written before encryption existed (migration 0007) are plain text; they are read as they are, and
 * `voltbill keys rotate` seals those still in billing plans (issued invoices are immutable and stay as issued).
 */
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import type { InvoiceDocument, InvoiceParty } from './invoice-document.ts';

/** AAD per buyer field: binds a ciphertext to what it is, so a sealed name does not open as a city. */
export const INVOICE_BUYER_FIELDS = {
  name: 'invoice_buyer.name',
  street: 'invoice_buyer.street',
  city: 'invoice_buyer.city',
  postalCode: 'invoice_buyer.postal_code',
  email: 'invoice_buyer.email',
} as const;

const SEALED_PREFIX = 'vbe1.';

export function isSealed(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

/** Seals the personal fields of a buyer; country and VAT id (business identifiers EN 16931 needs) stay clear. */
export function sealBuyer(cipher: FieldCipher, buyer: InvoiceParty): InvoiceParty {
  const seal = (context: string, value: string | null | undefined) =>
    value === null || value === undefined || isSealed(value) ? (value ?? null) : cipher.encrypt(context, value);
  return {
    ...buyer,
    name: seal(INVOICE_BUYER_FIELDS.name, buyer.name) ?? '',
    street: seal(INVOICE_BUYER_FIELDS.street, buyer.street),
    city: seal(INVOICE_BUYER_FIELDS.city, buyer.city),
    postalCode: seal(INVOICE_BUYER_FIELDS.postalCode, buyer.postalCode),
    ...(buyer.email !== undefined && { email: seal(INVOICE_BUYER_FIELDS.email, buyer.email) }),
  };
}

/** A buyer field as stored: opened when sealed, as it is when written in clear before encryption existed. */
export async function openBuyerField(
  cipher: FieldCipher,
  context: string,
  value: string | null | undefined,
): Promise<string | null> {
  if (value === null || value === undefined) return null;
  return isSealed(value) ? cipher.decrypt(context, value) : value;
}

export async function openBuyer(cipher: FieldCipher, buyer: InvoiceParty): Promise<InvoiceParty> {
  return {
    ...buyer,
    name: (await openBuyerField(cipher, INVOICE_BUYER_FIELDS.name, buyer.name)) ?? '',
    street: await openBuyerField(cipher, INVOICE_BUYER_FIELDS.street, buyer.street),
    city: await openBuyerField(cipher, INVOICE_BUYER_FIELDS.city, buyer.city),
    postalCode: await openBuyerField(cipher, INVOICE_BUYER_FIELDS.postalCode, buyer.postalCode),
    ...(buyer.email !== undefined && {
      email: await openBuyerField(cipher, INVOICE_BUYER_FIELDS.email, buyer.email),
    }),
  };
}

/** The document as a reader sees it: the buyer in clear. The stored row is never changed (invoices are immutable). */
export async function openInvoiceDocument(cipher: FieldCipher, document: InvoiceDocument): Promise<InvoiceDocument> {
  return { ...document, buyer: await openBuyer(cipher, document.buyer) };
}
