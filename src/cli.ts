/**
 * The `voltbill` command. Each subcommand is a function from arguments to an exit code: 0 success, 1 failure,
 * 2 invalid input or usage (the contract other tools rely on).
 */
import { readFile, stat } from 'node:fs/promises';
import { runApiKeysCommand } from './commands/api-keys-command.ts';
import { runAuditCommand } from './commands/audit-command.ts';
import { runCertsCommand } from './commands/certs-command.ts';
import { runDemoCommand } from './commands/demo-command.ts';
import { runKeysCommand } from './commands/keys-command.ts';
import { runLoadCommand } from './commands/load-command.ts';
import { runMetersCommand } from './commands/meters-command.ts';
import { runMigrateCommand } from './commands/migrate-command.ts';
import { runPaymentsCommand } from './commands/payments-command.ts';
import { runReconcileCommand } from './commands/reconcile-command.ts';
import { runServeCommand } from './commands/serve-command.ts';
import { runStationsCommand } from './commands/stations-command.ts';
import { runUsersCommand } from './commands/users-command.ts';
import { ConfigError } from './config.ts';
import { DataDirLocked } from './db/data-dir-lock.ts';
import { runVerifyMeterCommand } from './metering/verify-meter-command.ts';
import { runSimulateCommand } from './sim/simulate-command.ts';
import { runPriceCommand } from './tariff/price-command.ts';

export type CommandIo = {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
};

const USAGE = `voltbill — billing and payments backend for EV charging

usage: voltbill <command> [options]

commands:
  serve [--no-seed]            run the OCPP gateway and the HTTP API (npm start)
  demo [--json] [--stations N] [--sessions M] [--speed X]
                               start a server in-process, simulate stations, print the billed sessions
  simulate --url URL --stations N --sessions M [--speed X] [--protocol ocpp1.6|ocpp2.0.1|mixed]
                               simulated OCPP stations against any server
  load --stations N --duration S [--protocol ocpp1.6|ocpp2.0.1|mixed] [--url URL] [--meter-interval S] [--json]
                               load generator: thousands of lean stations; messages/s, latency p50/p95/p99, errors
  price --tariff T.json (--cdr C.json | --session S.json) --time-zone ZONE [--rounding half-up|half-even]
                               price a session with an OCPI 2.2.1 tariff; prints the priced CDR
  verify-meter [--public-key KEY] [--json] (OCMF_STRING | FILE)
                               verify signed meter values (OCMF); exit 0 valid, 1 not valid, 2 malformed
  meters due --days N [--json] meters whose calibration lapses within N days (lapsed and undated included)
  reconcile [--from DATE --to DATE] [--json]
                               check sessions, CDRs, invoices, ledger and payments agree; exit 0 clean, 1 differences
  users create --email E --role R [--name N] [--customer ID] [--operator ID] [--password P] | users list
                               staff and driver accounts (a generated password is shown once)
  api-keys create --name N --role R | api-keys list | api-keys revoke ID
                               API keys for machines (the key is shown once; list shows prefix and last use)
  keys rotate [--new-data-key] | keys status
                               re-wrap the data encryption keys under a new master key (no downtime)
  audit verify [--json]        check the audit log's hash chains; exit 0 intact, 1 edited or deleted entries
  stations add|list|show|set-password|remove|command
                               register stations with their OCPP security profile (1 Basic auth, 2 TLS + Basic
                               auth, 3 mutual TLS) and password; remote commands via a running node's API
  certs --out DIR [--host H] [--station ID]
                               a test CA, server and station certificates for security profiles 2 and 3
  payments outbox [--failed] | payments retry ID | payments dunning [--open]  [--json]
                               payment worker items pending or given up, retry one, dunning state
  migrate                      apply database migrations
  help                         this text

Configuration comes from VOLTBILL_* environment variables and DATABASE_URL (see README.md).`;

export async function runCli(argv: string[], io: CommandIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await runServeCommand(rest, io);
      case 'demo':
        return await runDemoCommand(rest, io);
      case 'simulate':
        return await runSimulateCommand(rest, io);
      case 'load':
        return await runLoadCommand(rest, io);
      case 'price':
        return await runPriceCommand(rest, { ...io, readFile: (path: string) => readFile(path, 'utf8') });
      case 'verify-meter':
        return await runVerifyMeterCommand(rest, {
          ...io,
          readFile: (path: string) => readFile(path, 'utf8'),
          fileExists: (path: string) =>
            stat(path).then(
              (s) => s.isFile(),
              () => false,
            ),
        });
      case 'meters':
        return await runMetersCommand(rest, io);
      case 'reconcile':
        return await runReconcileCommand(rest, io);
      case 'payments':
        return await runPaymentsCommand(rest, io);
      case 'users':
        return await runUsersCommand(rest, io);
      case 'api-keys':
        return await runApiKeysCommand(rest, io);
      case 'keys':
        return await runKeysCommand(rest, io);
      case 'audit':
        return await runAuditCommand(rest, io);
      case 'stations':
        return await runStationsCommand(rest, io);
      case 'certs':
        return await runCertsCommand(rest, io);
      case 'migrate':
        return await runMigrateCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        io.stderr(`voltbill: unknown command '${command}'\n\n${USAGE}\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataDirLocked) {
      io.stderr(`voltbill: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

function processIo(): CommandIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stderr.isTTY),
  };
}
