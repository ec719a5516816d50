/**
 * A saved card (sandbox) and the payment profile that makes a token pay with it, written straight into the tables:
 * for tests of the authorization reads that need a paying token without going through the provider.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';

export async function insertCardProfile(
  db: Kysely<Database>,
  token: { readonly id: string; readonly operatorId: string },
  ref: string,
): Promise<{ readonly paymentMethodId: string }> {
  const method = await db
    .insertInto('payment_methods')
    .values({
      operator_id: token.operatorId,
      id_token_id: token.id,
      provider: 'sandbox',
      provider_customer_id: `cus_${ref}`,
      token: `pm_${ref}`,
      brand: 'visa',
      last4: '4242',
      exp_month: 12,
      exp_year: 2099,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('payment_profiles')
    .values({ id_token_id: token.id, operator_id: token.operatorId, method: 'card', payment_method_id: method.id })
    .execute();
  return { paymentMethodId: method.id };
}
