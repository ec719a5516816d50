/**
 * The embedded database keeps every record across restarts, and two processes never open the same data folder.
 * (PGlite on disk only: the PostgreSQL half of this concern is the server's.)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLocked, lockDataDir } from '../src/db/data-dir-lock.ts';
import { testBackend } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

describe.skipIf(testBackend !== 'pglite')('embedded data folder', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'voltbill-persist-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('keeps sessions and CDRs across a restart and does not seed twice', async () => {
    const first = await startTestServer({}, { dataDir });
    expect(first.seeded).toBeDefined();
    const station = await connectStation(first, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
    const started = await station.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 0,
      timestamp: '2026-11-25T10:00:00.000Z',
    });
    await station.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 1234,
      timestamp: '2026-11-25T10:30:00.000Z',
    });
    await station.close({ force: true });
    await first.close();

    const second = await startTestServer({}, { dataDir });
    try {
      expect(second.seeded).toBeUndefined();
      const sessions = await second.database.db.selectFrom('sessions').selectAll().execute();
      expect(sessions.map((s) => [s.transaction_id, s.energy_wh, s.billing_status])).toEqual([
        [String(started.transactionId), 1234n, 'Billed'],
      ]);
      const cdrs = await second.database.db.selectFrom('cdrs').select('total_excl_vat_minor').execute();
      // 1.234 kWh x 0.49 = 0.60466 -> 0.60, + 0.35 = 0.95
      expect(cdrs.map((c) => c.total_excl_vat_minor)).toEqual([95n]);
      const operators = await second.database.db.selectFrom('operators').select('id').execute();
      expect(operators).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('refuses a second process on the same folder, naming the holder, and takes over a dead holder lock', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'voltbill-lock-'));
    const lock = lockDataDir(folder, 'serve');
    try {
      expect(() => lockDataDir(folder, 'migrate')).toThrow(DataDirLocked);
      expect(() => lockDataDir(folder, 'migrate')).toThrow(
        new RegExp(`in use by process ${process.pid} \\(voltbill serve`),
      );
    } finally {
      lock.release();
    }
    // A lock file left by a process that no longer exists is stale.
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((resolve) => child.once('exit', resolve));
    fs.writeFileSync(
      path.join(folder, 'voltbill.lock'),
      JSON.stringify({ pid: deadPid, command: 'serve', startedAt: 'x' }),
    );
    const taken = lockDataDir(folder, 'serve');
    expect(JSON.parse(fs.readFileSync(taken.path, 'utf8')).pid).toBe(process.pid);
    taken.release();
    expect(fs.existsSync(taken.path)).toBe(false);
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
