/**
 * `voltbill users create --email E --role R [--name N] [--customer ID] [--operator ID] [--password P]` and
 * `voltbill users list [--operator ID] [--json]`. Without --password a random one is generated and shown once.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { resolveOperator, UsageError, withConfiguredDatabase } from '../accounts/open-configured-database.ts';
import { createUser, USER_ROLES, userView } from '../accounts/user-store.ts';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';
import type { UserRole } from '../db/schema.ts';

const USAGE = `usage: voltbill users create --email EMAIL --role ${USER_ROLES.join('|')} [--name NAME] [--customer ID] [--operator ID] [--password P]
       voltbill users list [--operator ID] [--json]`;

export async function runUsersCommand(
  argv: string[],
  io: CommandIo,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        email: { type: 'string' },
        role: { type: 'string' },
        name: { type: 'string' },
        customer: { type: 'string' },
        operator: { type: 'string' },
        password: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }));
    if (sub !== 'create' && sub !== 'list') throw new UsageError('unknown subcommand');
    if (sub === 'create' && (!values.email || !values.role)) throw new UsageError('--email and --role are required');
    if (sub === 'create' && !USER_ROLES.includes(values.role as UserRole))
      throw new UsageError(`--role must be one of ${USER_ROLES.join(', ')}`);
  } catch (error) {
    io.stderr(`voltbill users: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(env);
  try {
    return await withConfiguredDatabase(config, 'users', async (db, cipher) => {
      const operatorId = await resolveOperator(db, values.operator as string | undefined);
      if (sub === 'list') {
        const rows = await db
          .selectFrom('users')
          .selectAll()
          .where('operator_id', '=', operatorId)
          .orderBy('created_at')
          .execute();
        const c = await cipher();
        const users = await Promise.all(rows.map((row) => userView(c, row)));
        if (values.json) io.stdout(`${JSON.stringify(users, null, 2)}\n`);
        else
          for (const u of users)
            io.stdout(`${u.id}  ${u.role.padEnd(9)}  ${u.email}${u.disabledAt ? '  (disabled)' : ''}\n`);
        return 0;
      }
      const generated = values.password === undefined;
      const password = (values.password as string | undefined) ?? randomBytes(15).toString('base64url');
      const result = await createUser(
        db,
        await cipher(),
        {
          operatorId,
          email: values.email as string,
          name: (values.name as string | undefined) ?? null,
          password,
          role: values.role as UserRole,
          customerId: (values.customer as string | undefined) ?? null,
        },
        { actor: 'cli', at: new Date() },
      );
      if (!result.ok) {
        io.stderr(`voltbill users: ${result.error.message}\n`);
        return result.error.code === 'InvalidRequest' ? 2 : 1;
      }
      if (values.json) io.stdout(`${JSON.stringify({ ...result.user, ...(generated && { password }) }, null, 2)}\n`);
      else {
        io.stdout(`created user ${result.user.id} (${result.user.role}) ${result.user.email}\n`);
        if (generated) io.stdout(`password (shown once): ${password}\n`);
      }
      return 0;
    });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`voltbill users: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
