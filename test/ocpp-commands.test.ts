/**
 * Remote commands through the HTTP API to real stations over real sockets, for both protocol versions: each
 * command arrives as the request of the station's version, the station's answer comes back, a station that is
 * not connected fails at once, and password rotation and the local list update Voltbill's records only once
 * the station accepted them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { addStation } from '../src/ocpp/station-registry.ts';
import { connectV201Station, type V201Station } from './support/ocpp-v201-client.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();
const PASSWORD = 'first-password-0123456789';

describe.skipIf(skip)('OCPP remote commands', () => {
  let server: RunningServer;
  let apiKey: string;
  let v201: V201Station;
  let v16: V201Station;

  beforeAll(async () => {
    server = await startTestServer();
    apiKey = server.seeded?.adminApiKey as string;
    const operator = await server.database.db.selectFrom('operators').select('id').executeTakeFirstOrThrow();
    await addStation(server.database.db, {
      id: 'CMD-P1',
      operatorId: operator.id,
      securityProfile: 1,
      password: PASSWORD,
    });
    v201 = await connectV201Station(server, 'DEMO-0003');
    v16 = await connectV201Station(server, 'DEMO-0004', { protocols: ['ocpp1.6'] });
    await v201.call('BootNotification', { chargingStation: { vendorName: 'ACME', model: 'AC22' }, reason: 'PowerUp' });
    await v16.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X' });
  }, 180_000);
  afterAll(async () => {
    await v201?.close({ force: true });
    await v16?.close({ force: true });
    await server?.close();
  });

  const command = (stationId: string, name: string, body: Record<string, unknown> = {}) =>
    server.app.inject({
      method: 'POST',
      url: `/api/v1/stations/${stationId}/commands/${name}`,
      headers: { authorization: `Bearer ${apiKey}` },
      payload: body,
    });

  it('fails at once for a station that is not connected, and for unknown stations and commands', async () => {
    const offline = await command('DEMO-0007', 'reset', { type: 'Hard' });
    expect(offline.statusCode).toBe(409);
    expect(offline.json().error.code).toBe('StationNotConnected');
    expect((await command('NOPE-1', 'reset')).statusCode).toBe(404);
    expect((await command('DEMO-0003', 'self-destruct')).statusCode).toBe(404);
    const invalid = await command('DEMO-0003', 'remote-start', { evseId: 0, idTag: 'DEMO0003' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.code).toBe('InvalidRequest');
  });

  const cases: {
    name: string;
    body: Record<string, unknown>;
    v201: [string, Record<string, unknown>, Record<string, unknown>];
    v16: [string, Record<string, unknown>, Record<string, unknown>];
  }[] = [
    {
      name: 'remote-start',
      body: { evseId: 1, idTag: 'DEMO0003' },
      v201: [
        'RequestStartTransaction',
        { evseId: 1, idToken: { idToken: 'DEMO0003', type: 'Central' } },
        { status: 'Accepted' },
      ],
      v16: ['RemoteStartTransaction', { connectorId: 1, idTag: 'DEMO0003' }, { status: 'Accepted' }],
    },
    {
      name: 'remote-stop',
      body: { transactionId: '12345' },
      v201: ['RequestStopTransaction', { transactionId: '12345' }, { status: 'Accepted' }],
      v16: ['RemoteStopTransaction', { transactionId: 12345 }, { status: 'Accepted' }],
    },
    {
      name: 'reset',
      body: { type: 'Hard' },
      v201: ['Reset', { type: 'Immediate' }, { status: 'Accepted' }],
      v16: ['Reset', { type: 'Hard' }, { status: 'Accepted' }],
    },
    {
      name: 'change-availability',
      body: { evseId: 1, operative: false },
      v201: ['ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 1 } }, { status: 'Scheduled' }],
      v16: ['ChangeAvailability', { connectorId: 1, type: 'Inoperative' }, { status: 'Scheduled' }],
    },
    {
      name: 'unlock-connector',
      body: { evseId: 1 },
      v201: ['UnlockConnector', { evseId: 1, connectorId: 1 }, { status: 'Unlocked' }],
      v16: ['UnlockConnector', { connectorId: 1 }, { status: 'Unlocked' }],
    },
    {
      name: 'trigger-message',
      body: { message: 'StatusNotification', evseId: 1 },
      v201: ['TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 1 } }, { status: 'Accepted' }],
      v16: ['TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }, { status: 'Accepted' }],
    },
    {
      name: 'get-configuration',
      body: { keys: ['OCPPCommCtrlr.HeartbeatInterval'] },
      v201: [
        'GetVariables',
        { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] },
        {
          getVariableResult: [
            {
              attributeStatus: 'Accepted',
              attributeValue: '300',
              component: { name: 'OCPPCommCtrlr' },
              variable: { name: 'HeartbeatInterval' },
            },
          ],
        },
      ],
      v16: [
        'GetConfiguration',
        { key: ['OCPPCommCtrlr.HeartbeatInterval'] },
        { unknownKey: ['OCPPCommCtrlr.HeartbeatInterval'] },
      ],
    },
    {
      name: 'change-configuration',
      body: { key: 'OCPPCommCtrlr.HeartbeatInterval', value: '120' },
      v201: [
        'SetVariables',
        {
          setVariableData: [
            { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: '120' },
          ],
        },
        {
          setVariableResult: [
            {
              attributeStatus: 'Accepted',
              component: { name: 'OCPPCommCtrlr' },
              variable: { name: 'HeartbeatInterval' },
            },
          ],
        },
      ],
      v16: ['ChangeConfiguration', { key: 'OCPPCommCtrlr.HeartbeatInterval', value: '120' }, { status: 'Accepted' }],
    },
    {
      name: 'get-local-list-version',
      body: {},
      v201: ['GetLocalListVersion', {}, { versionNumber: 0 }],
      v16: ['GetLocalListVersion', {}, { listVersion: 0 }],
    },
  ];

  for (const c of cases) {
    it(`${c.name}: sends ${c.v201[0]} to a 2.0.1 station and ${c.v16[0]} to a 1.6 station`, async () => {
      for (const [station, stationId, [method, params, reply]] of [
        [v201, 'DEMO-0003', c.v201],
        [v16, 'DEMO-0004', c.v16],
      ] as const) {
        station.answer(method, () => reply);
        const response = await command(stationId, c.name, c.body);
        expect(response.statusCode).toBe(200);
        expect(response.json()).toMatchObject({ ok: true, method, reply });
        const received = await station.nextReceived(method);
        expect(received.params).toMatchObject(params);
      }
    });
  }

  it('sends the local authorization list and records the version the station accepted', async () => {
    v201.answer('SendLocalList', () => ({ status: 'Accepted' }));
    v16.answer('SendLocalList', () => ({ status: 'Failed' }));
    const accepted = await command('DEMO-0003', 'send-local-list');
    expect(accepted.json()).toMatchObject({ ok: true, accepted: true, localListVersion: 1 });
    const list = (await v201.nextReceived('SendLocalList')).params as {
      versionNumber: number;
      updateType: string;
      localAuthorizationList: { idToken: { idToken: string }; idTokenInfo: { status: string } }[];
    };
    expect([list.versionNumber, list.updateType]).toEqual([1, 'Full']);
    const byUid = new Map(list.localAuthorizationList.map((e) => [e.idToken.idToken, e.idTokenInfo.status]));
    expect([byUid.get('DEMO0001'), byUid.get('BLOCKED01'), byUid.get('EXPIRED01')]).toEqual([
      'Accepted',
      'Blocked',
      'Expired',
    ]);
    const failed = await command('DEMO-0004', 'send-local-list');
    expect(failed.json()).toMatchObject({ ok: true, accepted: false, reply: { status: 'Failed' } });
    expect(((await v16.nextReceived('SendLocalList')).params as { listVersion: number }).listVersion).toBe(1);
    const versions = await server.database.db
      .selectFrom('stations')
      .select(['id', 'local_list_version'])
      .where('id', 'in', ['DEMO-0003', 'DEMO-0004'])
      .orderBy('id')
      .execute();
    expect(versions).toEqual([
      { id: 'DEMO-0003', local_list_version: 1 },
      { id: 'DEMO-0004', local_list_version: 0 },
    ]);
  });

  it('rotates a station password through SetVariables; only the new password connects afterwards', async () => {
    const station = await connectV201Station(server, 'CMD-P1', { password: PASSWORD });
    await station.call('BootNotification', {
      chargingStation: { vendorName: 'ACME', model: 'AC22' },
      reason: 'PowerUp',
    });
    station.answer('SetVariables', (params) => ({
      setVariableResult: (params.setVariableData as { component: unknown; variable: unknown }[]).map((d) => ({
        attributeStatus: 'Accepted',
        component: d.component,
        variable: d.variable,
      })),
    }));
    const newPassword = 'second-password-9876543210';
    const rotated = await command('CMD-P1', 'set-password', { password: newPassword });
    expect(rotated.json()).toMatchObject({ ok: true, accepted: true });
    expect(rotated.json().password).toBeUndefined();
    const sent = (await station.nextReceived('SetVariables')).params;
    expect(sent).toEqual({
      setVariableData: [
        { component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, attributeValue: newPassword },
      ],
    });
    await station.close({ force: true });
    await expect(connectV201Station(server, 'CMD-P1', { password: PASSWORD })).rejects.toMatchObject({ code: 401 });
    const again = await connectV201Station(server, 'CMD-P1', { password: newPassword });
    await again.close({ force: true });
  });

  it('registers, lists and removes stations through the API; the password hash never leaves', async () => {
    const headers = { authorization: `Bearer ${apiKey}` };
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/v1/stations',
      headers,
      payload: { id: 'API-P2', securityProfile: 2, evses: 2 },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json() as { id: string; securityProfile: number; password: string };
    expect(body).toMatchObject({ id: 'API-P2', securityProfile: 2 });
    expect(body.password).toHaveLength(24);
    const again = await server.app.inject({
      method: 'POST',
      url: '/api/v1/stations',
      headers,
      payload: { id: 'API-P2' },
    });
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'StationExists']);
    const weak = await server.app.inject({
      method: 'POST',
      url: '/api/v1/stations',
      headers,
      payload: { id: 'API-P9', password: 'short' },
    });
    expect([weak.statusCode, weak.json().error.code]).toEqual([400, 'InvalidRequest']);
    const shown = await server.app.inject({ method: 'GET', url: '/api/v1/stations/API-P2', headers });
    expect(shown.json()).toMatchObject({ id: 'API-P2', securityProfile: 2, hasPassword: true, connected: false });
    expect(shown.body).not.toContain('scrypt');
    expect(shown.json().evses).toHaveLength(2);
    const removed = await server.app.inject({ method: 'DELETE', url: '/api/v1/stations/API-P2', headers });
    expect(removed.statusCode).toBe(200);
    const inUse = await server.app.inject({ method: 'DELETE', url: '/api/v1/stations/DEMO-0099', headers });
    expect(inUse.statusCode).toBe(404);
  });
});
