/**
 * Station passwords (OCPP security profiles 1 and 2) are stored only as a slow, salted scrypt hash: a leaked
 * database does not reveal them and guessing is expensive. Format: scrypt$N$r$p$salt$hash (base64), so the cost
 * can be raised later without breaking stored hashes. Verification compares in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** CPU/memory cost: 2^15 with r=8 takes tens of milliseconds and 32 MiB per hash on a server core. */
const COST_N = 2 ** 15;
const BLOCK_R = 8;
const PARALLEL_P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** OCPP 2.0.1 BasicAuthPassword: 16 to 40 characters (passwordString); 1.6's AuthorizationKey is the same secret. */
export const MIN_PASSWORD_CHARS = 16;
export const MAX_PASSWORD_CHARS = 40;

export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_CHARS || password.length > MAX_PASSWORD_CHARS) {
    return `a station password has ${MIN_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} characters (OCPP BasicAuthPassword)`;
  }
  if (!/^[\x21-\x7e]+$/.test(password)) return 'a station password uses printable ASCII characters without spaces';
  return undefined;
}

/** A new random password that satisfies passwordProblem: 24 characters of base64url (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(Buffer.from(password, 'utf8'), salt, COST_N, BLOCK_R, PARALLEL_P);
  return `scrypt$${COST_N}$${BLOCK_R}$${PARALLEL_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether the password (bytes as the station sent them) matches the stored hash; a malformed hash never matches. */
export async function verifyPassword(password: Buffer | string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((v) => Number.isInteger(v) && v > 0) || n > 2 ** 20) return false;
  const salt = Buffer.from(parts[4] as string, 'base64');
  const expected = Buffer.from(parts[5] as string, 'base64');
  const actual = await derive(typeof password === 'string' ? Buffer.from(password, 'utf8') : password, salt, n, r, p);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function derive(password: Buffer, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, { N: n, r, p, maxmem: 256 * n * r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
