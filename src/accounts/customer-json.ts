/** Customers as the API shows them: personal fields decrypted for an authorized caller, secrets never. */
import type { Selectable } from 'kysely';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { CustomersTable } from '../db/schema.ts';

/** AAD contexts of the encrypted customer columns (a value copied into another column does not decrypt). */
export const CUSTOMER_FIELDS = {
  name: 'customers.name',
  email: 'customers.email',
  address: 'customers.address',
  providerCustomerId: 'customers.provider_customer_id',
} as const;

export async function customerJson(cipher: FieldCipher, row: Selectable<CustomersTable>) {
  return {
    id: row.id,
    fleetId: row.fleet_id,
    name: await cipher.decrypt(CUSTOMER_FIELDS.name, row.name_enc),
    email: await cipher.decryptOptional(CUSTOMER_FIELDS.email, row.email_enc),
    address: await cipher.decryptOptional(CUSTOMER_FIELDS.address, row.address_enc),
    hasProviderCustomer: row.provider_customer_id_enc !== null,
    createdAt: row.created_at.toISOString(),
  };
}
