/**
 * Writes how an id token's sessions are invoiced (invoice_billing_plans), with the buyer's personal fields sealed
 * by the field cipher (invoice-buyer-cipher.ts). The only writer of billing plans in the application: rows
 * written any other way (SQL by hand, before migration 0007) hold plain text until `voltbill keys rotate` seals them.
 */
import type { Kysely } from 'kysely';
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import type { Database } from '../../db/schema.ts';
import { sealBuyer } from './invoice-buyer-cipher.ts';
import type { InvoiceParty } from './invoice-document.ts';

/** Longest buyer name, in characters, before sealing (the column holds the longer ciphertext). */
export const MAX_BUYER_NAME_CHARS = 200;

export type BillingPlanInput = {
  readonly idTokenId: string;
  readonly operatorId: string;
  readonly mode: 'per_session' | 'monthly';
  readonly customerId: string | null;
  /** Null: the invoice names the card holder by the card (anonymous B2C buyer). */
  readonly buyer: InvoiceParty | null;
};

/** Creates or replaces the token's plan. Throws on a buyer name longer than MAX_BUYER_NAME_CHARS (a caller bug). */
export async function saveBillingPlan(
  db: Kysely<Database>,
  cipher: FieldCipher,
  plan: BillingPlanInput,
): Promise<void> {
  if (plan.buyer && (plan.buyer.name.length < 1 || plan.buyer.name.length > MAX_BUYER_NAME_CHARS)) {
    throw new RangeError(`buyer name must have 1 to ${MAX_BUYER_NAME_CHARS} characters`);
  }
  const sealed = plan.buyer ? sealBuyer(cipher, plan.buyer) : null;
  const values = {
    operator_id: plan.operatorId,
    mode: plan.mode,
    customer_id: plan.customerId,
    buyer_name: sealed?.name ?? null,
    buyer_vat_id: sealed?.vatId ?? null,
    buyer_street: sealed?.street ?? null,
    buyer_city: sealed?.city ?? null,
    buyer_postal_code: sealed?.postalCode ?? null,
    buyer_country_code: sealed?.countryCode ?? null,
  };
  await db
    .insertInto('invoice_billing_plans')
    .values({ id_token_id: plan.idTokenId, ...values })
    .onConflict((oc) => oc.column('id_token_id').doUpdateSet(values))
    .execute();
}
