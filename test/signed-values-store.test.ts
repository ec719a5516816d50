/**
 * storeSignedValues on a real database (both): the session's lookup and the insert in one statement store each
 * distinct value once, in arrival order, byte for byte; a retry stores nothing; an unknown transaction stores nothing
 * and says so; a value over the length limit is left out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { loadSignedValues, MAX_SIGNED_VALUE_CHARS, storeSignedValues } from '../src/meters/signed-values-store.ts';
import { demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import { createTestSessionService, startDemoSession } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const AT = new Date('2026-11-20T08:00:00Z');

describe.skipIf(postgresSkipReason())('storeSignedValues', () => {
  let handle: DatabaseHandle;
  let sessionId: string;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
    const service = createTestSessionService(handle.db, AT);
    sessionId = await startDemoSession(service, 3, 'tx-signed-store', new Date('2026-11-20T06:00:00Z'));
  });
  afterAll(async () => {
    await handle?.close();
  });

  const target = { stationId: demoStationId(3), transactionId: 'tx-signed-store' };
  // Quotes, backslashes, braces, a newline and non-ASCII: the raw value must come back exactly as it went in.
  const begin = 'OCMF|{"TX":"B","ID":"a\\"b\\\\c {x}"}|{"SD":"30 44"}\nÄ';
  const end = '{"signedMeterData":"T0NNRnx7fQ==","encodingMethod":"OCMF","publicKey":""}';

  it('stores each distinct value once, in arrival order and exactly; a retry stores nothing', async () => {
    const stored = await storeSignedValues(
      handle.db,
      target,
      'MeterValues',
      [
        { at: new Date('2026-11-20T06:00:01Z'), context: 'Transaction.Begin', raw: begin },
        { at: null, context: null, raw: end },
        { at: null, context: null, raw: begin },
      ],
      AT,
    );
    expect(stored).toBe(2);
    expect(await loadSignedValues(handle.db, sessionId)).toEqual([begin, end]);
    const rows = await handle.db
      .selectFrom('session_signed_values')
      .select(['source', 'sampled_at', 'context', 'received_at'])
      .where('session_id', '=', sessionId)
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      {
        source: 'MeterValues',
        sampled_at: new Date('2026-11-20T06:00:01Z'),
        context: 'Transaction.Begin',
        received_at: AT,
      },
      { source: 'MeterValues', sampled_at: null, context: null, received_at: AT },
    ]);
    expect(
      await storeSignedValues(handle.db, target, 'StopTransaction', [{ at: null, context: null, raw: end }], AT),
    ).toBe(0);
    expect(await loadSignedValues(handle.db, sessionId)).toEqual([begin, end]);
  });

  it('stores nothing for an unknown transaction (null), and leaves out a value over the limit', async () => {
    const unknown = { stationId: demoStationId(3), transactionId: 'tx-nobody' };
    expect(
      await storeSignedValues(handle.db, unknown, 'MeterValues', [{ at: null, context: null, raw: 'x' }], AT),
    ).toBe(null);
    const long = 'y'.repeat(MAX_SIGNED_VALUE_CHARS + 1);
    expect(
      await storeSignedValues(handle.db, target, 'MeterValues', [{ at: null, context: null, raw: long }], AT),
    ).toBe(0);
    expect(await storeSignedValues(handle.db, target, 'MeterValues', [], AT)).toBe(0);
    expect(await loadSignedValues(handle.db, sessionId)).toEqual([begin, end]);
  });
});
