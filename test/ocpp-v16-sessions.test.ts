/**
 * OCPP 1.6J sessions end to end: a real OCPP client over a real socket drives the gateway; the stored sessions,
 * samples and CDRs are checked to the cent. Runs on embedded PGlite and on PostgreSQL (see vitest.config.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, type Station, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

type Sv = { value: string; measurand?: string; unit?: string; context?: string };
const meter = (timestamp: string, values: Sv[]) => ({ timestamp, sampledValue: values });
const energy = (wh: string, unit = 'Wh'): Sv => ({ value: wh, measurand: 'Energy.Active.Import.Register', unit });
const power = (w: string): Sv => ({ value: w, measurand: 'Power.Active.Import', unit: 'W' });

describe.skipIf(skip)('OCPP 1.6J sessions', () => {
  let server: RunningServer;
  const stations: Station[] = [];

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    for (const s of stations) await s.close({ force: true });
    await server?.close();
  });

  async function bootedStation(id: string): Promise<Station> {
    const station = await connectStation(server, id);
    stations.push(station);
    const boot = await station.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'T1' });
    expect(boot.status).toBe('Accepted');
    return station;
  }

  const db = () => server.database.db;
  const sessionOf = (stationId: string, transactionId: number) =>
    db()
      .selectFrom('sessions')
      .selectAll()
      .where('station_id', '=', stationId)
      .where('transaction_id', '=', String(transactionId))
      .executeTakeFirstOrThrow();
  const samplesOf = async (sessionId: string) =>
    Number(
      (
        await db()
          .selectFrom('meter_samples')
          .select(db().fn.countAll().as('n'))
          .where('session_id', '=', sessionId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const cdrOf = (sessionId: string) =>
    db().selectFrom('cdrs').selectAll().where('session_id', '=', sessionId).executeTakeFirst();

  it('boots known stations with the configured heartbeat interval and rejects unknown ones', async () => {
    const known = await connectStation(server, 'DEMO-0009');
    stations.push(known);
    const accepted = await known.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X' });
    expect(accepted).toMatchObject({ status: 'Accepted', interval: 300 });
    const row = await db().selectFrom('stations').selectAll().where('id', '=', 'DEMO-0009').executeTakeFirstOrThrow();
    expect([row.vendor, row.model, row.ocpp_version]).toEqual(['ACME', 'X', 'ocpp1.6']);

    const stranger = await connectStation(server, 'NOBODY-1');
    stations.push(stranger);
    const rejected = await stranger.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X' });
    expect(rejected.status).toBe('Rejected');
    const start = stranger.call('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 0,
      timestamp: '2026-11-25T10:00:00Z',
    });
    await expect(start).rejects.toMatchObject({ rpcErrorCode: 'SecurityError' });
    const count = await db()
      .selectFrom('sessions')
      .select(db().fn.countAll().as('n'))
      .where('station_id', '=', 'NOBODY-1')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('answers Authorize with Accepted, Invalid, Blocked and Expired', async () => {
    const station = await bootedStation('DEMO-0008');
    const status = async (idTag: string) =>
      ((await station.call('Authorize', { idTag })) as { idTagInfo: { status: string } }).idTagInfo.status;
    expect(await status('DEMO0008')).toBe('Accepted');
    expect(await status('demo0008')).toBe('Accepted');
    expect(await status('UNKNOWN-CARD')).toBe('Invalid');
    expect(await status('BLOCKED01')).toBe('Blocked');
    expect(await status('EXPIRED01')).toBe('Expired');
  });

  it('bills a session to the cent: energy, session fee and parking time in Europe/Berlin', async () => {
    const station = await bootedStation('DEMO-0001');
    // 10:00Z is 11:00 in Berlin: the day energy price 0.49 EUR/kWh applies.
    const start = await station.call<{ transactionId: number; idTagInfo: { status: string } }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 1000,
      timestamp: '2026-11-25T10:00:00.000Z',
    });
    expect(start.idTagInfo.status).toBe('Accepted');
    expect(start.transactionId).toBeGreaterThan(0);
    await station.call('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Charging',
      timestamp: '2026-11-25T10:00:00.000Z',
    });
    for (let minute = 15; minute <= 60; minute += 15) {
      const at = new Date(Date.parse('2026-11-25T10:00:00.000Z') + minute * 60_000).toISOString();
      await station.call('MeterValues', {
        connectorId: 1,
        transactionId: start.transactionId,
        meterValue: [meter(at, [energy(String(1000 + (minute * 20000) / 60)), power('20000')])],
      });
    }
    // Full at 11:00Z; the car stays parked for 40 minutes.
    await station.call('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'SuspendedEV',
      timestamp: '2026-11-25T11:00:00.000Z',
    });
    const stop = await station.call('StopTransaction', {
      transactionId: start.transactionId,
      meterStop: 21000,
      timestamp: '2026-11-25T11:40:00.000Z',
      idTag: 'DEMO0001',
      reason: 'EVDisconnected',
    });
    expect(stop).toEqual({ idTagInfo: { status: 'Accepted' } });

    const session = await sessionOf('DEMO-0001', start.transactionId);
    expect(session).toMatchObject({
      status: 'Completed',
      billing_status: 'Billed',
      energy_wh: 20000n,
      meter_start_wh: 1000n,
      meter_stop_wh: 21000n,
    });
    const cdr = await cdrOf(session.id);
    // energy 20 kWh x 0.49 = 9.80; session fee 0.35; parking 40 min x 6.00/h = 4.00; total 14.15 excl.
    // incl. 19% VAT per line: 11.662 -> 11.66, 0.4165 -> 0.42, 4.76 -> 4.76; total 16.84.
    expect(cdr?.total_excl_vat_minor).toBe(1415n);
    expect(cdr?.total_incl_vat_minor).toBe(1684n);
    const ocpi = cdr?.cdr as Record<string, unknown>;
    expect(ocpi.total_energy).toBe(20);
    expect(ocpi.total_parking_time).toBe(0.666666667);
    expect((ocpi.cdr_location as { time_zone?: string; evse_uid: string }).evse_uid).toBe('DE*VBL*E0001*1');
  });

  it('gives a repeated StartTransaction the same transaction id and a repeated StopTransaction changes nothing', async () => {
    const station = await bootedStation('DEMO-0002');
    const request = { connectorId: 1, idTag: 'DEMO0002', meterStart: 500, timestamp: '2026-11-25T12:00:00.000Z' };
    const first = await station.call<{ transactionId: number }>('StartTransaction', request);
    const again = await station.call<{ transactionId: number }>('StartTransaction', request);
    expect(again.transactionId).toBe(first.transactionId);
    const rows = await db().selectFrom('sessions').select('id').where('station_id', '=', 'DEMO-0002').execute();
    expect(rows).toHaveLength(1);

    const stopRequest = {
      transactionId: first.transactionId,
      meterStop: 10_500,
      timestamp: '2026-11-25T13:00:00.000Z',
      idTag: 'DEMO0002',
    };
    await station.call('StopTransaction', stopRequest);
    const session = await sessionOf('DEMO-0002', first.transactionId);
    const cdr = await cdrOf(session.id);
    const samplesAtStop = await samplesOf(session.id);
    // 10 kWh x 0.49 + 0.35 = 5.25 excl; 5.831 -> 5.83 + 0.4165 -> 0.42 = 6.25 incl.
    expect([cdr?.total_excl_vat_minor, cdr?.total_incl_vat_minor]).toEqual([525n, 625n]);

    const repeated = await station.call('StopTransaction', { ...stopRequest, meterStop: 99_999 });
    expect(repeated).toEqual({ idTagInfo: { status: 'Accepted' } });
    await station.call('MeterValues', {
      connectorId: 1,
      transactionId: first.transactionId,
      meterValue: [meter('2026-11-25T13:05:00.000Z', [energy('50000')])],
    });
    const after = await sessionOf('DEMO-0002', first.transactionId);
    expect([after.energy_wh, after.meter_stop_wh]).toEqual([10_000n, 10_500n]);
    expect(await samplesOf(session.id)).toBe(samplesAtStop);
    const cdrs = await db().selectFrom('cdrs').selectAll().where('session_id', '=', session.id).execute();
    expect(cdrs).toHaveLength(1);
    expect(cdrs[0]?.total_excl_vat_minor).toBe(525n);
  });

  it('answers stops and meter values for transactions the station never received, and bills nobody', async () => {
    const owner = await bootedStation('DEMO-0003');
    const other = await bootedStation('DEMO-0004');
    const started = await owner.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0003',
      meterStart: 0,
      timestamp: '2026-11-25T14:00:00.000Z',
    });
    for (const transactionId of [started.transactionId, 0, -1, 123456789]) {
      const reply = await other.call('StopTransaction', {
        transactionId,
        meterStop: 5000,
        timestamp: '2026-11-25T14:30:00.000Z',
      });
      expect(reply).toEqual({});
      const withTag = await other.call('StopTransaction', {
        transactionId,
        meterStop: 5000,
        timestamp: '2026-11-25T14:30:00.000Z',
        idTag: 'DEMO0004',
      });
      expect(withTag).toEqual({ idTagInfo: { status: 'Invalid' } });
      expect(
        await other.call('MeterValues', {
          connectorId: 1,
          transactionId,
          meterValue: [meter('2026-11-25T14:10:00.000Z', [energy('99')])],
        }),
      ).toEqual({});
    }
    const session = await sessionOf('DEMO-0003', started.transactionId);
    expect(session).toMatchObject({ status: 'Active', ended_at: null });
    expect(await samplesOf(session.id)).toBe(0);
    expect(await cdrOf(session.id)).toBeUndefined();
    const otherSessions = await db()
      .selectFrom('sessions')
      .select('id')
      .where('station_id', '=', 'DEMO-0004')
      .execute();
    expect(otherSessions).toHaveLength(0);
  });

  it('holds a session whose meter went backwards instead of billing it negative', async () => {
    const station = await bootedStation('DEMO-0005');
    const started = await station.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0005',
      meterStart: 50_000,
      timestamp: '2026-11-25T15:00:00.000Z',
    });
    await station.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 40_000,
      timestamp: '2026-11-25T16:00:00.000Z',
    });
    const session = await sessionOf('DEMO-0005', started.transactionId);
    expect(session).toMatchObject({ status: 'Completed', billing_status: 'Held', energy_wh: null });
    expect((session.findings as { code: string; severity: string }[]).map((f) => [f.code, f.severity])).toContainEqual([
      'MeterWentBackwards',
      'hold',
    ]);
    expect(await cdrOf(session.id)).toBeUndefined();
  });

  it('bills meter values sent in kWh exactly like the same values in Wh', async () => {
    const runSession = async (stationId: string, idTag: string, unit: 'Wh' | 'kWh') => {
      const station = await bootedStation(stationId);
      const started = await station.call<{ transactionId: number }>('StartTransaction', {
        connectorId: 1,
        idTag,
        meterStart: 2000,
        timestamp: '2026-11-25T20:30:00.000Z',
      });
      // Crosses 22:00 Berlin (21:00Z): energy before is 0.49, after 0.39 EUR/kWh, so the samples decide the split.
      const readings: [string, number][] = [
        ['2026-11-25T20:45:00.000Z', 4_345],
        ['2026-11-25T21:00:00.000Z', 6_789],
        ['2026-11-25T21:15:00.000Z', 9_001],
      ];
      for (const [at, wh] of readings) {
        const value = unit === 'Wh' ? String(wh) : (wh / 1000).toFixed(3);
        await station.call('MeterValues', {
          connectorId: 1,
          transactionId: started.transactionId,
          meterValue: [meter(at, [energy(value, unit)])],
        });
      }
      await station.call('StopTransaction', {
        transactionId: started.transactionId,
        meterStop: 11_000,
        timestamp: '2026-11-25T21:30:00.000Z',
      });
      const session = await sessionOf(stationId, started.transactionId);
      return { session, cdr: await cdrOf(session.id) };
    };
    const inWh = await runSession('DEMO-0006', 'DEMO0006', 'Wh');
    const inKwh = await runSession('DEMO-0007', 'DEMO0007', 'kWh');
    expect(inKwh.session.energy_wh).toBe(9000n);
    expect(inWh.session.energy_wh).toBe(9000n);
    // 4.789 kWh x 0.49 = 2.34661 + 4.211 kWh x 0.39 = 1.64229, + 0.35 => 4.3389 -> lines 2.35 + 1.64 + 0.35 = 4.34
    expect(inWh.cdr?.total_excl_vat_minor).toBe(434n);
    expect(inKwh.cdr?.total_excl_vat_minor).toBe(inWh.cdr?.total_excl_vat_minor);
    expect(inKwh.cdr?.total_incl_vat_minor).toBe(inWh.cdr?.total_incl_vat_minor);
  });

  it('logs every frame received and sent', async () => {
    const station = await bootedStation('DEMO-0010');
    await station.call('Heartbeat', {});
    // Outbound frames are logged as they leave; wait until the writer has caught up with them.
    const read = () =>
      db()
        .selectFrom('ocpp_messages')
        .select(['direction', 'action', 'message_type'])
        .where('station_id', '=', 'DEMO-0010')
        .orderBy('id')
        .execute();
    let rows = await read();
    for (let attempt = 0; attempt < 50 && rows.length < 4; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      rows = await read();
    }
    expect(rows.slice(0, 4)).toEqual([
      { direction: 'in', action: 'BootNotification', message_type: 2 },
      { direction: 'out', action: null, message_type: 3 },
      { direction: 'in', action: 'Heartbeat', message_type: 2 },
      { direction: 'out', action: null, message_type: 3 },
    ]);
  });
});
