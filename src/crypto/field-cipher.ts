/**
 * Envelope encryption of fields. Values are sealed with the active data key (AES-256-GCM) and stored as
 * `vbe1.<dataKeyId>.<base64url sealed>`; data keys live in encryption_keys wrapped by the master key. Unwrapped
 * data keys are cached in memory; a value under a key this node has not seen yet (another node created it, or a
 * rotation did) loads that key on demand, and a master key this node does not know reloads the keyring, so nodes
 * keep working through a rotation without a restart.
 *
 * Also derives, from the blind-index key, the HMAC key of blind indexes (exact lookups of an email without storing
 * it) and the signing key of access tokens; both are the same on every node and survive master-key rotation.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { KEY_BYTES, open, seal } from './aes-gcm.ts';
import type { MasterKeyring } from './master-keyring.ts';

const PREFIX = 'vbe1';

export type FieldCipher = {
  encrypt(context: string, plaintext: string): string;
  encryptOptional(context: string, plaintext: string | null | undefined): string | null;
  decrypt(context: string, sealed: string): Promise<string>;
  decryptOptional(context: string, sealed: string | null): Promise<string | null>;
  /** HMAC-SHA256 (hex) of a normalized value, for unique indexes and lookups. */
  blindIndex(context: string, value: string): string;
  /** 32-byte HS256 key for access tokens. */
  readonly tokenSigningKey: Uint8Array;
};

export class DecryptionFailed extends Error {
  override name = 'DecryptionFailed';
}

/** The AAD a master key wraps a data key with: the key's id and purpose, so rows cannot be swapped. */
export const wrapAad = (id: string, purpose: string) => `voltbill:data-key:${id}:${purpose}`;

export async function createFieldCipher(
  db: Kysely<Database>,
  loadKeyring: () => Promise<MasterKeyring>,
): Promise<FieldCipher> {
  let keyring = await loadKeyring();
  await ensureKeys(db, keyring);
  const dataKeys = new Map<string, Buffer>();

  const unwrapRow = async (row: { id: string; purpose: string; master_key_id: string; wrapped_key: string }) => {
    let master = keyring.keys.find((k) => k.id === row.master_key_id);
    if (!master) {
      keyring = await loadKeyring();
      master = keyring.keys.find((k) => k.id === row.master_key_id);
    }
    if (!master) throw new DecryptionFailed(`master key ${row.master_key_id} is not configured`);
    return open(master.key, Buffer.from(row.wrapped_key, 'base64url'), wrapAad(row.id, row.purpose));
  };

  const rows = await db.selectFrom('encryption_keys').selectAll().execute();
  let activeId = '';
  let indexKey: Buffer | undefined;
  for (const row of rows) {
    const key = await unwrapRow(row);
    if (row.purpose === 'data') {
      dataKeys.set(row.id, key);
      if (row.active) activeId = row.id;
    } else if (row.active) {
      indexKey = key;
    }
  }
  if (!activeId || !indexKey) throw new Error('encryption keys missing after ensureKeys');
  const blindKey = Buffer.from(hkdfSync('sha256', indexKey, Buffer.alloc(0), 'voltbill blind index', 32));
  const signingKey = new Uint8Array(hkdfSync('sha256', indexKey, Buffer.alloc(0), 'voltbill access token', 32));

  // A rotation with a new data key makes it active; a running node keeps sealing new values under the key it
  // started with (still valid and readable everywhere) until it restarts.
  const activeKey = dataKeys.get(activeId)!;

  const keyFor = async (id: string): Promise<Buffer> => {
    const cached = dataKeys.get(id);
    if (cached) return cached;
    const row = await db.selectFrom('encryption_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (row?.purpose !== 'data') throw new DecryptionFailed(`unknown data key ${id}`);
    const key = await unwrapRow(row);
    dataKeys.set(id, key);
    return key;
  };

  const cipher: FieldCipher = {
    encrypt(context, plaintext) {
      const sealed = seal(activeKey, Buffer.from(plaintext, 'utf8'), context);
      return `${PREFIX}.${activeId}.${sealed.toString('base64url')}`;
    },
    encryptOptional(context, plaintext) {
      return plaintext === null || plaintext === undefined ? null : cipher.encrypt(context, plaintext);
    },
    async decrypt(context, text) {
      const [prefix, id, body] = text.split('.');
      if (prefix !== PREFIX || !id || !body) throw new DecryptionFailed('not an encrypted value');
      try {
        return open(await keyFor(id), Buffer.from(body, 'base64url'), context).toString('utf8');
      } catch (error) {
        if (error instanceof DecryptionFailed) throw error;
        throw new DecryptionFailed(`value under key ${id} does not decrypt as ${context}`);
      }
    },
    async decryptOptional(context, text) {
      return text === null ? null : cipher.decrypt(context, text);
    },
    blindIndex(context, value) {
      return createHmac('sha256', blindKey).update(context).update('\0').update(value).digest('hex');
    },
    tokenSigningKey: signingKey,
  };
  return cipher;
}

/** Creates the active data key and the blind-index key on first start; concurrent starters agree on one. */
async function ensureKeys(db: Kysely<Database>, keyring: MasterKeyring): Promise<void> {
  for (const purpose of ['data', 'blind-index'] as const) {
    const existing = await db
      .selectFrom('encryption_keys')
      .select('id')
      .where('purpose', '=', purpose)
      .where('active', '=', true)
      .executeTakeFirst();
    if (existing) continue;
    await insertWrappedKey(db, keyring, purpose, true).catch(async (error) => {
      // Another node won the race (one active key per purpose is a unique index): use its key.
      const winner = await db
        .selectFrom('encryption_keys')
        .select('id')
        .where('purpose', '=', purpose)
        .where('active', '=', true)
        .executeTakeFirst();
      if (!winner) throw error;
    });
  }
}

export async function insertWrappedKey(
  db: Kysely<Database>,
  keyring: MasterKeyring,
  purpose: 'data' | 'blind-index',
  active: boolean,
): Promise<string> {
  const id = crypto.randomUUID();
  const key = randomBytes(KEY_BYTES);
  const wrapped = seal(keyring.current.key, key, wrapAad(id, purpose)).toString('base64url');
  await db
    .insertInto('encryption_keys')
    .values({ id, purpose, active, master_key_id: keyring.current.id, wrapped_key: wrapped })
    .execute();
  return id;
}
