import { afterEach, describe, expect, it } from 'vitest';
import { assessSignedValues } from '../meters/assess-signed-values.ts';
import { type CsmsStub, startCsmsStub } from '../sim/testing/csms-stub.ts';
import { runLoad } from './run-load.ts';

let stub: CsmsStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

const quick = { durationS: 4, meterIntervalS: 0.2, samplesPerSession: 2, idleS: 0.2, drainTimeoutS: 10, seed: 7 };

describe('runLoad against a strict OCPP stub', () => {
  it('OCPP 1.6: every message passes the official schemas and every session is stopped once', async () => {
    stub = await startCsmsStub();
    const report = await runLoad({ ...quick, url: stub.url, stations: 3, recordSessions: true });
    expect(report.errors).toEqual({ total: 0, callErrors: {}, timeouts: 0, callsLost: 0 });
    expect(report.stations).toEqual({ planned: 3, peakOnline: 3 });
    expect(report.connections.bootsAccepted).toBe(3);
    expect(report.sessions.completed).toBeGreaterThanOrEqual(3);
    expect(report.sessions.completed).toBe(report.sessions.started);
    const first = stub.callsOf('LOAD-00001').map((call) => call.method);
    expect(first.slice(0, 3)).toEqual(['BootNotification', 'StatusNotification', 'StatusNotification']);
    for (const session of report.completedSessions ?? []) {
      const stops = stub
        .callsOf(session.stationId, 'StopTransaction')
        .filter((call) => String(call.params.transactionId) === session.transactionId);
      expect(stops).toHaveLength(1);
    }
    expect(stub.calls.filter((call) => call.method === 'StopTransaction')).toHaveLength(report.sessions.completed);
    expect(report.messages.acknowledged).toBe(stub.calls.length);
  });

  it('OCPP 2.0.1: TransactionEvents Started, Updated, Ended with consecutive seqNo, valid against the schemas', async () => {
    stub = await startCsmsStub({ protocols: ['ocpp2.0.1'] });
    const report = await runLoad({ ...quick, url: stub.url, stations: 2, protocol: 'ocpp2.0.1', recordSessions: true });
    expect(report.errors.total).toBe(0);
    expect(report.sessions.completed).toBeGreaterThanOrEqual(2);
    for (const session of report.completedSessions ?? []) {
      const events = stub
        .callsOf(session.stationId, 'TransactionEvent')
        .filter(
          (call) => (call.params.transactionInfo as { transactionId: string }).transactionId === session.transactionId,
        );
      const types = events.map((call) => call.params.eventType);
      expect(types[0]).toBe('Started');
      expect(types.at(-1)).toBe('Ended');
      expect(types.slice(1, -1).every((type) => type === 'Updated')).toBe(true);
      expect(events.map((call) => call.params.seqNo)).toEqual(events.map((_, index) => index));
      expect(events[0]!.params.idToken).toEqual({ idToken: `LT0${session.stationId.slice(5)}`, type: 'ISO14443' });
    }
  });

  it('--signed: every session carries a signed begin and end that verify and prove its energy, in both versions', async () => {
    stub = await startCsmsStub({ protocols: ['ocpp1.6', 'ocpp2.0.1'] });
    const report = await runLoad({
      ...quick,
      url: stub.url,
      stations: 4,
      protocol: 'mixed',
      signed: true,
      recordSessions: true,
    });
    expect(report.errors.total).toBe(0);
    const sessions = report.completedSessions ?? [];
    expect(new Set(sessions.map((session) => session.protocol)).size).toBe(2);
    expect(report.messages.signedReadings).toBe(2 * report.sessions.started);
    const keys = new Map<string, string>();
    for (const session of sessions) {
      let signed: string[];
      if (session.protocol === 'ocpp1.6') {
        const ofSession = (call: { params: Record<string, unknown> }) =>
          String(call.params.transactionId) === session.transactionId;
        const sampled = (list: unknown) =>
          (list as { sampledValue: { value: string; format?: string; context: string }[] }[]).flatMap(
            (meterValue) => meterValue.sampledValue,
          );
        const begins = stub
          .callsOf(session.stationId, 'MeterValues')
          .filter(ofSession)
          .flatMap((call) => sampled(call.params.meterValue))
          .filter((value) => value.format === 'SignedData');
        const [stop] = stub.callsOf(session.stationId, 'StopTransaction').filter(ofSession);
        const ends = sampled(stop!.params.transactionData);
        expect(begins.map((value) => value.context)).toEqual(['Transaction.Begin']);
        expect(ends.map((value) => [value.format, value.context])).toEqual([['SignedData', 'Transaction.End']]);
        signed = [...begins, ...ends].map((value) => value.value);
      } else {
        const events = stub
          .callsOf(session.stationId, 'TransactionEvent')
          .filter(
            (call) =>
              (call.params.transactionInfo as { transactionId: string }).transactionId === session.transactionId,
          );
        const signedOf = (type: string) =>
          events
            .filter((call) => call.params.eventType === type)
            .flatMap((call) => (call.params.meterValue as { sampledValue: { signedMeterValue?: unknown }[] }[]) ?? [])
            .flatMap((meterValue) => meterValue.sampledValue)
            .flatMap((value) => (value.signedMeterValue === undefined ? [] : [JSON.stringify(value.signedMeterValue)]));
        expect(signedOf('Updated')).toEqual([]);
        signed = [...signedOf('Started'), ...signedOf('Ended')];
        expect(signed).toHaveLength(2);
      }
      // The key a station's meter pinned at its first session signs its later ones.
      const meter = keys.has(session.stationId)
        ? {
            serial: `LM-${session.stationId}`,
            publicKey: keys.get(session.stationId) as string,
            signedDataRequired: true,
          }
        : null;
      const assessed = assessSignedValues({ values: signed, meter, billedEnergyWh: BigInt(session.energyWh) });
      expect(assessed.status).toBe('verified');
      expect(assessed.findings.filter((finding) => finding.severity === 'hold')).toEqual([]);
      if (assessed.pin) keys.set(session.stationId, assessed.pin.publicKey);
    }
    expect(keys.size).toBe(4);
  });

  it('--warmup: the measurement window opens the warm-up after every station is online', async () => {
    stub = await startCsmsStub();
    const report = await runLoad({ ...quick, url: stub.url, stations: 2, sessions: false, warmupS: 1.5 });
    expect(report.errors.total).toBe(0);
    // 4 s of duration, about 0.1 s to connect, 1.5 s of warm-up: a window of about 2.4 s, never the whole run.
    expect(report.windowS).toBeGreaterThan(2);
    expect(report.windowS).toBeLessThan(2.6);
  });

  it('mixed: odd stations speak 1.6, even ones 2.0.1', async () => {
    stub = await startCsmsStub({ protocols: ['ocpp1.6', 'ocpp2.0.1'] });
    const report = await runLoad({ ...quick, url: stub.url, stations: 4, protocol: 'mixed', sessions: false });
    expect(report.errors.total).toBe(0);
    expect(stub.callsOf('LOAD-00001', 'BootNotification')[0]!.protocol).toBe('ocpp1.6');
    expect(stub.callsOf('LOAD-00002', 'BootNotification')[0]!.protocol).toBe('ocpp2.0.1');
    expect(stub.callsOf('LOAD-00003', 'BootNotification')[0]!.protocol).toBe('ocpp1.6');
    expect(stub.callsOf('LOAD-00004', 'BootNotification')[0]!.protocol).toBe('ocpp2.0.1');
  });

  it('retries a StopTransaction whose connection dropped before the answer, after reconnecting and booting', async () => {
    let dropped = false;
    stub = await startCsmsStub({
      onCall: (call, self) => {
        if (call.method === 'StopTransaction' && !dropped) {
          dropped = true;
          void self.clientOf(call.stationId)?.close({ force: true });
        }
      },
    });
    const report = await runLoad({ ...quick, url: stub.url, stations: 1, recordSessions: true });
    const [first] = report.completedSessions ?? [];
    expect(first).toBeDefined();
    const stops = stub
      .callsOf('LOAD-00001', 'StopTransaction')
      .filter((call) => String(call.params.transactionId) === first!.transactionId);
    expect(stops).toHaveLength(2);
    expect(stops[1]!.params).toEqual(stops[0]!.params);
    expect(stub.connectionsOf('LOAD-00001')).toBe(2);
    expect(stub.callsOf('LOAD-00001', 'BootNotification')).toHaveLength(2);
    expect(report.connections.disconnects).toBe(1);
    expect(report.messages.retries).toBeGreaterThanOrEqual(1);
    expect(report.sessions.completed).toBe(report.sessions.started);
  });

  it('reconnect storm: every station drops its connection and boots again', async () => {
    stub = await startCsmsStub();
    const report = await runLoad({
      url: stub.url,
      stations: 20,
      // The storm comes after the fleet is online even on a busy machine, and leaves time to come back.
      durationS: 8,
      sessions: false,
      reconnectStormAtS: 3,
      stormWindowS: 0.5,
      seed: 1,
    });
    expect(report.storm).toMatchObject({ stations: 20, notReconnected: 0, failedBoots: 0, failedConnects: 0 });
    expect(report.storm?.allBackAfterS).toBeLessThan(5);
    for (let n = 1; n <= 20; n += 1) expect(stub.connectionsOf(`LOAD-${String(n).padStart(5, '0')}`)).toBe(2);
    expect(report.connections.bootsAccepted).toBe(40);
  });

  it('several endpoints (a cluster): stations spread over them and reconnect to the next one', async () => {
    stub = await startCsmsStub();
    const other = await startCsmsStub();
    try {
      const report = await runLoad({
        url: `${stub.url},${other.url}/`,
        stations: 20,
        durationS: 8,
        sessions: false,
        reconnectStormAtS: 3,
        stormWindowS: 0.5,
        seed: 1,
      });
      expect(report.storm).toMatchObject({ stations: 20, notReconnected: 0, failedBoots: 0 });
      // Station n first on endpoint n mod 2, after the storm on the other: each endpoint saw every station once.
      for (let n = 1; n <= 20; n += 1) {
        const id = `LOAD-${String(n).padStart(5, '0')}`;
        expect([stub.connectionsOf(id), other.connectionsOf(id)]).toEqual([1, 1]);
      }
      expect(report.connections.bootsAccepted).toBe(40);
    } finally {
      await other.close();
    }
  });

  it('an aborted run drains at once: sessions in progress are stopped and delivered', async () => {
    stub = await startCsmsStub();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 1000);
    const startedMs = performance.now();
    const report = await runLoad({
      url: stub.url,
      stations: 5,
      durationS: 86_400,
      meterIntervalS: 0.2,
      samplesPerSession: 100,
      idleS: 0,
      signal: stop.signal,
    });
    expect(performance.now() - startedMs).toBeLessThan(10_000);
    expect(report.sessions.started).toBeGreaterThanOrEqual(5);
    expect(report.sessions.completed).toBe(report.sessions.started);
    expect(stub.calls.filter((call) => call.method === 'StopTransaction').map((call) => call.params.reason)).toEqual(
      Array.from({ length: report.sessions.completed }, () => 'Local'),
    );
  });
});
