import { afterEach, describe, expect, it } from 'vitest';
import { runSimulateCommand } from './simulate-command.ts';
import type { SimulationSummary } from './summary.ts';
import { type CsmsStub, startCsmsStub } from './testing/csms-stub.ts';

let stub: CsmsStub | undefined;

afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

function captureIo(isTTY = false) {
  const out: string[] = [];
  const errors: string[] = [];
  return {
    out,
    errors,
    io: { stdout: (text: string) => out.push(text), stderr: (text: string) => errors.push(text), isTTY },
  };
}

describe('voltbill simulate', () => {
  it('exits 2 with a message naming the flag on invalid arguments', async () => {
    const { io, out, errors } = captureIo();
    expect(await runSimulateCommand(['--url', 'ws://x/ocpp', '--stations', 'many', '--sessions', '1'], io)).toBe(2);
    expect(out).toEqual([]);
    expect(errors.join('')).toBe(
      'voltbill simulate: --stations must be a non-negative number (got "many")\n' +
        "Run 'voltbill simulate --help' for the options.\n",
    );
  });

  it('prints its usage with --help', async () => {
    const { io, out } = captureIo();
    expect(await runSimulateCommand(['--help'], io)).toBe(0);
    expect(out.join('')).toContain('Usage: voltbill simulate --url URL --stations N --sessions M [options]');
  });

  it('runs and prints the summary as JSON, exiting 0 when every session completed', async () => {
    stub = await startCsmsStub();
    const { io, out, errors } = captureIo(true);
    const argv = ['--url', stub.url, '--stations', '2', '--sessions', '1', '--speed', '20000', '--seed', '5', '--json'];
    expect(await runSimulateCommand(argv, io)).toBe(0);
    // --json suppresses the progress bar even on a terminal, so stdout holds only the document.
    expect(errors).toEqual([]);
    const summary = JSON.parse(out.join('')) as SimulationSummary;
    expect(summary.seed).toBe(5);
    expect(summary.sessions).toEqual({ planned: 2, started: 2, completed: 2, refused: 0, failed: 0, remote: 0 });
    expect(summary.sessionRecords.map((record) => [record.stationId, record.status])).toEqual([
      ['DEMO-0001', 'completed'],
      ['DEMO-0002', 'completed'],
    ]);
  });

  it('draws a progress bar on a terminal and prints the table', async () => {
    stub = await startCsmsStub({ idTagStatus: () => 'Invalid' });
    const { io, out, errors } = captureIo(true);
    const argv = ['--url', stub.url, '--stations', '1', '--sessions', '2', '--speed', '20000', '--seed', '5'];
    // Refused sessions are an answer of the CSMS, not a failure of the run.
    expect(await runSimulateCommand(argv, io)).toBe(0);
    expect(errors.join('')).toContain('2/2 | 1 stations');
    expect(out.join('')).toContain('  sessions     2 planned, 0 started: 0 completed, 2 refused, 0 failed\n');
  });
});
