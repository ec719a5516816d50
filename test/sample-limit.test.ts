/**
 * The per-session sample limit (VOLTBILL_MAX_SAMPLES_PER_SESSION) is decided on the samples actually stored: the
 * node's count is only a hint, recounted near the limit (duplicates it counted do not use up the room), a node that
 * never saw the session counts what is stored, and once the stored samples reach the limit nothing more is stored
 * or read. Both databases.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriter } from '../src/db/batch-writer.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import type { MeterSample } from '../src/metering/meter-sample.ts';
import { demoIdTag, demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import { createSessionService, type SessionService } from '../src/sessions/session-service.ts';
import { insertSamples, type SampleRow } from '../src/sessions/session-store.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const LIMIT = 5;

describe.skipIf(skip)('sample limit per session', () => {
  let handle: DatabaseHandle;
  const service = (): SessionService => {
    const db = handle.db;
    return createSessionService({
      db,
      clock: fixedClock(new Date('2026-11-20T08:00:00Z')),
      logger: pino({ level: 'silent' }),
      sampleWriter: new BatchWriter<SampleRow>((rows) => insertSamples(db, rows), {
        maxBatchItems: 100,
        maxQueuedItems: 10_000,
      }),
      maxSamplesPerSession: LIMIT,
    });
  };
  const at = (minute: number): MeterSample => ({
    at: new Date(Date.UTC(2026, 10, 20, 6, minute)),
    context: 'Sample.Periodic',
    energyRegisterMilliWh: BigInt(1_000_000 + minute * 1000),
  });
  const storedMinutes = async (sessionId: string) =>
    (
      await handle.db
        .selectFrom('meter_samples')
        .select('sampled_at')
        .where('session_id', '=', sessionId)
        .orderBy('sampled_at')
        .execute()
    ).map((r) => r.sampled_at.getUTCMinutes());

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('stores up to the limit exactly, counting duplicates as nothing', async () => {
    const node = service();
    const started = await node.start({
      kind: 'TransactionStarted',
      stationId: demoStationId(2),
      evseId: 1,
      connectorId: 1,
      idTag: demoIdTag(2),
      meterStartWh: 1000n,
      startedAt: new Date('2026-11-20T06:00:00Z'),
      transactionId: 'tx-limit',
    });
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    const sampleOn = (on: SessionService, minutes: number[], transactionId = 'tx-limit') =>
      on.sample({ kind: 'MeterSampled', stationId: demoStationId(2), transactionId, samples: minutes.map(at) });
    const sample = (minutes: number[]) => sampleOn(node, minutes);

    expect(await sample([1, 2, 3])).toEqual({ known: true, sessionId: started.sessionId, accepted: 3, ignored: 0 });
    // The same three again: the node counts 6 > 5, recounts 3 stored, and lets two through (stored: nothing new).
    expect(await sample([1, 2, 3])).toEqual({ known: true, sessionId: started.sessionId, accepted: 2, ignored: 1 });
    expect(await storedMinutes(started.sessionId)).toEqual([1, 2, 3]);
    // So the duplicates did not use up the room: two new samples are stored, the third is over the limit.
    expect(await sample([4])).toEqual({ known: true, sessionId: started.sessionId, accepted: 1, ignored: 0 });
    expect(await sample([5, 6])).toEqual({ known: true, sessionId: started.sessionId, accepted: 1, ignored: 1 });
    expect(await storedMinutes(started.sessionId)).toEqual([1, 2, 3, 4, 5]);
    expect(await sample([7])).toEqual({ known: true, sessionId: started.sessionId, accepted: 0, ignored: 1 });

    // A node that never saw the session (a restart, another node) counts what is stored and stores nothing more.
    const other = service();
    expect(await sampleOn(other, [8])).toEqual({ known: true, sessionId: started.sessionId, accepted: 0, ignored: 1 });
    expect(await storedMinutes(started.sessionId)).toEqual([1, 2, 3, 4, 5]);

    // Unknown transactions are unknown; samples of an ended session are not stored.
    expect(await sampleOn(other, [9], 'tx-none')).toEqual({ known: false });
    const ended = await node.end({
      kind: 'TransactionEnded',
      stationId: demoStationId(2),
      transactionId: 'tx-limit',
      meterStopWh: 2000n,
      endedAt: new Date('2026-11-20T06:30:00Z'),
      samples: [],
    });
    expect(ended.known).toBe(true);
    expect(await sampleOn(other, [10])).toEqual({ known: true, sessionId: started.sessionId, accepted: 0, ignored: 1 });
  });

  it('lets a caller that stores samples itself (OCPP 2.0.1 readings) reserve them within the limit', async () => {
    const node = service();
    const started = await node.start({
      kind: 'TransactionStarted',
      stationId: demoStationId(3),
      evseId: 1,
      connectorId: 1,
      idTag: demoIdTag(3),
      meterStartWh: 1000n,
      startedAt: new Date('2026-11-20T06:00:00Z'),
      transactionId: 'tx-direct-limit',
    });
    if (!started.ok) throw new Error('the start was refused');
    const reserve = (minutes: number[]) =>
      node
        .reserveSampleRows(demoStationId(3), 'tx-direct-limit', minutes.map(at))
        ?.rows.map((r) => [r.session_id, r.sampled_at.getUTCMinutes()]);
    expect(reserve([1, 2, 3])).toEqual([1, 2, 3].map((m) => [started.sessionId, m]));
    // 3 + 3 > 5: not for the caller to decide (sample() recounts what is stored); 3 + 2 fits.
    expect(reserve([4, 5, 6])).toBeUndefined();
    expect(reserve([4, 5])).toEqual([4, 5].map((m) => [started.sessionId, m]));
    expect(reserve([])).toEqual([]);
    expect(reserve([6])).toBeUndefined();
    // Rows reserved and not stored after all (the reading was not applied at once) make room again.
    node.releaseSampleRows(demoStationId(3), 'tx-direct-limit', 2);
    expect(reserve([6, 7])).toEqual([6, 7].map((m) => [started.sessionId, m]));
    expect(reserve([8])).toBeUndefined();
    // A session this node has not cached (a restart, another node): sample() reads it first.
    expect(service().reserveSampleRows(demoStationId(3), 'tx-direct-limit', [at(6)])).toBeUndefined();
    expect(node.reserveSampleRows(demoStationId(3), 'tx-none', [at(6)])).toBeUndefined();
  });
});
