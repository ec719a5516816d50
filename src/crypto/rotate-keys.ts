/**
 * Key rotation without downtime. Re-wraps every data key that is not yet under the current master key: each row
 * is updated on its own (compare-and-set on its old master key id), so running nodes always find either the old
 * wrapping (they still hold the old master key) or the new one (they reload the keyring). Ciphertexts in the data
 * tables are untouched. Optionally also starts a new active data key for values written from now on.
 *
 * Values that ciphertexts cover are re-wrapped with them for free (a ciphertext names its data key, and only the
 * data key's wrapping changes). Personal data still in clear text from before encryption covered it (invoice
 * billing plans before migration 0007) is sealed here, since only a process holding the master key can.
 */
import type { Kysely } from 'kysely';
import { sealPlaintextBillingPlans } from '../billing/invoices/seal-plaintext-billing-plans.ts';
import type { Database } from '../db/schema.ts';
import { open, seal } from './aes-gcm.ts';
import { createFieldCipher, insertWrappedKey, wrapAad } from './field-cipher.ts';
import type { MasterKeyring } from './master-keyring.ts';

export type RotationReport = {
  rewrapped: number;
  alreadyCurrent: number;
  newDataKeyId: string | null;
  /** Clear-text personal values found and sealed (billing plans written before migration 0007). */
  sealedPlaintext: number;
};

export async function rotateKeys(
  db: Kysely<Database>,
  keyring: MasterKeyring,
  options: { newDataKey: boolean; now: Date },
): Promise<RotationReport> {
  const rows = await db.selectFrom('encryption_keys').selectAll().execute();
  let rewrapped = 0;
  let alreadyCurrent = 0;
  for (const row of rows) {
    if (row.master_key_id === keyring.current.id) {
      alreadyCurrent += 1;
      continue;
    }
    const old = keyring.keys.find((k) => k.id === row.master_key_id);
    if (!old)
      throw new Error(`data key ${row.id} is wrapped by master key ${row.master_key_id}, which is not configured`);
    const aad = wrapAad(row.id, row.purpose);
    const key = open(old.key, Buffer.from(row.wrapped_key, 'base64url'), aad);
    const result = await db
      .updateTable('encryption_keys')
      .set({
        master_key_id: keyring.current.id,
        wrapped_key: seal(keyring.current.key, key, aad).toString('base64url'),
        rewrapped_at: options.now,
      })
      .where('id', '=', row.id)
      .where('master_key_id', '=', row.master_key_id)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) rewrapped += 1;
  }
  let newDataKeyId: string | null = null;
  if (options.newDataKey) {
    newDataKeyId = await db.transaction().execute(async (trx) => {
      await trx.updateTable('encryption_keys').set({ active: false }).where('purpose', '=', 'data').execute();
      return insertWrappedKey(trx, keyring, 'data', true);
    });
  }
  const cipher = await createFieldCipher(db, async () => keyring);
  const sealedPlaintext = await sealPlaintextBillingPlans(db, cipher);
  return { rewrapped, alreadyCurrent, newDataKeyId, sealedPlaintext };
}

/** Master key ids that still wrap some data key (the ones a key file must keep). */
export async function masterKeysInUse(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('encryption_keys').select('master_key_id').distinct().execute();
  return rows.map((r) => r.master_key_id);
}
