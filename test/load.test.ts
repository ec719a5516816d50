/**
 * The load generator against a real Voltbill server (real sockets, real database, both backends): every session the
 * stations completed is stored once and billed with exactly one CDR, and nothing else is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionFleet } from '../src/load/provision-fleet.ts';
import { runLoad } from '../src/load/run-load.ts';
import type { RunningServer } from '../src/main.ts';
import { checkInvariants } from './chaos/chaos-checks.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

describe.skipIf(postgresSkipReason())('voltbill load against a real server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
    await provisionFleet(server.database.db, {
      stations: 4,
      firstStation: 1,
      stationPrefix: 'LOAD-',
      idTagPrefix: 'LT',
    });
    await provisionFleet(server.database.db, {
      stations: 4,
      firstStation: 1,
      stationPrefix: 'MIX-',
      idTagPrefix: 'MX',
    });
    // Starting a server with every migration takes long on a busy 2-core machine.
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  it('OCPP 1.6: every completed session billed exactly once, nothing left open', async () => {
    const report = await runLoad({
      url: server.ocppUrl,
      stations: 4,
      durationS: 3,
      meterIntervalS: 0.2,
      samplesPerSession: 2,
      idleS: 0.2,
      recordSessions: true,
      seed: 5,
    });
    expect(report.errors).toEqual({ total: 0, callErrors: {}, timeouts: 0, callsLost: 0 });
    expect(report.connections.bootsAccepted).toBe(4);
    expect(report.sessions.refused).toBe(0);
    expect(report.sessions.completed).toBe(report.sessions.started);
    expect(report.sessions.completed).toBeGreaterThanOrEqual(4);
    const results = await checkInvariants(server.database.db, report.completedSessions ?? [], 'LOAD-');
    expect(results.filter((result) => !result.ok)).toEqual([]);
  }, 60_000);

  it('mixed OCPP 1.6 and 2.0.1: both versions billed exactly once per session', async () => {
    const report = await runLoad({
      url: server.ocppUrl,
      stations: 4,
      durationS: 3,
      protocol: 'mixed',
      stationPrefix: 'MIX-',
      idTagPrefix: 'MX',
      meterIntervalS: 0.2,
      samplesPerSession: 2,
      idleS: 0.2,
      recordSessions: true,
      seed: 6,
    });
    expect(report.errors).toEqual({ total: 0, callErrors: {}, timeouts: 0, callsLost: 0 });
    expect(report.sessions.completed).toBe(report.sessions.started);
    const protocols = new Set((report.completedSessions ?? []).map((session) => session.protocol));
    expect([...protocols].sort()).toEqual(['ocpp1.6', 'ocpp2.0.1']);
    const results = await checkInvariants(server.database.db, report.completedSessions ?? [], 'MIX-');
    expect(results.filter((result) => !result.ok)).toEqual([]);
  }, 60_000);
});
