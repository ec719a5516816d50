/**
 * Master keys: the keys that wrap the data keys. They never enter the database. Sources, in order:
 * VOLTBILL_MASTER_KEY (one or more `id:base64` entries, comma-separated, the first is current; a bare base64 key
 * gets an id from its fingerprint), else a key file (JSON, mode 0600) that is generated on first use, by default
 * in the data folder, which is never committed (.gitignore).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KEY_BYTES } from './aes-gcm.ts';

export type MasterKey = { readonly id: string; readonly key: Buffer };

export type MasterKeyring = {
  readonly source: 'env' | 'file';
  readonly current: MasterKey;
  readonly keys: readonly MasterKey[];
  /** The file the keys came from (source 'file'). */
  readonly file?: string;
};

type KeyFile = { version: 1; current: string; keys: { id: string; key: string; createdAt: string }[] };

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export function masterKeyId(key: Buffer): string {
  return `mk-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

export function parseMasterKeyEnv(value: string): MasterKeyring {
  const keys = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.indexOf(':');
      const encoded = colon >= 0 ? entry.slice(colon + 1) : entry;
      const key = Buffer.from(encoded, 'base64');
      if (key.length !== KEY_BYTES) {
        throw new MasterKeyError('VOLTBILL_MASTER_KEY: each key must be 32 bytes, base64-encoded');
      }
      return { id: colon >= 0 ? entry.slice(0, colon) : masterKeyId(key), key };
    });
  const [current] = keys;
  if (!current) throw new MasterKeyError('VOLTBILL_MASTER_KEY is empty');
  return { source: 'env', current, keys };
}

/** Reads the key file, creating it with one new key when it does not exist yet (exclusive create: no race). */
export async function loadKeyFile(file: string, now: Date): Promise<MasterKeyring> {
  try {
    return parseKeyFile(file, await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const key = randomBytes(KEY_BYTES);
  const content: KeyFile = {
    version: 1,
    current: masterKeyId(key),
    keys: [{ id: masterKeyId(key), key: key.toString('base64'), createdAt: now.toISOString() }],
  };
  try {
    await writeFile(file, `${JSON.stringify(content, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return parseKeyFile(file, await readFile(file, 'utf8'));
}

function parseKeyFile(file: string, text: string): MasterKeyring {
  let content: KeyFile;
  try {
    content = JSON.parse(text) as KeyFile;
  } catch {
    throw new MasterKeyError(`${file} is not a Voltbill key file`);
  }
  const keys = (content.keys ?? []).map((k) => ({ id: k.id, key: Buffer.from(k.key, 'base64') }));
  const current = keys.find((k) => k.id === content.current);
  if (!current || keys.some((k) => k.key.length !== KEY_BYTES)) {
    throw new MasterKeyError(`${file}: no valid current master key`);
  }
  return { source: 'file', current, keys, file };
}

/** Adds a new master key to the file and makes it current (atomic rename); older keys stay until pruned. */
export async function addKeyToFile(file: string, now: Date): Promise<MasterKeyring> {
  const text = await readFile(file, 'utf8');
  const content = JSON.parse(text) as KeyFile;
  const key = randomBytes(KEY_BYTES);
  const id = masterKeyId(key);
  content.keys.push({ id, key: key.toString('base64'), createdAt: now.toISOString() });
  content.current = id;
  await writeKeyFile(file, content);
  return parseKeyFile(file, await readFile(file, 'utf8'));
}

/** Keeps only the listed master keys (after a rotation re-wrapped every data key under the current one). */
export async function pruneKeyFile(file: string, keep: readonly string[]): Promise<void> {
  const content = JSON.parse(await readFile(file, 'utf8')) as KeyFile;
  content.keys = content.keys.filter((k) => keep.includes(k.id) || k.id === content.current);
  await writeKeyFile(file, content);
}

async function writeKeyFile(file: string, content: KeyFile): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** The keyring from the configuration: the environment variable when set, else the key file. */
export async function loadMasterKeyring(
  settings: { masterKey: string | undefined; masterKeyFile: string },
  now: Date,
): Promise<MasterKeyring> {
  if (settings.masterKey) return parseMasterKeyEnv(settings.masterKey);
  return loadKeyFile(settings.masterKeyFile, now);
}
