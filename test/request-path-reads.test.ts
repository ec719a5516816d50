/**
 * The merged reads of the request path decide exactly as the separate reads they replace: the token with
 * "charging elsewhere" and its payment profile in one statement (findIdTokenForDecision versus findIdToken +
 * isChargingElsewhere + the payment profile), and the running cost with its inputs in one statement and the
 * tariff from the immutable version cache (versus without the cache), on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findIdToken, findIdTokenForDecision, isChargingElsewhere } from '../src/auth/id-token-store.ts';
import { TariffVersionCache } from '../src/billing/tariff-version-cache.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { priceRunningSession } from '../src/ocpp/v201/session-cost.ts';
import { demoIdTag, demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import type { SessionService } from '../src/sessions/session-service.ts';
import {
  findSessionByTransaction,
  insertSamples,
  recordStateChangeOnEvse,
  type SampleRow,
} from '../src/sessions/session-store.ts';
import { createTestSessionService } from './support/session-service.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();

describe.skipIf(skip)('merged reads on the request path', () => {
  let handle: DatabaseHandle;
  let operatorId: string;
  let service: SessionService;

  beforeAll(async () => {
    handle = await openTestDatabase();
    const seeded = await seedDemo(handle.db, 'half-up');
    operatorId = seeded!.operatorId;
    const db = handle.db;
    service = createTestSessionService(db, new Date('2026-11-20T08:00:00Z'));
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('reads the token, charging elsewhere and the payment profile as the separate reads do', async () => {
    const db = handle.db;
    expect(await findIdTokenForDecision(db, operatorId, 'NO-SUCH-CARD', { stationId: '', evseId: 0 })).toBeUndefined();

    const tag = demoIdTag(3).toLowerCase();
    const before = await findIdTokenForDecision(db, operatorId, tag, { stationId: '', evseId: 0 });
    expect(before).toEqual({
      ...(await findIdToken(db, operatorId, tag)),
      chargingElsewhere: false,
      hasPaymentProfile: false,
    });

    const started = await service.start({
      kind: 'TransactionStarted',
      stationId: demoStationId(3),
      evseId: 1,
      connectorId: 1,
      idTag: demoIdTag(3),
      meterStartWh: 1000n,
      startedAt: new Date('2026-11-20T07:00:00Z'),
    });
    expect(started.ok && started.authorization.status).toBe('Accepted');
    for (const where of [
      { stationId: '', evseId: 0 },
      { stationId: demoStationId(3), evseId: 1 },
      { stationId: demoStationId(3), evseId: 2 },
      { stationId: demoStationId(4), evseId: 1 },
    ]) {
      const merged = await findIdTokenForDecision(db, operatorId, tag, where);
      expect(merged?.chargingElsewhere).toBe(
        await isChargingElsewhere(db, operatorId, tag, where.stationId, where.evseId),
      );
    }
    expect(
      (await findIdTokenForDecision(db, operatorId, tag, { stationId: demoStationId(3), evseId: 1 }))
        ?.chargingElsewhere,
    ).toBe(false);
    expect((await findIdTokenForDecision(db, operatorId, tag, { stationId: '', evseId: 0 }))?.chargingElsewhere).toBe(
      true,
    );

    await db
      .insertInto('payment_profiles')
      .values({ id_token_id: before!.id, operator_id: operatorId, method: 'invoice' })
      .execute();
    expect((await findIdTokenForDecision(db, operatorId, tag, { stationId: '', evseId: 0 }))?.hasPaymentProfile).toBe(
      true,
    );
  });

  it('prices a running session the same with the one-statement inputs and the tariff cache as without', async () => {
    const db = handle.db;
    const started = await service.start({
      kind: 'TransactionStarted',
      stationId: demoStationId(5),
      evseId: 1,
      connectorId: 1,
      idTag: demoIdTag(5),
      meterStartWh: 2000n,
      startedAt: new Date('2026-11-20T06:00:00Z'),
      transactionId: 'tx-running-cost',
    });
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    // The start hands back the stored row: the same as reading it again.
    expect(await findSessionByTransaction(db, demoStationId(5), 'tx-running-cost')).toEqual(started.session);

    const noReadingYet = await priceRunningSession(db, started.session, new TariffVersionCache());
    expect(noReadingYet).toEqual({ kind: 'unknown', reason: 'no energy reading after the start yet' });

    const row = (minute: number, registerWh: string): SampleRow => ({
      session_id: started.sessionId,
      sampled_at: new Date(Date.UTC(2026, 10, 20, 6, minute)),
      context: 'Sample.Periodic',
      register_wh: registerWh,
      power_w: '11000.000',
      current_a: null,
      soc_percent: null,
    });
    await insertSamples(db, [row(15, '4750.500'), row(30, '7500.000'), row(45, '9999.999')]);
    await recordStateChangeOnEvse(db, demoStationId(5), 1, 'SuspendedEV', new Date('2026-11-20T06:30:00Z'));

    const cache = new TariffVersionCache();
    const uncached = await priceRunningSession(db, started.session);
    const first = await priceRunningSession(db, started.session, cache);
    const second = await priceRunningSession(db, started.session, cache);
    // 07:00-07:45 Berlin, day rate: 7.999 kWh x 0.49 + 0.35 session + 15 min SuspendedEV x 6.00/h = 5.76951,
    // +19% VAT = 6.8657 -> 6.87 EUR.
    expect(uncached).toEqual({ kind: 'priced', inclVat: { minor: 687n, currency: 'EUR' } });
    expect(first).toEqual(uncached);
    expect(second).toEqual(uncached);
  });
});
