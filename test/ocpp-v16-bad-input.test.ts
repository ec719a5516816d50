/**
 * Bad input over a real socket: each malformed frame gets the OCPP 1.6 error the protocol prescribes, changes
 * nothing, and the station stays connected until it exceeds the limit of bad messages in a row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectRaw, connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

describe.skipIf(skip)('OCPP 1.6J bad input', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_OCPP_MAX_BAD_MESSAGES: '5', VOLTBILL_OCPP_MAX_FRAME_BYTES: '4096' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const boot = '[2,"b1","BootNotification",{"chargePointVendor":"T","chargePointModel":"M"}]';

  it('answers each kind of bad frame with the prescribed error and keeps the station connected', async () => {
    const raw = await connectRaw(server, 'DEMO-0001');
    expect(await raw.request(boot)).toMatchObject([3, 'b1', { status: 'Accepted' }]);

    expect(await raw.request('[2,"m1","Heartbeat",{')).toEqual([
      4,
      'm1',
      'FormationViolation',
      'frame is not valid JSON',
      {},
    ]);
    expect(await raw.request('{"not":"an array"}')).toEqual([
      4,
      '-1',
      'FormationViolation',
      'frame is not an OCPP-J message [type, messageId, ...]',
      {},
    ]);
    expect(await raw.request('[2,"m2","FlyToTheMoon",{}]')).toMatchObject([4, 'm2', 'NotImplemented']);
    expect(
      await raw.request(
        '[2,"m3","StartTransaction",{"connectorId":"one","idTag":"DEMO0001","meterStart":0,"timestamp":"2026-11-25T10:00:00Z"}]',
      ),
    ).toMatchObject([4, 'm3', 'TypeConstraintViolation']);
    expect(await raw.request('[2,"m4","StartTransaction",{"connectorId":1}]')).toMatchObject([
      4,
      'm4',
      'OccurrenceConstraintViolation',
    ]);
    const big = `[2,"m5","DataTransfer",{"vendorId":"x","data":"${'y'.repeat(5000)}"}]`;
    expect(await raw.request(big)).toEqual([
      4,
      'm5',
      'FormationViolation',
      `frame of ${Buffer.byteLength(big)} bytes exceeds the limit of 4096`,
      {},
    ]);
    // Still connected and served; a good message resets the count of bad ones.
    expect(await raw.request('[2,"ok1","Heartbeat",{}]')).toMatchObject([
      3,
      'ok1',
      { currentTime: expect.any(String) },
    ]);
    const sessions = await server.database.db
      .selectFrom('sessions')
      .select('id')
      .where('station_id', '=', 'DEMO-0001')
      .execute();
    expect(sessions).toHaveLength(0);
    raw.close();
  });

  it('disconnects a station after more bad messages in a row than the limit, and keeps serving the others', async () => {
    const raw = await connectRaw(server, 'DEMO-0002');
    for (let i = 0; i < 5; i++) {
      expect(await raw.request(`[2,"x${i}","Heartbeat",`)).toMatchObject([4, `x${i}`, 'FormationViolation']);
    }
    raw.send('[2,"x6","Heartbeat",');
    const closed = await raw.closed;
    expect(closed.code).toBe(1008);

    const healthy = await connectStation(server, 'DEMO-0003');
    const reply = await healthy.call('Heartbeat', {});
    expect(typeof reply.currentTime).toBe('string');
    await healthy.close({ force: true });
  });

  it('refuses connections outside /ocpp/{stationId}', async () => {
    const response = await fetch(`http://127.0.0.1:${server.ocppPort}/elsewhere/DEMO-0001`, {
      headers: {
        connection: 'upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': 'ocpp1.6',
      },
    }).catch((error: Error) => error);
    expect(response instanceof Error || (response as Response).status === 404).toBe(true);
  });
});
