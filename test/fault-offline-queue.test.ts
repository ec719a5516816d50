/**
 * Fault: stations that were offline for hours come back and deliver their whole queue at once — hundreds of
 * transactions that happened while the CSMS could not hear them. Every session must be billed exactly once, at the
 * time it happened (the station's timestamps, not the arrival time), to the cent, with one gapless invoice each.
 *
 * - OCPP 1.6J: a station cannot know a transaction id while offline, so it sends each queued StartTransaction as
 *   soon as it reconnects and the session's MeterValues and StopTransaction right after the answer, back to back.
 * - OCPP 2.0.1: the station owns its transaction ids, so every queued TransactionEvent (offline: true) is handed to
 *   the connection at once; the client delivers them one call at a time, in order, without pauses.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { connectV201Station, meterValue, transactionEvent } from './support/ocpp-v201-client.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

/**
 * Queued sessions per station, 3 minutes apart from 06:00Z (07:00 in Berlin, the day tariff): 5 hours of a 1.6
 * station's queue, 10 hours of a 2.0.1 station's.
 */
const SESSIONS_V16 = 100;
const SESSIONS_V201 = 200;
const FIRST_START_MS = Date.parse('2026-11-20T06:00:00.000Z');
const SESSION_GAP_MS = 180_000;
/** Each session: 600 Wh in 150 s (14.4 kW), one meter value half way. */
const ENERGY_WH = 600;
const DURATION_MS = 150_000;
// 0.6 kWh x 0.49 = 0.294 -> 0.29 excl, 0.34986 -> 0.35 incl; session fee 0.35 excl, 0.4165 -> 0.42 incl.
const EXPECTED_EXCL_MINOR = 64n;
const EXPECTED_INCL_MINOR = 77n;

const iso = (ms: number) => new Date(ms).toISOString();
const startOf = (i: number) => FIRST_START_MS + i * SESSION_GAP_MS;

describe.skipIf(skip)('stations offline for hours deliver their queued transactions at once', () => {
  let server: RunningServer;
  const db = () => server.database.db;

  beforeAll(async () => {
    // A station emptying its queue sends as fast as it is answered: far more than the default 50 requests/s a
    // station may send. With the default limits, so that the test shows what a real fleet gets: the gateway slows
    // such a station to its rate (src/ocpp/call-throttle.ts) instead of refusing its requests and then
    // disconnecting it for too many bad messages, as it did before.
    server = await startTestServer({ VOLTBILL_OCPP_COST_UPDATE_INTERVAL_S: '3600' });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  /** The station's sessions as stored, in the order they happened, with their CDR and invoice. */
  async function billedSessions(stationId: string) {
    return sql<{
      transaction_id: string;
      status: string;
      billing_status: string;
      started_at: Date;
      ended_at: Date;
      energy_wh: string | bigint;
      cdrs: string | bigint;
      total_excl_vat_minor: string | bigint;
      total_incl_vat_minor: string | bigint;
      invoices: string | bigint;
    }>`select s.transaction_id, s.status, s.billing_status, s.started_at, s.ended_at, s.energy_wh,
              (select count(*) from cdrs c where c.session_id = s.id) as cdrs,
              (select max(c.total_excl_vat_minor) from cdrs c where c.session_id = s.id) as total_excl_vat_minor,
              (select max(c.total_incl_vat_minor) from cdrs c where c.session_id = s.id) as total_incl_vat_minor,
              (select count(*) from invoice_sessions i where i.session_id = s.id) as invoices
         from sessions s where s.station_id = ${stationId} order by s.started_at`.execute(db());
  }

  function expectAllBilledOnce(rows: Awaited<ReturnType<typeof billedSessions>>['rows'], sessions: number) {
    expect(rows).toHaveLength(sessions);
    rows.forEach((row, i) => {
      expect(row.started_at.toISOString()).toBe(iso(startOf(i)));
      expect(row.ended_at.toISOString()).toBe(iso(startOf(i) + DURATION_MS));
      expect([row.status, row.billing_status, Number(row.energy_wh), Number(row.cdrs), Number(row.invoices)]).toEqual([
        'Completed',
        'Billed',
        ENERGY_WH,
        1,
        1,
      ]);
      expect([BigInt(row.total_excl_vat_minor), BigInt(row.total_incl_vat_minor)]).toEqual([
        EXPECTED_EXCL_MINOR,
        EXPECTED_INCL_MINOR,
      ]);
    });
  }

  it('OCPP 1.6J: 100 queued sessions, sent back to back after the reconnect, are billed once each at their own time', async () => {
    const station = await connectStation(server, 'DEMO-0005');
    try {
      expect((await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'Q' })).status).toBe(
        'Accepted',
      );
      let registerWh = 40_000;
      for (let i = 0; i < SESSIONS_V16; i += 1) {
        const startMs = startOf(i);
        const started = await station.call<{ transactionId: number; idTagInfo: { status: string } }>(
          'StartTransaction',
          { connectorId: 1, idTag: 'DEMO0005', meterStart: registerWh, timestamp: iso(startMs) },
        );
        expect(started.idTagInfo.status).toBe('Accepted');
        await station.call('MeterValues', {
          connectorId: 1,
          transactionId: started.transactionId,
          meterValue: [
            {
              timestamp: iso(startMs + DURATION_MS / 2),
              sampledValue: [
                { value: String(registerWh + ENERGY_WH / 2), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
                { value: '14400', measurand: 'Power.Active.Import', unit: 'W' },
              ],
            },
          ],
        });
        registerWh += ENERGY_WH;
        const stopped = await station.call('StopTransaction', {
          transactionId: started.transactionId,
          meterStop: registerWh,
          timestamp: iso(startMs + DURATION_MS),
          idTag: 'DEMO0005',
          reason: 'EVDisconnected',
        });
        expect(stopped).toEqual({ idTagInfo: { status: 'Accepted' } });
      }
    } finally {
      await station.close({ force: true });
    }
    expectAllBilledOnce((await billedSessions('DEMO-0005')).rows, SESSIONS_V16);
  }, 300_000);

  it('OCPP 2.0.1: 800 queued TransactionEvents handed over at once are billed once each, in order, at their own time', async () => {
    const station = await connectV201Station(server, 'DEMO-0006');
    try {
      const boot = await station.call('BootNotification', {
        reason: 'PowerUp',
        chargingStation: { model: 'Q', vendorName: 'T' },
      });
      expect(boot.status).toBe('Accepted');
      const queue: Record<string, unknown>[] = [];
      let registerWh = 70_000;
      for (let i = 0; i < SESSIONS_V201; i += 1) {
        const startMs = startOf(i);
        const transactionId = `OFFLINE-${i}`;
        queue.push(
          transactionEvent({
            eventType: 'Started',
            seqNo: 0,
            transactionId,
            timestamp: iso(startMs),
            offline: true,
            chargingState: 'Charging',
            idToken: { idToken: 'DEMO0006', type: 'ISO14443' },
            evseId: 1,
            meterValue: [meterValue(iso(startMs), registerWh, undefined, 'Transaction.Begin')],
          }),
          transactionEvent({
            eventType: 'Updated',
            seqNo: 1,
            transactionId,
            timestamp: iso(startMs + DURATION_MS / 2),
            offline: true,
            meterValue: [meterValue(iso(startMs + DURATION_MS / 2), registerWh + ENERGY_WH / 2, 14_400)],
          }),
          transactionEvent({
            eventType: 'Updated',
            seqNo: 2,
            transactionId,
            timestamp: iso(startMs + DURATION_MS),
            offline: true,
            chargingState: 'EVConnected',
            meterValue: [meterValue(iso(startMs + DURATION_MS), registerWh + ENERGY_WH, 0)],
          }),
        );
        registerWh += ENERGY_WH;
        queue.push(
          transactionEvent({
            eventType: 'Ended',
            seqNo: 3,
            transactionId,
            timestamp: iso(startMs + DURATION_MS),
            offline: true,
            stoppedReason: 'EVDisconnected',
            meterValue: [meterValue(iso(startMs + DURATION_MS), registerWh, undefined, 'Transaction.End')],
          }),
        );
      }
      // All at once: every call is handed to the connection before the first answer arrives.
      const replies = await Promise.all(queue.map((event) => station.call('TransactionEvent', event)));
      expect(replies).toHaveLength(SESSIONS_V201 * 4);
    } finally {
      await station.close({ force: true });
    }
    expectAllBilledOnce((await billedSessions('DEMO-0006')).rows, SESSIONS_V201);
  }, 300_000);

  it('numbers the 300 invoices without gaps', async () => {
    const series = await sql<{ series: string; n: string | bigint; lo: string | bigint; hi: string | bigint }>`
      select series, count(*) as n, min(number) as lo, max(number) as hi from invoices
       where kind = 'invoice' group by series`.execute(db());
    const total = series.rows.reduce((sum, row) => sum + Number(row.n), 0);
    expect(total).toBe(SESSIONS_V16 + SESSIONS_V201);
    for (const row of series.rows) expect([Number(row.lo), Number(row.hi)]).toEqual([1, Number(row.n)]);
  });
});
