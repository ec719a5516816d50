/**
 * The live view's API (GET /api/v1/live and the Server-Sent Events stream GET /api/v1/events) over real sockets:
 * station states, an active session's energy, power and running cost, the finished session's billed cost, and a
 * stream that pushes a new snapshot when something changes and ends when the server shuts down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stationState } from '../../src/api/routes/events.ts';
import type { RunningServer } from '../../src/main.ts';
import { fixedClock } from '../../src/shared/clock.ts';
import { connectStation, type Station, startTestServer } from '../support/test-server.ts';

const T0 = new Date('2026-11-24T10:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

describe('station state', () => {
  it('derives one word per station from connection, EVSE statuses and sessions', () => {
    expect(stationState(false, ['Charging'], true)).toBe('offline');
    expect(stationState(true, ['Faulted'], false)).toBe('faulted');
    expect(stationState(true, ['Available'], true)).toBe('charging');
    expect(stationState(true, ['SuspendedEV'], false)).toBe('charging');
    expect(stationState(true, ['Unavailable'], false)).toBe('unavailable');
    expect(stationState(true, ['Available'], false)).toBe('available');
    expect(stationState(true, [], false)).toBe('available');
  });
});

describe('live API', () => {
  const clock = fixedClock(at(0));
  let server: RunningServer;
  let station: Station;
  let key: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
  const live = async (): Promise<any> =>
    (await fetch(`${server.httpUrl}/api/v1/live`, { headers: { authorization: `Bearer ${key}` } })).json();

  beforeAll(async () => {
    server = await startTestServer({}, { clock });
    key = server.seeded!.adminApiKey;
    station = await connectStation(server, 'DEMO-0003');
    await station.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'M' });
  });
  afterAll(async () => {
    await station?.close({ force: true });
    await server?.close();
  });

  it('needs a key', async () => {
    const response = await fetch(`${server.httpUrl}/api/v1/events`);
    expect(response.status).toBe(401);
  });

  it('reports stations, an active session with running cost, then the billed session', async () => {
    const before = await live();
    expect(before.counts).toEqual({ offline: 9, available: 1, charging: 0, faulted: 0, unavailable: 0 });
    expect(before.activeSessions).toEqual([]);

    await station.call('StatusNotification', { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' });
    expect((await live()).stations.find((s: { id: string }) => s.id === 'DEMO-0003')).toMatchObject({
      state: 'faulted',
      connected: true,
      evses: [{ evseId: 1, status: 'Faulted', errorCode: 'GroundFailure', maxPowerW: 22000 }],
    });
    await station.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    const { transactionId } = await station.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0003',
      meterStart: 1_000,
      timestamp: at(0).toISOString(),
    });
    clock.set(at(15));
    await station.call('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: at(15).toISOString(),
          sampledValue: [
            { value: '5', measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
            { value: '7400.4', measurand: 'Power.Active.Import', unit: 'W' },
          ],
        },
      ],
    });
    const during = await live();
    expect(during.counts.charging).toBe(1);
    expect(during.activeSessions).toEqual([
      {
        id: expect.any(String),
        stationId: 'DEMO-0003',
        evseId: 1,
        idTag: 'DEMO0003',
        startedAt: at(0).toISOString(),
        chargingState: during.activeSessions[0].chargingState,
        energyWh: 4_000,
        powerW: 7400,
        lastSampleAt: at(15).toISOString(),
        // 4 kWh x 0.49 = 1.96 excl (incl. 2.3324 -> 2.33); session fee 0.35 (incl. 0.4165 -> 0.42): 2.31 / 2.75.
        runningCost: { exclVat: '2.31', inclVat: '2.75', currency: 'EUR' },
      },
    ]);

    clock.set(at(30));
    await station.call('StopTransaction', { transactionId, meterStop: 6_000, timestamp: at(30).toISOString() });
    await station.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    const after = await live();
    expect(after.activeSessions).toEqual([]);
    expect(after.recentSessions[0]).toMatchObject({
      stationId: 'DEMO-0003',
      energyWh: 5_000,
      billingStatus: 'Billed',
      // 5 kWh x 0.49 = 2.45 (incl. 2.9155 -> 2.92) + 0.35 (incl. 0.42) = 2.80 / 3.34.
      totalCost: { exclVat: '2.80', inclVat: '3.34', currency: 'EUR' },
    });
  });

  it('streams snapshots as Server-Sent Events, pushing a change within the poll interval', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.httpUrl}/api/v1/events`, {
      headers: { authorization: `Bearer ${key}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const nextSnapshot = async () => {
      for (;;) {
        const end = text.indexOf('\n\n', text.indexOf('event: snapshot'));
        if (text.includes('event: snapshot') && end >= 0) {
          const block = text.slice(text.indexOf('event: snapshot'), end);
          text = text.slice(end + 2);
          return JSON.parse(
            block
              .split('\n')
              .find((l) => l.startsWith('data: '))!
              .slice(6),
          );
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += value;
      }
    };
    const first = await nextSnapshot();
    expect(first.counts.available).toBe(1);
    await station.call('StatusNotification', { connectorId: 1, status: 'Unavailable', errorCode: 'NoError' });
    const second = await nextSnapshot();
    expect(second.counts).toEqual({ offline: 9, available: 0, charging: 0, faulted: 0, unavailable: 1 });
    controller.abort();
  });

  it('ends open streams when the server closes', async () => {
    const response = await fetch(`${server.httpUrl}/api/v1/events`, { headers: { authorization: `Bearer ${key}` } });
    const reader = response.body!.getReader();
    await reader.read();
    await station.close({ force: true });
    await server.close();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
  });
});
