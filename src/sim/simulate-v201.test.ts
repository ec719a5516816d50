/**
 * The simulator speaking OCPP 2.0.1 (and mixed) against the CSMS stub in strict mode: every message and answer is
 * checked against the official 2.0.1 schemas by ocpp-rpc, and the sessions read exactly like their 1.6 twins.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runSimulation } from './simulate.ts';
import { type CsmsStub, startCsmsStub } from './testing/csms-stub.ts';

let stub: CsmsStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

describe('runSimulation with OCPP 2.0.1 stations', () => {
  it('runs sessions as TransactionEvents Started/Updated/Ended with consecutive seqNo and the same energy as 1.6', async () => {
    stub = await startCsmsStub({ protocols: ['ocpp1.6', 'ocpp2.0.1'] });
    const options = { url: stub.url, stations: 1, sessionsPerStation: 2, speedFactor: 20_000, seed: 42 };
    const v201 = await runSimulation({ ...options, protocol: 'ocpp2.0.1' });
    expect(v201.sessions).toEqual({ planned: 2, started: 2, completed: 2, refused: 0, failed: 0, remote: 0 });
    expect(v201.callErrors).toEqual({});
    const calls = stub.callsOf('DEMO-0001');
    expect(calls.every((call) => call.protocol === 'ocpp2.0.1')).toBe(true);
    expect(calls.some((call) => ['StartTransaction', 'StopTransaction'].includes(call.method))).toBe(false);
    const events = calls.filter((call) => call.method === 'TransactionEvent');
    const ids = [
      ...new Set(events.map((call) => (call.params.transactionInfo as { transactionId: string }).transactionId)),
    ];
    expect(ids).toHaveLength(2);
    const energies: number[] = [];
    for (const id of ids) {
      const own = events.filter(
        (call) => (call.params.transactionInfo as { transactionId: string }).transactionId === id,
      );
      const types = own.map((call) => call.params.eventType);
      expect(types[0]).toBe('Started');
      expect(types.at(-1)).toBe('Ended');
      expect(types.slice(1, -1).every((type) => type === 'Updated')).toBe(true);
      expect(own.map((call) => call.params.seqNo)).toEqual(own.map((_, index) => index));
      expect(own[0]!.params.idToken).toEqual({ idToken: 'DEMO0001', type: 'ISO14443' });
      const register = (call: (typeof own)[number]) =>
        ((call.params.meterValue as { sampledValue: { value: number; measurand?: string }[] }[])[0]!.sampledValue.find(
          (sample) => sample.measurand === 'Energy.Active.Import.Register',
        )?.value ?? Number.NaN) as number;
      energies.push(register(own.at(-1)!) - register(own[0]!));
      expect((own.at(-1)!.params.transactionInfo as { stoppedReason?: string }).stoppedReason).toMatch(
        /^(EVDisconnected|Local)$/,
      );
    }

    // The same plan over 1.6 delivers the same energy per session.
    const v16 = await runSimulation({ ...options, protocol: 'ocpp1.6', stationPrefix: 'TWIN-' });
    expect(v16.sessions.completed).toBe(2);
    const stops = stub.callsOf('TWIN-0001', 'StopTransaction');
    const starts = stub.callsOf('TWIN-0001', 'StartTransaction');
    expect(
      stops.map((stop, index) => Number(stop.params.meterStop) - Number(starts[index]!.params.meterStart)),
    ).toEqual(energies);
  });

  it('mixed: odd-numbered stations speak 1.6, even-numbered ones 2.0.1', async () => {
    stub = await startCsmsStub({ protocols: ['ocpp1.6', 'ocpp2.0.1'] });
    const summary = await runSimulation({
      url: stub.url,
      stations: 2,
      sessionsPerStation: 1,
      speedFactor: 20_000,
      seed: 3,
      protocol: 'mixed',
    });
    expect(summary.sessions.completed).toBe(2);
    expect(summary.callErrors).toEqual({});
    expect(stub.callsOf('DEMO-0001', 'StartTransaction')).toHaveLength(1);
    expect(stub.callsOf('DEMO-0002', 'TransactionEvent').length).toBeGreaterThanOrEqual(3);
    expect(stub.callsOf('DEMO-0002')[0]!.protocol).toBe('ocpp2.0.1');
  });
});
