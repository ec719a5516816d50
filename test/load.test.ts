/**
 * The load generator against a real Voltbill server (real sockets, real database, both backends): every session the
 * stations completed is stored once and billed with exactly one CDR, and nothing else is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionFleet } from '../src/load/provision-fleet.ts';
import { runLoad } from '../src/load/run-load.ts';
import type { RunningServer } from '../src/main.ts';
import { checkInvariants, checkSignedSessions, checkStaleStatuses } from './chaos/chaos-checks.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

describe.skipIf(postgresSkipReason())('voltbill load against a real server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
    // One fleet of four stations per test, each with its own station and token prefixes.
    for (const [stationPrefix, idTagPrefix] of [
      ['LOAD-', 'LT'],
      ['MIX-', 'MX'],
      ['SWAP-', 'SW'],
      ['OLD-', 'OS'],
      ['SIGN-', 'SG'],
      ['UNSIGNED-', 'US'],
    ] as const) {
      await provisionFleet(server.database.db, { stations: 4, firstStation: 1, stationPrefix, idTagPrefix });
    }
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

  it('meter values delivered in swapped order (the later reading first) are all taken and billed the same', async () => {
    const report = await runLoad({
      url: server.ocppUrl,
      stations: 4,
      durationS: 3,
      protocol: 'mixed',
      stationPrefix: 'SWAP-',
      idTagPrefix: 'SW',
      meterIntervalS: 0.2,
      samplesPerSession: 3,
      idleS: 0.2,
      recordSessions: true,
      swappedMeterValueRate: 1,
      seed: 7,
    });
    expect(report.errors).toEqual({ total: 0, callErrors: {}, timeouts: 0, callsLost: 0 });
    expect(report.sessions.completed).toBe(report.sessions.started);
    // Every session swaps one pair, except one whose samples the drain cut short.
    expect(report.messages.swappedMeterValues).toBeGreaterThanOrEqual(report.sessions.completed - 4);
    expect(report.messages.swappedMeterValues).toBeGreaterThan(0);
    const results = await checkInvariants(server.database.db, report.completedSessions ?? [], 'SWAP-');
    expect(results.filter((result) => !result.ok)).toEqual([]);
    // Both readings of each swapped pair are stored, none dropped for arriving after a later one: one stored sample
    // per acknowledged MeterValues (1.6) and per TransactionEvent (2.0.1, each carries one reading).
    const stored = await server.database.db
      .selectFrom('meter_samples as m')
      .innerJoin('sessions as s', 's.id', 'm.session_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('s.station_id', 'like', 'SWAP-%')
      .executeTakeFirstOrThrow();
    const sent = (report.byAction.MeterValues?.count ?? 0) + (report.byAction.TransactionEvent?.count ?? 0);
    expect(sent).toBeGreaterThan(0);
    expect(Number(stored.n)).toBe(sent);
  }, 60_000);

  it("--signed: each session's signed begin and end stored, verified and billed; each meter key pinned once", async () => {
    const report = await runLoad({
      url: server.ocppUrl,
      stations: 4,
      durationS: 3,
      protocol: 'mixed',
      stationPrefix: 'SIGN-',
      idTagPrefix: 'SG',
      meterIntervalS: 0.2,
      samplesPerSession: 2,
      idleS: 0.2,
      recordSessions: true,
      signed: true,
      seed: 9,
    });
    expect(report.errors).toEqual({ total: 0, callErrors: {}, timeouts: 0, callsLost: 0 });
    expect(report.sessions.completed).toBe(report.sessions.started);
    expect(report.messages.signedReadings).toBe(2 * report.sessions.started);
    const completed = report.completedSessions ?? [];
    // Billed exactly once each: a session whose signed data did not prove its bill would be held, not billed.
    const results = await checkInvariants(server.database.db, completed, 'SIGN-');
    expect(results.filter((result) => !result.ok)).toEqual([]);
    const sessions = await server.database.db
      .selectFrom('sessions as s')
      .select(['s.id', 's.station_id', 's.billing_status', 's.findings', 's.energy_wh'])
      .select((eb) =>
        eb
          .selectFrom('session_signed_values as v')
          .select((inner) => inner.fn.countAll<string>().as('n'))
          .whereRef('v.session_id', '=', 's.id')
          .as('signed'),
      )
      .where('s.station_id', 'like', 'SIGN-%')
      .execute();
    expect(sessions).toHaveLength(completed.length);
    for (const session of sessions) {
      expect(Number(session.signed)).toBe(2);
      const findings = (typeof session.findings === 'string' ? JSON.parse(session.findings) : session.findings) as {
        code: string;
        severity: string;
      }[];
      expect(findings.filter((finding) => finding.severity === 'hold')).toEqual([]);
      expect(findings.map((finding) => finding.code)).toContain('SignedDataVerified');
    }
    const signedCheck = await checkSignedSessions(server.database.db, 'SIGN-');
    expect(signedCheck).toMatchObject({
      ok: true,
      detail: `${completed.length} completed sessions, 0 without verified signed data`,
    });
    // The crash test's check reports sessions without signed data (stations that do not sign).
    const unsigned = await runLoad({
      url: server.ocppUrl,
      stations: 2,
      durationS: 1,
      stationPrefix: 'UNSIGNED-',
      idTagPrefix: 'US',
      meterIntervalS: 0.1,
      samplesPerSession: 1,
      idleS: 0.1,
      seed: 10,
    });
    expect(unsigned.sessions.completed).toBeGreaterThan(0);
    const caught = await checkSignedSessions(server.database.db, 'UNSIGNED-');
    expect(caught.ok).toBe(false);
    expect(caught.detail).toMatch(
      new RegExp(
        `^${unsigned.sessions.completed} completed sessions, ${unsigned.sessions.completed} without verified signed data: .*: 0 signed values`,
      ),
    );
    // Trust on first use: one meter per station, its key taken from the first session's data, never replaced.
    const meters = await server.database.db
      .selectFrom('meters')
      .select(['station_id', 'serial', 'key_source'])
      .where('station_id', 'like', 'SIGN-%')
      .orderBy('station_id')
      .execute();
    expect(meters).toEqual(
      [1, 2, 3, 4].map((n) => ({
        station_id: `SIGN-0000${n}`,
        serial: `LM-SIGN-0000${n}`,
        key_source: 'pinned',
      })),
    );
  }, 60_000);

  it('an older status delivered after the acknowledged Available leaves the EVSE Available', async () => {
    const report = await runLoad({
      url: server.ocppUrl,
      stations: 4,
      durationS: 2,
      protocol: 'mixed',
      stationPrefix: 'OLD-',
      idTagPrefix: 'OS',
      meterIntervalS: 0.1,
      samplesPerSession: 1,
      idleS: 0.2,
      recordSessions: true,
      staleStatusRate: 1,
      seed: 8,
    });
    expect(report.errors).toEqual({ total: 0, callErrors: {}, timeouts: 0, callsLost: 0 });
    expect(report.messages.staleStatuses).toBe(report.sessions.completed);
    const completed = report.completedSessions ?? [];
    expect(completed.every((session) => session.staleStatusAfter)).toBe(true);
    const results = await checkInvariants(server.database.db, completed, 'OLD-');
    expect(results.filter((result) => !result.ok)).toEqual([]);
    const stale = await checkStaleStatuses(server.database.db, completed);
    expect(stale.detail).toMatch(/; 4 stations ended their last session so, 0 of them not Available$/);
    // The check can fail: an EVSE left on the older status is reported.
    await server.database.db
      .updateTable('evses')
      .set({ status: 'Charging' })
      .where('station_id', '=', 'OLD-00001')
      .where('evse_id', '=', 1)
      .execute();
    const caught = await checkStaleStatuses(server.database.db, completed);
    expect(caught.ok).toBe(false);
    expect(caught.detail).toMatch(/1 of them not Available: OLD-00001: Charging$/);
  }, 60_000);
});
