/**
 * The sandbox's card vault: card data encrypted with AES-256-GCM under the vault's own key, kept in the sandbox's
 * own store (never a Voltbill table). Only the token, brand, last four digits and expiry ever leave it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { assert } from '../../shared/assert.ts';

export type CardData = { readonly number: string; readonly expMonth: number; readonly expYear: number };
export type EncryptedCard = { readonly iv: string; readonly tag: string; readonly data: string };

export type SandboxVault = {
  seal(card: CardData, token: string): EncryptedCard;
  open(sealed: EncryptedCard, token: string): CardData;
};

/** `key` is 32 bytes; the token is the additional authenticated data, so a sealed card cannot be moved to another. */
export function createSandboxVault(key: Buffer): SandboxVault {
  assert(key.length === 32, 'the sandbox vault key must be 32 bytes (AES-256)');
  return {
    seal(card, token) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(token));
      const data = Buffer.concat([cipher.update(JSON.stringify(card), 'utf8'), cipher.final()]);
      return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    },
    open(sealed, token) {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(token));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
      return JSON.parse(text.toString('utf8')) as CardData;
    },
  };
}
