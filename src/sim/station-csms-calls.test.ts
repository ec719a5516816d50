/**
 * The CSMS's calls to a simulated station, end to end over a real socket: a station with no planned sessions stays
 * connected and the test plays the CSMS.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runSimulation } from './simulate.ts';
import { type CsmsStub, startCsmsStub } from './testing/csms-stub.ts';
import { waitFor } from './testing/recorded-calls.ts';

let stub: CsmsStub | undefined;

afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

describe('a simulated station answering the CSMS', () => {
  it('answers configuration, trigger, availability, reset and remote start/stop calls', async () => {
    stub = await startCsmsStub();
    const csms = stub;
    const stop = new AbortController();
    const running = runSimulation({
      url: csms.url,
      stations: 1,
      sessionsPerStation: 0,
      speedFactor: 3600,
      seed: 3,
      stayConnected: true,
      signal: stop.signal,
    });
    const stationId = 'DEMO-0001';
    await waitFor(() => csms.callsOf(stationId, 'StatusNotification').length === 2);
    const station = csms.clientOf(stationId)!;
    const statusCount = () => csms.callsOf(stationId, 'StatusNotification').length;
    const lastStatus = () => csms.callsOf(stationId, 'StatusNotification').at(-1)?.params.status;

    expect(await station.call('GetConfiguration', { key: ['HeartbeatInterval', 'Nope'] })).toEqual({
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
      unknownKey: ['Nope'],
    });
    expect(await station.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '600' })).toEqual({
      status: 'Accepted',
    });
    expect(await station.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '10' })).toEqual({
      status: 'Rejected',
    });
    expect(await station.call('DataTransfer', { vendorId: 'com.example' })).toEqual({ status: 'UnknownVendorId' });
    expect(await station.call('ClearCache', {})).toEqual({ status: 'Accepted' });
    expect(await station.call('UnlockConnector', { connectorId: 2 })).toEqual({ status: 'NotSupported' });
    expect(await station.call('RemoteStopTransaction', { transactionId: 5 })).toEqual({ status: 'Rejected' });
    await expect(station.call('GetLocalListVersion', {})).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });

    expect(await station.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => statusCount() === 3);
    expect(csms.callsOf(stationId, 'StatusNotification')[2]!.params).toMatchObject({
      connectorId: 1,
      status: 'Available',
    });

    expect(await station.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => lastStatus() === 'Unavailable');
    expect(await station.call('RemoteStartTransaction', { idTag: 'REMOTE01' })).toEqual({ status: 'Rejected' });
    expect(await station.call('ChangeAvailability', { connectorId: 1, type: 'Operative' })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => lastStatus() === 'Available');

    // A remote start needs no Authorize (AuthorizeRemoteTxRequests is false); a remote stop ends it.
    expect(await station.call('RemoteStartTransaction', { idTag: 'REMOTE01', connectorId: 1 })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => csms.callsOf(stationId, 'StartTransaction').length === 1);
    const start = csms.callsOf(stationId, 'StartTransaction')[0]!;
    expect(start.params).toMatchObject({ connectorId: 1, idTag: 'REMOTE01' });
    expect(csms.callsOf(stationId, 'Authorize')).toHaveLength(0);
    const transactionId = Number(start.response?.transactionId);
    expect(await station.call('RemoteStopTransaction', { transactionId })).toEqual({ status: 'Accepted' });
    await waitFor(() => csms.callsOf(stationId, 'StopTransaction').length === 1);
    const stopCall = csms.callsOf(stationId, 'StopTransaction')[0]!;
    expect(stopCall.params).toMatchObject({ transactionId, idTag: 'REMOTE01', reason: 'Remote' });
    await waitFor(() => lastStatus() === 'Available');

    expect(await station.call('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    await waitFor(() => csms.callsOf(stationId, 'BootNotification').length === 2);

    stop.abort();
    const summary = await running;
    expect(summary.sessions).toEqual({ planned: 0, started: 1, completed: 1, refused: 0, failed: 0, remote: 1 });
    // Fifteen calls above, each counted once.
    expect(summary.messages.received).toBe(15);
    expect(summary.sessionRecords).toEqual([
      {
        stationId,
        connectorId: 1,
        idTag: 'REMOTE01',
        transactionId,
        meterStartWh: start.params.meterStart,
        meterStopWh: stopCall.params.meterStop,
        startedAt: start.params.timestamp,
        endedAt: stopCall.params.timestamp,
        status: 'completed',
        origin: 'remote',
        stopReason: 'Remote',
        note: null,
      },
    ]);
    const statuses = csms
      .callsOf(stationId, 'StatusNotification')
      .filter((call) => call.params.connectorId === 1)
      .map((call) => call.params.status);
    expect(statuses).toEqual([
      'Available',
      'Available',
      'Unavailable',
      'Available',
      'Preparing',
      'Charging',
      'Finishing',
      'Available',
      'Available',
    ]);
  });
});
