/**
 * The payment provider's customer id (Stripe `cus_...`) is personal data that links a driver to their card
 * account, so `payment_methods.provider_customer_id` and `payments.provider_customer_id` store it sealed. Both
 * columns use ONE context, so the sealed text can be copied from a saved card into a payment (and from a payment
 * into its extra charge) as it is, inside transactions that hold no key (the end of a session); it is opened only
 * right before a provider call.
 *
 * Values written before sealing (and by a payment context built without a cipher, as some tests do) are clear
 * text: they are read as they are.
 */
import type { Kysely } from 'kysely';
import { DecryptionFailed, type FieldCipher } from '../crypto/field-cipher.ts';
import type { Database } from '../db/schema.ts';

/** AAD of a sealed provider customer id, shared by payment_methods and payments. */
export const PROVIDER_CUSTOMER_ID_CONTEXT = 'payments.provider_customer_id';

const SEALED_PREFIX = 'vbe1.';

export function isSealedCustomerId(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

/** The stored form: sealed when a cipher is given (always in a running server), clear text otherwise. */
export function sealProviderCustomerId(cipher: FieldCipher | undefined, customerId: string): string {
  return cipher && !isSealedCustomerId(customerId)
    ? cipher.encrypt(PROVIDER_CUSTOMER_ID_CONTEXT, customerId)
    : customerId;
}

/** The provider's id from its stored form; a sealed value without a cipher is an error, never sent as it is. */
export async function openProviderCustomerId(
  cipher: FieldCipher | undefined,
  stored: string | null | undefined,
): Promise<string | null> {
  if (stored === null || stored === undefined) return null;
  if (!isSealedCustomerId(stored)) return stored;
  if (!cipher) throw new DecryptionFailed('a sealed provider customer id needs the field cipher');
  return cipher.decrypt(PROVIDER_CUSTOMER_ID_CONTEXT, stored);
}

/**
 * Seals provider customer ids still in clear text (written before sealing) in both columns. Each row is updated on
 * its own with a compare-and-set on the value read, so a row changed meanwhile is left alone. Returns the count.
 * For `voltbill keys rotate` (wiring in src/commands/keys-command.ts).
 */
export async function sealPlaintextProviderCustomerIds(db: Kysely<Database>, cipher: FieldCipher): Promise<number> {
  let sealed = 0;
  for (const table of ['payment_methods', 'payments'] as const) {
    const rows = await db
      .selectFrom(table)
      .select(['id', 'provider_customer_id'])
      .where('provider_customer_id', 'is not', null)
      .where('provider_customer_id', 'not like', `${SEALED_PREFIX}%`)
      .execute();
    for (const row of rows) {
      const clear = row.provider_customer_id;
      if (clear === null || isSealedCustomerId(clear)) continue;
      const result = await db
        .updateTable(table)
        .set({ provider_customer_id: cipher.encrypt(PROVIDER_CUSTOMER_ID_CONTEXT, clear) })
        .where('id', '=', row.id)
        .where('provider_customer_id', '=', clear)
        .executeTakeFirst();
      if (result.numUpdatedRows > 0n) sealed += 1;
    }
  }
  return sealed;
}
