/** `voltbill meters due`: the calibration due list on a real database (PGlite and PostgreSQL), text and JSON. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../src/cli.ts';
import { runCli } from '../src/cli.ts';
import { runMetersCommand } from '../src/commands/meters-command.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { seedDemo } from '../src/seed/seed-demo.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();

function captureIo(): CommandIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    isTTY: false,
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
  };
  return io;
}

async function databaseWithMeters() {
  const handle = await openTestDatabase();
  const seeded = (await seedDemo(handle.db, 'half-up'))!;
  const meter = (
    stationId: string,
    serial: string,
    validUntil: string | null,
    keySource: 'configured' | 'pinned' | null,
  ) => ({
    operator_id: seeded.operatorId,
    station_id: stationId,
    evse_id: 1,
    serial,
    public_key: keySource === null ? null : '3059...',
    key_source: keySource,
    calibration_certificate_ref: validUntil === null ? null : `CERT-${serial}`,
    calibration_valid_until: validUntil,
  });
  await handle.db
    .insertInto('meters')
    .values([
      meter('DEMO-0001', 'M-LAPSED', '2026-11-01', 'configured'),
      meter('DEMO-0002', 'M-SOON', '2026-12-20', 'pinned'),
      meter('DEMO-0003', 'M-LATER', '2027-06-30', 'configured'),
      meter('DEMO-0004', 'M-UNDATED', null, null),
    ])
    .execute();
  return handle;
}

const now = () => new Date('2026-11-26T09:00:00Z');

describe.skipIf(skip)('voltbill meters due', () => {
  // One database for the file (opening and migrating one is the slow part); the command's close() is a no-op here.
  let handle: DatabaseHandle;
  const open = async (): Promise<DatabaseHandle> => ({ ...handle, close: async () => {} });
  beforeAll(async () => {
    handle = await databaseWithMeters();
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('lists lapsed, due and undated meters as a table, soonest first', async () => {
    const io = captureIo();
    const code = await runMetersCommand(['due', '--days', '30'], io, { open, now });
    expect(code).toBe(0);
    expect(io.out).toBe(
      [
        '3 meter(s) due for calibration by 2026-12-26 (today 2026-11-26):',
        'STATION/EVSE  SERIAL     VALID UNTIL  STATUS   DAYS LEFT  CERTIFICATE    KEY',
        'DEMO-0004/1   M-UNDATED  -            unknown  -          -              none',
        'DEMO-0001/1   M-LAPSED   2026-11-01   lapsed   -25        CERT-M-LAPSED  configured',
        'DEMO-0002/1   M-SOON     2026-12-20   due      24         CERT-M-SOON    pinned',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON with --json, and a wider window includes later meters', async () => {
    const io = captureIo();
    expect(await runMetersCommand(['due', '--days', '365', '--json'], io, { open, now })).toBe(0);
    const report = JSON.parse(io.out);
    expect(report.today).toBe('2026-11-26');
    expect(report.dueUntil).toBe('2027-11-26');
    expect(
      report.meters.map((m: { serial: string; calibrationStatus: string; daysLeft: number | null }) => [
        m.serial,
        m.calibrationStatus,
        m.daysLeft,
      ]),
    ).toEqual([
      ['M-UNDATED', 'unknown', null],
      ['M-LAPSED', 'lapsed', -25],
      ['M-SOON', 'due', 24],
      ['M-LATER', 'due', 216],
    ]);
  });

  it('says so when nothing is due', async () => {
    await handle.db.deleteFrom('meters').execute();
    const io = captureIo();
    expect(await runMetersCommand(['due', '--days', '0'], io, { open, now })).toBe(0);
    expect(io.out).toBe('no meter is due for calibration by 2026-11-26 (today 2026-11-26)\n');
  });

  it('exits 2 with a usage message on bad arguments, without opening the database', async () => {
    const cases: [string[], string][] = [
      [['due'], 'voltbill meters: --days N is required\nusage: voltbill meters due --days N [--json]\n'],
      [
        ['due', '--days=-1'],
        "voltbill meters: --days must be a whole number from 0 to 3650, got '-1'\nusage: voltbill meters due --days N [--json]\n",
      ],
      [
        ['due', '--days', 'ten'],
        "voltbill meters: --days must be a whole number from 0 to 3650, got 'ten'\nusage: voltbill meters due --days N [--json]\n",
      ],
      [['list'], "voltbill meters: unknown subcommand 'list'\nusage: voltbill meters due --days N [--json]\n"],
    ];
    for (const [argv, message] of cases) {
      const io = captureIo();
      const code = await runMetersCommand(argv, io, {
        open: () => Promise.reject(new Error('must not open the database')),
      });
      expect([code, io.err]).toEqual([2, message]);
    }
    const io = captureIo();
    expect(await runCli(['meters'], io)).toBe(2);
    expect(io.err).toBe('voltbill meters: missing subcommand\nusage: voltbill meters due --days N [--json]\n');
  });
});
