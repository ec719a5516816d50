/**
 * The meter stop of an OCPP 2.0.1 transaction whose Ended event carries no register: the latest register reading at
 * or before the end, whichever way the reading was kept. A reading applied as it was stored keeps no payload, only
 * its session's samples; a reading past the session's sample limit is never applied so (it keeps its payload) and
 * has no sample. The end must read both (apply-transaction-events.ts, lastReadingBefore): the first test fails with
 * the samples alone (they stop at the limit), the second with the payloads alone (they miss the readings applied
 * at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { connectV201Station, meterValue, transactionEvent, type V201Station } from './support/ocpp-v201-client.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();
const T0 = '2026-11-25T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
/** Begin sample and two readings fill it: the third reading is past it. */
const SAMPLE_LIMIT = 3;

describe.skipIf(skip)('OCPP 2.0.1 meter stop from samples and payloads', () => {
  let server: RunningServer;
  let station: V201Station;

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_MAX_SAMPLES_PER_SESSION: String(SAMPLE_LIMIT) });
    station = await connectV201Station(server, 'DEMO-0006');
    await station.call('BootNotification', {
      chargingStation: { vendorName: 'ACME', model: 'AC22', serialNumber: 'SN-6' },
      reason: 'PowerUp',
    });
  }, 180_000);
  afterAll(async () => {
    await station?.close({ force: true });
    await server?.close();
  });

  /**
   * A transaction of DEMO0006 started at `startedAt` with `startWh` on its register, then its readings, each
   * [seqNo, minutes after the start, register Wh] and each answered `{}`; returns its event sender, for its end.
   */
  async function startWithReadings(
    transactionId: string,
    startedAt: string,
    startWh: number,
    readings: readonly (readonly [number, number, number])[],
  ) {
    const tx = (input: Omit<Parameters<typeof transactionEvent>[0], 'transactionId'>) =>
      station.call('TransactionEvent', transactionEvent({ ...input, transactionId }));
    const after = (minutes: number) => new Date(Date.parse(startedAt) + minutes * 60_000).toISOString();
    await tx({
      eventType: 'Started',
      seqNo: 0,
      timestamp: startedAt,
      chargingState: 'Charging',
      idToken: { idToken: 'DEMO0006', type: 'ISO14443' },
      evseId: 1,
      meterValue: [meterValue(startedAt, startWh, undefined, 'Transaction.Begin')],
    });
    for (const [seqNo, minutes, registerWh] of readings) {
      expect(
        await tx({
          eventType: 'Updated',
          seqNo,
          timestamp: after(minutes),
          meterValue: [meterValue(after(minutes), registerWh)],
        }),
      ).toEqual({});
    }
    return tx;
  }

  it('takes the reading past the sample limit from its payload, later than every sample', async () => {
    const tx = await startWithReadings('TX-LIMIT', T0, 1000, [
      [1, 10, 3000],
      [2, 20, 5000],
      [3, 30, 7000], // past the limit: stored with its payload, no sample
    ]);
    const db = server.database.db;
    const session = await db
      .selectFrom('sessions')
      .select('id')
      .where('transaction_id', '=', 'TX-LIMIT')
      .executeTakeFirstOrThrow();
    const samples = await db
      .selectFrom('meter_samples')
      .select('register_wh')
      .where('session_id', '=', session.id)
      .orderBy('sampled_at')
      .execute();
    expect(samples.map((s) => s.register_wh)).toEqual(['1000.000', '3000.000', '5000.000']);
    const rows = await db
      .selectFrom('ocpp_transaction_events')
      .select(['seq_no', 'payload', 'applied_at'])
      .where('transaction_id', '=', 'TX-LIMIT')
      .orderBy('seq_no')
      .execute();
    expect(rows.map((r) => [r.seq_no, r.payload !== null, r.applied_at !== null])).toEqual([
      [0, true, true],
      [1, false, true],
      [2, false, true],
      [3, true, true],
    ]);
    await tx({ eventType: 'Ended', seqNo: 4, timestamp: at(40), stoppedReason: 'Local' });
    const ended = await db
      .selectFrom('sessions')
      .select(['status', 'meter_start_wh', 'meter_stop_wh', 'energy_wh'])
      .where('id', '=', session.id)
      .executeTakeFirstOrThrow();
    expect(ended).toEqual({ status: 'Completed', meter_start_wh: 1000n, meter_stop_wh: 7000n, energy_wh: 6000n });
  });

  it('takes the latest reading from the samples when the one past the limit was taken earlier', async () => {
    const T1 = at(60);
    const later = (minutes: number) => new Date(Date.parse(T1) + minutes * 60_000).toISOString();
    // seqNo 3, past the limit, was taken at minute 5 (a station's queued reading sent late): the latest reading
    // before the end is seqNo 2's at minute 20, kept as a sample only.
    const tx = await startWithReadings('TX-LIMIT-2', T1, 10_000, [
      [1, 10, 12_000],
      [2, 20, 14_000],
      [3, 5, 11_000],
    ]);
    await tx({ eventType: 'Ended', seqNo: 4, timestamp: later(40), stoppedReason: 'Local' });
    const ended = await server.database.db
      .selectFrom('sessions')
      .select(['status', 'meter_start_wh', 'meter_stop_wh', 'energy_wh'])
      .where('transaction_id', '=', 'TX-LIMIT-2')
      .executeTakeFirstOrThrow();
    expect(ended).toEqual({ status: 'Completed', meter_start_wh: 10_000n, meter_stop_wh: 14_000n, energy_wh: 4_000n });
  });
});
