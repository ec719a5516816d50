/**
 * Bad input over a real socket: each malformed frame gets the OCPP 1.6 error the protocol prescribes, changes
 * nothing, and the station stays connected until it exceeds the limit of bad messages in a row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../src/main.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectRaw, connectStation, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();

/** Message type, id and error code of a CALLERROR (or type, id and payload of a CALLRESULT). */
const head = (frame: unknown) => (frame as unknown[]).slice(0, 3);

describe.skipIf(skip)('OCPP 1.6J bad input', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_OCPP_MAX_BAD_MESSAGES: '6', VOLTBILL_OCPP_MAX_FRAME_BYTES: '4096' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const boot = '[2,"b1","BootNotification",{"chargePointVendor":"T","chargePointModel":"M"}]';

  it('answers each kind of bad frame with the prescribed error and keeps the station connected', async () => {
    const raw = await connectRaw(server, 'DEMO-0001');
    expect(head(await raw.request(boot))).toEqual([3, 'b1', expect.objectContaining({ status: 'Accepted' })]);

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
    expect(head(await raw.request('[2,"m2","FlyToTheMoon",{}]'))).toEqual([4, 'm2', 'NotImplemented']);
    const wrongType =
      '[2,"m3","StartTransaction",{"connectorId":"one","idTag":"DEMO0001","meterStart":0,"timestamp":"2026-11-25T10:00:00Z"}]';
    expect(head(await raw.request(wrongType))).toEqual([4, 'm3', 'TypeConstraintViolation']);
    expect(head(await raw.request('[2,"m4","StartTransaction",{"connectorId":1}]'))).toEqual([
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
    expect(head(await raw.request('[2,"ok1","Heartbeat",{}]'))).toEqual([
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

  it('answers a CALL that is not [2, id, action, payload] with FormationViolation, never processing it', async () => {
    const raw = await connectRaw(server, 'DEMO-0004');
    expect(head(await raw.request(boot))).toEqual([3, 'b1', expect.objectContaining({ status: 'Accepted' })]);
    const shape = 'a CALL is [2, messageId, action (a string), payload]';
    // ocpp-rpc answered the first three with RpcFrameworkError (an OCPP 2.0.1 code, not 1.6's) and processed the
    // fourth as a Heartbeat.
    expect(await raw.request('[2,"c1",5,{}]')).toEqual([4, 'c1', 'FormationViolation', shape, {}]);
    expect(await raw.request('[2,"c2",null,{}]')).toEqual([4, 'c2', 'FormationViolation', shape, {}]);
    expect(await raw.request('[2,"c3"]')).toEqual([4, 'c3', 'FormationViolation', shape, {}]);
    expect(await raw.request('[2,"c4","Heartbeat",{},1]')).toEqual([4, 'c4', 'FormationViolation', shape, {}]);
    expect(head(await raw.request('[2,"ok","Heartbeat",{}]'))).toEqual([3, 'ok', { currentTime: expect.any(String) }]);
    raw.close();
  });

  it('answers values the database cannot hold with PropertyConstraintViolation (not retried), storing nothing', async () => {
    const raw = await connectRaw(server, 'DEMO-0003');
    expect(head(await raw.request(boot))).toEqual([3, 'b1', expect.objectContaining({ status: 'Accepted' })]);
    // 2^53 passes the JSON schema (an integer) but not the int4 column; a NUL character passes JSON but not text.
    const hugeConnector =
      '[2,"d1","StartTransaction",{"connectorId":9007199254740992,"idTag":"DEMO0003","meterStart":0,"timestamp":"2026-11-25T10:00:00Z"}]';
    expect(await raw.request(hugeConnector)).toEqual([
      4,
      'd1',
      'PropertyConstraintViolation',
      'a number is out of the range Voltbill stores',
      {},
    ]);
    // A negative meter register passes the schema (an integer) but no meter counts backwards from zero: refused
    // before anything is stored (it used to fail on the table's check constraint and be answered InternalError).
    const negativeStart =
      '[2,"d0","StartTransaction",{"connectorId":1,"idTag":"DEMO0003","meterStart":-1,"timestamp":"2026-11-25T10:00:00Z"}]';
    expect(await raw.request(negativeStart)).toEqual([
      4,
      'd0',
      'PropertyConstraintViolation',
      'meterStart must not be negative (got -1)',
      {},
    ]);
    const nul = '[2,"d2","BootNotification",{"chargePointVendor":"T\\u0000X","chargePointModel":"M"}]';
    expect(head(await raw.request(nul))).toEqual([4, 'd2', 'PropertyConstraintViolation']);
    const station = await server.database.db
      .selectFrom('stations')
      .select('vendor')
      .where('id', '=', 'DEMO-0003')
      .executeTakeFirstOrThrow();
    expect(station.vendor).toBe('T');
    const sessions = await server.database.db
      .selectFrom('sessions')
      .select('id')
      .where('station_id', '=', 'DEMO-0003')
      .execute();
    expect(sessions).toHaveLength(0);
    raw.close();
  });

  it('disconnects a station after more bad messages in a row than the limit, and keeps serving the others', async () => {
    const raw = await connectRaw(server, 'DEMO-0002');
    for (let i = 0; i < 6; i++) {
      expect(head(await raw.request(`[2,"x${i}","Heartbeat",`))).toEqual([4, `x${i}`, 'FormationViolation']);
    }
    raw.send('[2,"x7","Heartbeat",');
    const closed = await raw.closed;
    expect(closed.code).toBe(1008);

    const healthy = await connectStation(server, 'DEMO-0003');
    const reply = await healthy.call('Heartbeat', {});
    expect(typeof reply.currentTime).toBe('string');
    await healthy.close({ force: true });
  });

  it('refuses connections outside /ocpp/{stationId} and malformed station ids', async () => {
    const status = (url: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url, ['ocpp1.6']);
        socket.once('unexpected-response', (_request, response) => {
          resolve(response.statusCode ?? 0);
          socket.terminate();
        });
        socket.once('open', () => reject(new Error(`${url} was accepted`)));
        socket.once('error', () => {});
      });
    expect(await status(`ws://127.0.0.1:${server.ocppPort}/elsewhere/DEMO-0001`)).toBe(404);
    expect(await status(`ws://127.0.0.1:${server.ocppPort}/ocpp/${encodeURIComponent('DEMO 0001<script>')}`)).toBe(404);
  });
});
