/**
 * A saved card (sandbox) and the payment profile that makes a token pay with it, written straight into the tables:
 * for tests of the authorization reads that need a paying token without going through the provider.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { SandboxProvider } from '../../src/payments/sandbox/sandbox-provider.ts';

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

/**
 * A card saved for `idTag` the way an operator saves one: tokenized by the SANDBOX's hosted fields (a Visa test
 * number), then `POST /api/v1/payments/methods` with the admin key. Throws unless the API answers 201.
 */
export async function saveCardThroughApi(
  server: { readonly httpUrl: string; readonly seeded?: { readonly adminApiKey: string } },
  sandbox: SandboxProvider,
  idTag: string,
): Promise<void> {
  const ref = sandbox.tokenizeCard({ number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123' });
  if (!ref.ok) throw new Error(ref.error.message);
  const saved = await fetch(`${server.httpUrl}/api/v1/payments/methods`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.seeded?.adminApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ idTag, paymentMethodRef: ref.value.paymentMethodRef }),
  });
  if (saved.status !== 201) throw new Error(`saving a card for ${idTag}: ${saved.status} ${await saved.text()}`);
}
