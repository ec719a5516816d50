/**
 * `voltbill keys rotate [--new-data-key] [--json]`: re-wraps every data key under the current master key, with no
 * downtime (running nodes reload the key file when they meet the new master key id).
 *  - key file (default): a new master key is generated and made current, data keys are re-wrapped, and master
 *    keys no data key uses any more are removed from the file.
 *  - VOLTBILL_MASTER_KEY: put the new key first and keep the old one after it (`new:…,old:…`), run this, then
 *    drop the old one from the variable.
 * `voltbill keys status [--json]`: which master keys wrap which data keys.
 */
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { withConfiguredDatabase } from '../accounts/open-configured-database.ts';
import { appendAudit } from '../audit/append-audit.ts';
import { sealPlaintextTokenLabels } from '../billing/invoices/id-token-label-cipher.ts';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import { createFieldCipher } from '../crypto/field-cipher.ts';
import { addKeyToFile, loadMasterKeyring, pruneKeyFile } from '../crypto/master-keyring.ts';
import { masterKeysInUse, type RotationReport, rotateKeys } from '../crypto/rotate-keys.ts';
import type { Database } from '../db/schema.ts';
import { sealPlaintextProviderCustomerIds } from '../payments/provider-customer-id.ts';

const USAGE = 'usage: voltbill keys rotate [--new-data-key] [--json]\n       voltbill keys status [--json]';

export async function runKeysCommand(
  argv: string[],
  io: CommandIo,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  let values: { 'new-data-key'?: boolean; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: { 'new-data-key': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    }));
    if (sub !== 'rotate' && sub !== 'status') throw new Error('unknown subcommand');
  } catch (error) {
    io.stderr(`voltbill keys: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(env);
  return withConfiguredDatabase(config, 'keys', async (db, cipher) => {
    // Make sure the data keys exist (first use) before rotating them.
    await cipher();
    if (sub === 'status') {
      const rows = await db
        .selectFrom('encryption_keys')
        .select(['id', 'purpose', 'active', 'master_key_id', 'created_at', 'rewrapped_at'])
        .orderBy('created_at')
        .execute();
      const keyring = await loadMasterKeyring(config, new Date());
      const status = { masterKeySource: keyring.source, currentMasterKey: keyring.current.id, dataKeys: rows };
      if (values.json) io.stdout(`${JSON.stringify(status, null, 2)}\n`);
      else {
        io.stdout(
          `master keys from ${keyring.source}${keyring.file ? ` (${keyring.file})` : ''}; current ${keyring.current.id}\n`,
        );
        for (const r of rows)
          io.stdout(
            `  ${r.id}  ${r.purpose.padEnd(11)} ${r.active ? 'active ' : 'retired'}  wrapped by ${r.master_key_id}\n`,
          );
      }
      return 0;
    }
    const now = new Date();
    const keyring = config.masterKey
      ? await loadMasterKeyring(config, now)
      : await addKeyToFile(config.masterKeyFile, now);
    const rotated = await rotateKeys(db, keyring, { newDataKey: Boolean(values['new-data-key']), now });
    // Card labels written in clear before migration 0012 (or by the seed) are personal data too: seal them now.
    const rotationCipher = await createFieldCipher(db, async () => keyring);
    const sealedLabels = await sealPlaintextTokenLabels(db, rotationCipher);
    // So are provider customer ids that saved cards and payments held in clear before they were sealed.
    const sealedProviderIds = await sealPlaintextProviderCustomerIds(db, rotationCipher);
    const report = { ...rotated, sealedLabels, sealedProviderIds };
    let pruned: string[] = [];
    if (keyring.source === 'file' && keyring.file) {
      const inUse = await masterKeysInUse(db);
      pruned = keyring.keys.map((k) => k.id).filter((id) => !inUse.includes(id) && id !== keyring.current.id);
      await pruneKeyFile(keyring.file, inUse);
    }
    const result = { currentMasterKey: keyring.current.id, ...report, prunedMasterKeys: pruned };
    await auditRotation(db, result, now);
    if (values.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    else
      io.stdout(
        `master key now ${keyring.current.id}: ${report.rewrapped} data key(s) re-wrapped, ${report.alreadyCurrent} already current` +
          `${report.newDataKeyId ? `, new data key ${report.newDataKeyId}` : ''}${pruned.length ? `; removed ${pruned.join(', ')} from the key file` : ''}` +
          `${sealedLabels ? `; sealed ${sealedLabels} card label(s) written in clear` : ''}` +
          `${sealedProviderIds ? `; sealed ${sealedProviderIds} provider customer id(s) written in clear` : ''}\n`,
      );
    return 0;
  });
}

/**
 * Records a rotation in every operator's audit log (the data keys protect all tenants' data alike), with the
 * counts and key ids, never key material. The rotation itself updates each data key on its own so that running
 * nodes never wait (rotate-keys.ts), so its record is one transaction appended once the rotation is done; a crash
 * in between leaves a rotation without a record, which `voltbill keys status` still shows.
 */
async function auditRotation(
  db: Kysely<Database>,
  result: RotationReport & {
    sealedLabels: number;
    sealedProviderIds: number;
    currentMasterKey: string;
    prunedMasterKeys: string[];
  },
  at: Date,
): Promise<void> {
  const operators = await db.selectFrom('operators').select('id').orderBy('id').execute();
  await db.transaction().execute(async (trx) => {
    for (const operator of operators) {
      await appendAudit(trx, {
        operatorId: operator.id,
        actor: 'cli',
        action: 'keys.rotate',
        subjectType: 'encryption-keys',
        subjectId: result.currentMasterKey,
        after: {
          currentMasterKey: result.currentMasterKey,
          rewrapped: result.rewrapped,
          alreadyCurrent: result.alreadyCurrent,
          newDataKeyId: result.newDataKeyId,
          sealedPlaintext: result.sealedPlaintext,
          sealedLabels: result.sealedLabels,
          sealedProviderIds: result.sealedProviderIds,
          prunedMasterKeys: result.prunedMasterKeys,
        },
        at,
      });
    }
  });
}
