/**
 * An id token's label is often its driver's name, so it is stored sealed (context `id_tokens.label`, migration
 * 0012), together with the anonymous invoice buyer name `<label> (<uid>)` sealed under the invoice buyer name's
 * context: a card without a billing plan names its invoice's buyer that way, and invoices are issued inside the
 * stop's transaction without a key (invoice-buyer-cipher.ts), so issuing copies the sealed name as it is.
 *
 * Labels written before migration 0012 (or directly, by the demo seed and load provisioning) are clear text: they
 * are read as they are, and `voltbill keys rotate` seals them (sealPlaintextTokenLabels).
 */
import type { Kysely } from 'kysely';
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import type { Database } from '../../db/schema.ts';
import { INVOICE_BUYER_FIELDS, isSealed } from './invoice-buyer-cipher.ts';

/** AAD of a sealed id token label. */
export const ID_TOKEN_LABEL_CONTEXT = 'id_tokens.label';

/** The stored columns of a label (null: no label). */
export function sealTokenLabel(
  cipher: FieldCipher,
  uid: string,
  label: string | null,
): { label: string | null; anonymous_buyer_name: string | null } {
  if (label === null) return { label: null, anonymous_buyer_name: null };
  return {
    label: cipher.encrypt(ID_TOKEN_LABEL_CONTEXT, label),
    anonymous_buyer_name: cipher.encrypt(INVOICE_BUYER_FIELDS.name, `${label} (${uid})`),
  };
}

/** A label as stored: opened when sealed, as it is when written in clear before migration 0012. */
export async function openTokenLabel(cipher: FieldCipher, stored: string | null): Promise<string | null> {
  return isSealed(stored) ? cipher.decrypt(ID_TOKEN_LABEL_CONTEXT, stored) : stored;
}

/**
 * Seals labels still in clear text. Each row is updated on its own with a compare-and-set on the label read, so a
 * label changed meanwhile by a running node (which writes it sealed) is left alone. Returns the labels sealed.
 */
export async function sealPlaintextTokenLabels(db: Kysely<Database>, cipher: FieldCipher): Promise<number> {
  const rows = await db
    .selectFrom('id_tokens')
    .select(['id', 'uid', 'label'])
    .where('label', 'is not', null)
    .where('label', 'not like', 'vbe1.%')
    .execute();
  let sealed = 0;
  for (const row of rows) {
    if (row.label === null || isSealed(row.label)) continue;
    const result = await db
      .updateTable('id_tokens')
      .set(sealTokenLabel(cipher, row.uid, row.label))
      .where('id', '=', row.id)
      .where('label', '=', row.label)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) sealed += 1;
  }
  return sealed;
}
