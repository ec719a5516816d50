/**
 * Saves a card for an id token (RFID card or app account): the driver typed it into the provider's hosted fields,
 * Voltbill receives the one-time reference, asks the provider to attach it to a customer for off-session use, and
 * stores only the token, brand, last four digits and expiry. The token's sessions then pay by card.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { FieldCipher } from '../../crypto/field-cipher.ts';
import type { Database } from '../../db/schema.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import type { PaymentProvider, ProviderError } from '../provider.ts';
import { openProviderCustomerId, sealProviderCustomerId } from '../provider-customer-id.ts';

export type SavedCard = {
  readonly paymentMethodId: string;
  readonly brand: string;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
};

export async function saveCardForToken(
  deps: { db: Kysely<Database>; provider: PaymentProvider; cipher?: FieldCipher | undefined },
  input: { operatorId: string; idTokenId: string; paymentMethodRef: string; holdMinor?: bigint | null },
): Promise<Result<SavedCard, ProviderError>> {
  const { db, provider, cipher } = deps;
  const existing = await db
    .selectFrom('payment_methods')
    .select('provider_customer_id')
    .where('id_token_id', '=', input.idTokenId)
    .where('provider', '=', provider.name)
    .executeTakeFirst();
  // Stored sealed (provider-customer-id.ts): opened here, right before the provider calls that need it.
  let customerId = await openProviderCustomerId(cipher, existing?.provider_customer_id);
  if (!customerId) {
    const customer = await provider.createCustomer({ idempotencyKey: `customer:${input.idTokenId}` });
    if (!customer.ok) return customer;
    customerId = customer.value.customerId;
  }
  const saved = await provider.savePaymentMethod({
    idempotencyKey: `save-card:${input.idTokenId}:${input.paymentMethodRef}`,
    customerId,
    paymentMethodRef: input.paymentMethodRef,
  });
  if (!saved.ok) return saved;
  const card = saved.value;
  const row = await db.transaction().execute(async (trx) => {
    const method = await trx
      .insertInto('payment_methods')
      .values({
        id: randomUUID(),
        operator_id: input.operatorId,
        id_token_id: input.idTokenId,
        customer_id: null,
        provider: provider.name,
        provider_customer_id: sealProviderCustomerId(cipher, customerId),
        token: card.token,
        brand: card.brand,
        last4: card.last4,
        exp_month: card.expMonth,
        exp_year: card.expYear,
        blocked_reason: null,
      })
      .onConflict((oc) => oc.columns(['provider', 'token']).doUpdateSet({ id_token_id: input.idTokenId }))
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('payment_profiles')
      .values({
        id_token_id: input.idTokenId,
        operator_id: input.operatorId,
        method: 'card',
        payment_method_id: method.id,
        wallet_id: null,
        hold_minor: input.holdMinor ?? null,
      })
      .onConflict((oc) =>
        oc.column('id_token_id').doUpdateSet({ method: 'card', payment_method_id: method.id, wallet_id: null }),
      )
      .execute();
    return method;
  });
  if (!row) return err({ code: 'InvalidState', message: 'card not stored' });
  return ok({
    paymentMethodId: row.id,
    brand: card.brand,
    last4: card.last4,
    expMonth: card.expMonth,
    expYear: card.expYear,
  });
}
