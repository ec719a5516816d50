/**
 * Seals buyer fields that billing plans still hold in clear text: rows written before migration 0007 or by hand.
 * A migration cannot do it (the master key never reaches the database), so `voltbill keys rotate` runs this.
 * Each row is updated on its own with a compare-and-set on the values read, so a plan changed meanwhile by a
 * running node (which writes sealed values) is left alone. Issued invoices are immutable and are not touched.
 */
import type { Kysely } from 'kysely';
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import type { Database } from '../../db/schema.ts';
import { INVOICE_BUYER_FIELDS, isSealed } from './invoice-buyer-cipher.ts';

const COLUMNS = [
  ['buyer_name', INVOICE_BUYER_FIELDS.name],
  ['buyer_street', INVOICE_BUYER_FIELDS.street],
  ['buyer_city', INVOICE_BUYER_FIELDS.city],
  ['buyer_postal_code', INVOICE_BUYER_FIELDS.postalCode],
] as const;

/** Returns the number of values sealed. */
export async function sealPlaintextBillingPlans(db: Kysely<Database>, cipher: FieldCipher): Promise<number> {
  const rows = await db
    .selectFrom('invoice_billing_plans')
    .select(['id_token_id', 'buyer_name', 'buyer_street', 'buyer_city', 'buyer_postal_code'])
    .execute();
  let sealed = 0;
  for (const row of rows) {
    const changes: Partial<Record<(typeof COLUMNS)[number][0], string>> = {};
    for (const [column, context] of COLUMNS) {
      const value = row[column];
      if (value !== null && !isSealed(value)) changes[column] = cipher.encrypt(context, value);
    }
    const count = Object.keys(changes).length;
    if (count === 0) continue;
    let update = db.updateTable('invoice_billing_plans').set(changes).where('id_token_id', '=', row.id_token_id);
    for (const [column] of COLUMNS) {
      const value = row[column];
      update = value === null ? update.where(column, 'is', null) : update.where(column, '=', value);
    }
    const result = await update.executeTakeFirst();
    if (result.numUpdatedRows > 0n) sealed += count;
  }
  return sealed;
}
