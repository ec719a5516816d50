/**
 * The CLI contracts, run as a user runs them: `node bin/voltbill.js ...` in a child process, checking stdout and the
 * exit code (0 success, 1 not valid / failed, 2 invalid input). Embedded database only (the demo uses a temporary
 * PGlite folder by design).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { payloadWith, signedOcmf, TEST_KEYS } from '../../src/metering/ocmf/ocmf-test-kit.test-support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TANDEMDRIVE = 'test/conformance/tandemdrive-ocpi-tariffs/ocpi-tariffs/test_data/025kwh_start';

type Run = { code: number; stdout: string; stderr: string };

function voltbill(args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/voltbill.js', ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('voltbill demo --json', () => {
  it('prints every simulated session with its energy and price in the documented shape', async () => {
    const run = await voltbill(['demo', '--json', '--stations', '2', '--sessions', '2']);
    expect(run.code, run.stderr).toBe(0);
    const output = JSON.parse(run.stdout) as {
      sessions: {
        id: string;
        stationId: string;
        energyWh: number;
        totalCost: { exclVat: string; inclVat: string };
        currency: string;
      }[];
    };
    expect(output.sessions).toHaveLength(4);
    expect(new Set(output.sessions.map((s) => s.id)).size).toBe(4);
    for (const session of output.sessions) {
      expect(['DEMO-0001', 'DEMO-0002']).toContain(session.stationId);
      expect(session.currency).toBe('EUR');
      expect(Number.isInteger(session.energyWh) && session.energyWh > 0).toBe(true);
      expect(session.totalCost.exclVat).toMatch(/^\d+\.\d{2}$/);
      expect(session.totalCost.inclVat).toMatch(/^\d+\.\d{2}$/);
      // The demo tariff charges 19 % VAT on every component: incl. VAT is excl. VAT × 1.19, to within the
      // per-line rounding (at most one cent per line; the demo tariff has at most four lines).
      const exclCents = BigInt(session.totalCost.exclVat.replace('.', ''));
      const inclCents = BigInt(session.totalCost.inclVat.replace('.', ''));
      const expected = (exclCents * 119n + 50n) / 100n;
      expect(inclCents - expected <= 4n && expected - inclCents <= 4n).toBe(true);
    }
  }, 180_000);

  it('bills more than 30 sessions with its defaults, refusing only the starts its payment flows refuse', async () => {
    const run = await voltbill(['demo', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const output = JSON.parse(run.stdout) as {
      sessions: { stationId: string; payment?: { method: string } }[];
      reconciliation: { clean: boolean };
    };
    const perStation = new Map<string, number>();
    for (const s of output.sessions) perStation.set(s.stationId, (perStation.get(s.stationId) ?? 0) + 1);
    // 10 stations x 4 planned; DEMO0007's failing card is blocked after its first session, DEMO0008's wallet
    // (EUR 50.00) runs out during its second: those stations bill fewer, every other station bills all 4.
    expect(output.sessions.length).toBeGreaterThanOrEqual(30);
    for (const station of ['DEMO-0001', 'DEMO-0002', 'DEMO-0003', 'DEMO-0004', 'DEMO-0005', 'DEMO-0006']) {
      expect(perStation.get(station)).toBe(4);
    }
    expect(output.reconciliation.clean).toBe(true);
  }, 300_000);
});

describe('voltbill price', () => {
  it('prices a CDR with its tariff and prints the OCPI totals (exit 0)', async () => {
    const run = await voltbill([
      'price',
      '--tariff',
      `${TANDEMDRIVE}/tariff.json`,
      '--cdr',
      `${TANDEMDRIVE}/cdr1.json`,
      '--time-zone',
      'UTC',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const cdr = JSON.parse(run.stdout);
    expect(cdr.total_cost).toEqual({ excl_vat: 5.5, incl_vat: 6.1 });
  });

  it('refuses an invalid tariff with exit code 2 and the JSON path of the problem', async () => {
    const run = await voltbill([
      'price',
      '--tariff',
      'test/cli/fixtures/tariff-bad-price.json',
      '--cdr',
      `${TANDEMDRIVE}/cdr1.json`,
      '--time-zone',
      'UTC',
    ]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('$.elements[0].price_components[0].price');
  });

  it('refuses an unknown time zone with exit code 2', async () => {
    const run = await voltbill([
      'price',
      '--tariff',
      `${TANDEMDRIVE}/tariff.json`,
      '--cdr',
      `${TANDEMDRIVE}/cdr1.json`,
      '--time-zone',
      'Mars/Olympus',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Mars\/Olympus/);
  });
});

describe('voltbill verify-meter', () => {
  const reading = (tx: string, rv: string, time: string) =>
    `{"TM":"2025-03-11T${time},000+0100 S","TX":"${tx}","RV":${rv},"RI":"1-b:1.8.0","RU":"kWh","EF":"","ST":"G"}`;
  const record = signedOcmf(
    payloadWith({ PG: 'T43' }, [reading('B', '31.25', '19:00:00'), reading('E', '40', '20:00:00')]),
    'secp256r1',
  );
  const key = TEST_KEYS.secp256r1.spkiHex;

  it('exit 0 for a valid signature with consistent records, JSON verdict', async () => {
    const run = await voltbill(['verify-meter', '--json', '--public-key', key, record]);
    expect(run.code, run.stderr).toBe(0);
    const verdict = JSON.parse(run.stdout);
    expect(verdict.status).toBe('valid');
    expect(verdict.exitCode).toBe(0);
    expect(verdict.records[0].verdict.signature.status).toBe('valid');
  });

  it('exit 1 for a tampered payload (one digit of the end reading changed)', async () => {
    const tampered = record.replace('"RV":40,', '"RV":41,');
    expect(tampered).not.toBe(record);
    const run = await voltbill(['verify-meter', '--public-key', key, tampered]);
    expect(run.code).toBe(1);
  });

  it('exit 2 for input that is not OCMF', async () => {
    const run = await voltbill(['verify-meter', '--public-key', key, 'OCMF|{not json']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toBe('');
  });
});
