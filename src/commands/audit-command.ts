/** `voltbill audit verify [--operator ID] [--json]`: re-computes the audit hash chains; exit 0 intact, 1 broken. */
import { parseArgs } from 'node:util';
import { withConfiguredDatabase } from '../accounts/open-configured-database.ts';
import { verifyAuditChain } from '../audit/verify-audit-chain.ts';
import type { CommandIo } from '../cli.ts';
import { loadConfig } from '../config.ts';

const USAGE = 'usage: voltbill audit verify [--operator ID] [--json]';

export async function runAuditCommand(
  argv: string[],
  io: CommandIo,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  let values: { operator?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: { operator: { type: 'string' }, json: { type: 'boolean', default: false } },
    }));
    if (sub !== 'verify') throw new Error('unknown subcommand');
  } catch (error) {
    io.stderr(`voltbill audit: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(env);
  return withConfiguredDatabase(config, 'audit', async (db) => {
    const report = await verifyAuditChain(db, values.operator ? { operatorId: values.operator } : {});
    if (values.json) {
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      io.stdout(`${report.entries} entries in ${report.operators} chain(s): ${report.ok ? 'intact' : 'BROKEN'}\n`);
      for (const head of report.heads)
        io.stdout(`  operator ${head.operatorId}: head seq ${head.seq} hash ${head.hash}\n`);
      for (const p of report.problems) io.stdout(`  ${p.kind} at operator ${p.operatorId} seq ${p.seq}: ${p.detail}\n`);
    }
    return report.ok ? 0 : 1;
  });
}
