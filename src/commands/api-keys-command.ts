/**
 * `voltbill api-keys create --name N --role R [--operator ID]` (the key is printed once), `voltbill api-keys list
 * [--operator ID] [--json]` (prefix, role, last use; never the key) and `voltbill api-keys revoke ID`.
 */
import { parseArgs } from 'node:util';
import { resolveOperator, UsageError, withConfiguredDatabase } from '../accounts/open-configured-database.ts';
import { API_ROLES, createApiKey, listApiKeys, revokeApiKey } from '../api/api-keys.ts';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import type { ApiRole } from '../db/schema.ts';

const USAGE = `usage: voltbill api-keys create --name NAME --role ${API_ROLES.join('|')} [--operator ID] [--json]
       voltbill api-keys list [--operator ID] [--json]
       voltbill api-keys revoke KEY_ID [--operator ID]`;

export async function runApiKeysCommand(
  argv: string[],
  io: CommandIo,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        role: { type: 'string' },
        operator: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }));
    if (sub === 'create') {
      if (!values.name || !values.role) throw new UsageError('--name and --role are required');
      if (!API_ROLES.includes(values.role as ApiRole))
        throw new UsageError(`--role must be one of ${API_ROLES.join(', ')}`);
    } else if (sub === 'revoke') {
      if (positionals.length !== 1) throw new UsageError('name the key id to revoke');
    } else if (sub !== 'list') throw new UsageError('unknown subcommand');
  } catch (error) {
    io.stderr(`voltbill api-keys: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(env);
  try {
    return await withConfiguredDatabase(config, 'api-keys', async (db) => {
      const operatorId = await resolveOperator(db, values.operator as string | undefined);
      const audit = { actor: 'cli', at: new Date() };
      if (sub === 'create') {
        const created = await createApiKey(db, operatorId, values.name as string, values.role as ApiRole, audit);
        if (values.json)
          io.stdout(`${JSON.stringify({ ...created, role: values.role, name: values.name }, null, 2)}\n`);
        else
          io.stdout(`created API key ${created.id} (${values.role})\nkey (shown once, store it now): ${created.key}\n`);
        return 0;
      }
      if (sub === 'revoke') {
        const revoked = await revokeApiKey(db, operatorId, positionals[0]!, audit).catch(() => false);
        if (!revoked) {
          io.stderr(`voltbill api-keys: no active key ${positionals[0]}\n`);
          return 1;
        }
        io.stdout(`revoked API key ${positionals[0]}\n`);
        return 0;
      }
      const keys = await listApiKeys(db, operatorId);
      if (values.json) io.stdout(`${JSON.stringify(keys, null, 2)}\n`);
      else
        for (const k of keys) {
          const state = k.revokedAt ? `revoked ${k.revokedAt}` : `last used ${k.lastUsedAt ?? 'never'}`;
          io.stdout(`${k.id}  ${(k.prefix ?? '?').padEnd(9)}…  ${k.role.padEnd(9)}  ${k.name}  (${state})\n`);
        }
      return 0;
    });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`voltbill api-keys: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
