/**
 * End to end: the simulator against a real ocpp-rpc RPCServer in strict OCPP 1.6J mode (the CSMS stub), over
 * loopback WebSockets. Every expected value is derived from the seeded plan, so the assertions are exact.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type PlanParameters, planStation } from './plan-sessions.ts';
import { J_PER_WH, requiredEnergyJ } from './power-curve.ts';
import { runSimulation, stationOriginOffsetsS } from './simulate.ts';
import { DEFAULT_CONNECT_RATE_PER_S, DEFAULT_ID_TAGS, DEFAULT_MAX_POWER_W } from './simulation-options.ts';
import { type CsmsStub, type RecordedCall, startCsmsStub } from './testing/csms-stub.ts';
import { registersOf, timestampsOf } from './testing/recorded-calls.ts';

let stub: CsmsStub | undefined;

afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

function planParameters(overrides: Partial<PlanParameters>): PlanParameters {
  return {
    seed: 42,
    stations: 1,
    sessionsPerStation: 1,
    firstStation: 1,
    stationPrefix: 'DEMO-',
    idTags: DEFAULT_ID_TAGS,
    maxPowerW: DEFAULT_MAX_POWER_W,
    meterIntervalS: 60,
    ...overrides,
  };
}

function connectorStatuses(calls: RecordedCall[], connectorId: number): string[] {
  return calls
    .filter((call) => call.method === 'StatusNotification' && call.params.connectorId === connectorId)
    .map((call) => String(call.params.status));
}

describe('runSimulation against a CSMS', () => {
  it('runs every planned session with consistent energy and timestamps that read as real', async () => {
    stub = await startCsmsStub();
    const speedFactor = 20_000;
    const params = planParameters({ stations: 3, sessionsPerStation: 2 });
    const summary = await runSimulation({
      url: stub.url,
      stations: 3,
      sessionsPerStation: 2,
      speedFactor,
      seed: 42,
    });
    const realNowMs = Date.now();

    expect(summary.stations).toEqual({ planned: 3, connected: 3, failed: 0 });
    expect(summary.boots).toEqual({ accepted: 3, pending: 0, rejected: 0 });
    expect(summary.sessions).toEqual({ planned: 6, started: 6, completed: 6, refused: 0, failed: 0, remote: 0 });
    expect(summary.callErrors).toEqual({});
    expect(summary.transport).toEqual({ timeouts: 0, connectionFailures: 0, disconnects: 0 });
    expect(summary.messages).toEqual({ sent: stub.calls.length, retries: 0, dropped: 0, received: 0 });
    expect(summary.ackLatencyMs.count).toBe(stub.calls.length);

    const simStartMs = Date.parse(summary.simulatedFrom);
    const originsS = stationOriginOffsetsS(3, DEFAULT_CONNECT_RATE_PER_S, speedFactor);
    let totalEnergyWh = 0;
    for (let index = 0; index < 3; index += 1) {
      const plan = planStation(params, index + 1);
      const calls = stub.calls.filter((call) => call.stationId === plan.stationId);
      const originMs = simStartMs + originsS[index]! * 1000;
      expect(calls[0]).toMatchObject({
        method: 'BootNotification',
        params: {
          chargePointVendor: 'Voltbill',
          chargePointModel: 'Simulator',
          chargePointSerialNumber: plan.serialNumber,
        },
      });
      expect(connectorStatuses(calls, 0)).toEqual(['Available']);
      expect(connectorStatuses(calls, 1)).toEqual([
        'Available',
        ...['Preparing', 'Charging', 'SuspendedEV', 'Finishing', 'Available'],
        ...['Preparing', 'Charging', 'SuspendedEV', 'Finishing', 'Available'],
      ]);

      // Strictly increasing per station, and never later than the moment the CSMS received the message.
      let previousMs = Number.NEGATIVE_INFINITY;
      for (const call of calls) {
        for (const timestampMs of timestampsOf(call)) {
          expect(timestampMs).toBeGreaterThan(previousMs);
          expect(timestampMs).toBeLessThanOrEqual(call.receivedAtMs);
          previousMs = timestampMs;
        }
      }
      expect(previousMs).toBeLessThanOrEqual(realNowMs);

      const starts = calls.filter((call) => call.method === 'StartTransaction');
      const stops = calls.filter((call) => call.method === 'StopTransaction');
      expect(starts).toHaveLength(2);
      expect(stops).toHaveLength(2);
      let registerJ = plan.initialRegisterWh * J_PER_WH;
      let lastRegisterWh = plan.initialRegisterWh;
      plan.sessions.forEach((session, sessionIndex) => {
        const start = starts[sessionIndex]!;
        const transactionId = start.response?.transactionId;
        const stop = stops.filter((call) => call.params.transactionId === transactionId);
        expect(stop).toHaveLength(1);
        const plugInMs = originMs + session.plugInOffsetS * 1000;
        const meterStartWh = Math.floor(registerJ / J_PER_WH);
        registerJ += requiredEnergyJ(session.vehicle);
        const meterStopWh = Math.floor(registerJ / J_PER_WH);
        expect(start.params).toEqual({
          connectorId: 1,
          idTag: plan.idTag,
          meterStart: meterStartWh,
          timestamp: new Date(plugInMs + session.timeline.startS * 1000).toISOString(),
        });
        expect(stop[0]!.params).toMatchObject({
          transactionId,
          idTag: plan.idTag,
          meterStop: meterStopWh,
          reason: session.stopReason,
          timestamp: new Date(plugInMs + session.timeline.stopS * 1000).toISOString(),
        });
        // The register carries on from the previous session, and never runs backwards.
        expect(meterStartWh).toBe(lastRegisterWh);
        const samples = calls.filter(
          (call) => call.method === 'MeterValues' && call.params.transactionId === transactionId,
        );
        const registers = samples.flatMap(registersOf);
        expect(registers.every((registerWh, at) => registerWh >= (registers[at - 1] ?? meterStartWh))).toBe(true);
        expect(registers.at(-1)).toBe(meterStopWh);
        // One sample per meter interval from the start to the driver's return, none missing, none twice.
        const startMs = plugInMs + session.timeline.startS * 1000;
        const sampleCount = Math.floor((session.timeline.finishingS - session.timeline.startS - 1) / 60);
        expect(samples.flatMap(timestampsOf)).toEqual(
          Array.from({ length: sampleCount }, (_, k) => startMs + (k + 1) * 60_000),
        );
        lastRegisterWh = meterStopWh;
        totalEnergyWh += meterStopWh - meterStartWh;
        expect(summary.sessionRecords.find((record) => record.transactionId === transactionId)).toEqual({
          stationId: plan.stationId,
          connectorId: 1,
          idTag: plan.idTag,
          transactionId,
          meterStartWh,
          meterStopWh,
          startedAt: start.params.timestamp,
          endedAt: stop[0]!.params.timestamp,
          status: 'completed',
          origin: 'planned',
          stopReason: session.stopReason,
          note: null,
        });
      });
    }
    expect(summary.energyWh).toBe(totalEnergyWh);
  });

  it('queues transaction messages while the connection is down and delivers each once, in order', async () => {
    let meterValuesSeen = 0;
    stub = await startCsmsStub({
      onCall: (call, csms) => {
        if (call.method !== 'MeterValues') return;
        meterValuesSeen += 1;
        if (meterValuesSeen !== 3) return;
        // After answering the third sample, the CSMS goes away for a while (a restart): the station must queue.
        csms.refuseConnectionsUntil(Date.now() + 300);
        setImmediate(() => void csms.clientOf(call.stationId)?.close({ code: 1012, reason: 'Service restart' }));
      },
    });
    const speedFactor = 10_000;
    const summary = await runSimulation({
      url: stub.url,
      stations: 1,
      sessionsPerStation: 1,
      speedFactor,
      seed: 42,
      reconnectDelayMs: 50,
    });

    const plan = planStation(planParameters({}), 1);
    const session = plan.sessions[0]!;
    expect(stub.connectionsOf(plan.stationId)).toBe(2);
    expect(summary.transport.disconnects).toBe(1);
    expect(summary.sessions).toMatchObject({ planned: 1, started: 1, completed: 1, failed: 0 });
    const starts = stub.callsOf(plan.stationId, 'StartTransaction');
    const stops = stub.callsOf(plan.stationId, 'StopTransaction');
    expect(starts).toHaveLength(1);
    expect(stops).toHaveLength(1);
    const startMs = Date.parse(String(starts[0]!.params.timestamp));
    const sampleCount = Math.floor((session.timeline.finishingS - session.timeline.startS - 1) / 60);
    // Every sample of the transaction, including those taken during the outage, arrived exactly once, in order.
    expect(stub.callsOf(plan.stationId, 'MeterValues').flatMap(timestampsOf)).toEqual(
      Array.from({ length: sampleCount }, (_, k) => startMs + (k + 1) * 60_000),
    );
    const registers = stub.callsOf(plan.stationId, 'MeterValues').flatMap(registersOf);
    expect(registers.at(-1)).toBe(stops[0]!.params.meterStop);
    // The transaction messages reached the CSMS in the order the station produced them.
    const transactionMethods = stub
      .callsOf(plan.stationId)
      .filter((call) => ['StartTransaction', 'MeterValues', 'StopTransaction'].includes(call.method))
      .map((call) => call.method);
    expect(transactionMethods).toEqual([
      'StartTransaction',
      ...Array(sampleCount).fill('MeterValues'),
      'StopTransaction',
    ]);
    // The outage really fell inside the charge: 300 real ms at 10,000× is 50 simulated minutes of samples.
    const samples = stub.callsOf(plan.stationId, 'MeterValues');
    expect(samples[3]!.receivedAtMs - samples[2]!.receivedAtMs).toBeGreaterThanOrEqual(300);
    expect(samples.length - 3).toBeGreaterThan(50);
  });

  it('retries a boot the CSMS rejected, after the interval it asked for', async () => {
    stub = await startCsmsStub({
      bootAnswer: (_stationId, attempt) =>
        attempt === 1
          ? { status: 'Rejected', interval: 30 }
          : attempt === 2
            ? { status: 'Pending', interval: 20 }
            : { status: 'Accepted', interval: 300 },
    });
    const speedFactor = 600;
    const summary = await runSimulation({ url: stub.url, stations: 1, sessionsPerStation: 0, speedFactor, seed: 1 });

    expect(summary.boots).toEqual({ accepted: 1, pending: 1, rejected: 1 });
    const calls = stub.callsOf('DEMO-0001');
    expect(calls.map((call) => call.method)).toEqual([
      'BootNotification',
      'BootNotification',
      'BootNotification',
      'StatusNotification',
      'StatusNotification',
    ]);
    // 30 and 20 simulated seconds at 600× are 50 and 33 real ms.
    const firstGapMs = calls[1]!.receivedAtMs - calls[0]!.receivedAtMs;
    const secondGapMs = calls[2]!.receivedAtMs - calls[1]!.receivedAtMs;
    expect(firstGapMs).toBeGreaterThanOrEqual(49);
    expect(firstGapMs).toBeLessThan(49 + 200);
    expect(secondGapMs).toBeGreaterThanOrEqual(33);
    expect(secondGapMs).toBeLessThan(33 + 200);
    // After the accepted boot the station reports itself at its planned origin.
    const originMs =
      Date.parse(summary.simulatedFrom) + stationOriginOffsetsS(1, DEFAULT_CONNECT_RATE_PER_S, speedFactor)[0]! * 1000;
    expect(calls.slice(3).map((call) => [call.params.connectorId, call.params.status, call.params.timestamp])).toEqual([
      [0, 'Available', new Date(originMs - 1000).toISOString()],
      [1, 'Available', new Date(originMs).toISOString()],
    ]);
  });

  it('reports sessions the CSMS refused: by Authorize, or by StartTransaction (then stopped as DeAuthorized)', async () => {
    stub = await startCsmsStub({
      idTagStatus: (idTag, method) =>
        idTag === 'BLOCKED1'
          ? 'Blocked'
          : idTag === 'LATE0001' && method === 'StartTransaction'
            ? 'Invalid'
            : 'Accepted',
    });
    const summary = await runSimulation({
      url: stub.url,
      stations: 2,
      sessionsPerStation: 2,
      speedFactor: 20_000,
      seed: 9,
      idTags: ['BLOCKED1', 'LATE0001'],
    });

    expect(summary.sessions).toEqual({ planned: 4, started: 2, completed: 0, refused: 4, failed: 0, remote: 0 });
    const blocked = planStation(
      planParameters({ seed: 9, idTags: ['BLOCKED1', 'LATE0001'], sessionsPerStation: 2 }),
      1,
    );
    expect(stub.callsOf('DEMO-0001', 'StartTransaction')).toHaveLength(0);
    expect(stub.callsOf('DEMO-0001', 'Authorize').map((call) => call.response)).toEqual([
      { idTagInfo: { status: 'Blocked' } },
      { idTagInfo: { status: 'Blocked' } },
    ]);
    expect(connectorStatuses(stub.callsOf('DEMO-0001'), 1)).toEqual([
      'Available',
      'Preparing',
      'Available',
      'Preparing',
      'Available',
    ]);
    expect(
      summary.sessionRecords
        .filter((record) => record.stationId === 'DEMO-0001')
        .map((record) => [record.status, record.transactionId, record.meterStartWh, record.meterStopWh, record.note]),
    ).toEqual([
      ['refused', null, blocked.initialRegisterWh, blocked.initialRegisterWh, 'Authorize answered Blocked'],
      ['refused', null, blocked.initialRegisterWh, blocked.initialRegisterWh, 'Authorize answered Blocked'],
    ]);
    // The idTag passed Authorize but StartTransaction refused it: the station stops at once.
    const stops = stub.callsOf('DEMO-0002', 'StopTransaction');
    expect(stops.map((call) => call.params.reason)).toEqual(['DeAuthorized', 'DeAuthorized']);
    expect(
      summary.sessionRecords.filter((record) => record.stationId === 'DEMO-0002').map((record) => record.status),
    ).toEqual(['refused', 'refused']);
  });
});
