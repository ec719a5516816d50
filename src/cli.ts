/**
 * The `voltbill` command. Each subcommand is a function from arguments to an exit code: 0 success, 1 failure,
 * 2 invalid input or usage (the contract other tools rely on).
 */
import { readFile, stat } from 'node:fs/promises';
import { runDemoCommand } from './commands/demo-command.ts';
import { runMigrateCommand } from './commands/migrate-command.ts';
import { runServeCommand } from './commands/serve-command.ts';
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
  simulate --url URL --stations N --sessions M [--speed X]
                               simulated OCPP 1.6J stations against any server
  price --tariff T.json (--cdr C.json | --session S.json) --time-zone ZONE [--rounding half-up|half-even]
                               price a session with an OCPI 2.2.1 tariff; prints the priced CDR
  verify-meter [--public-key KEY] [--json] (OCMF_STRING | FILE)
                               verify signed meter values (OCMF); exit 0 valid, 1 not valid, 2 malformed
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
