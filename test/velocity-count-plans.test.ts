/**
 * The velocity counts of a paying token's Authorize and start (the token's starts and its card's starts of the last
 * hour) each read their own index, also with the statistics of a young table (before autovacuum's next analyze).
 * Both indexes had the same predicate, so either could serve either count; PostgreSQL then counted a token's starts
 * through the card index by its second column, every driver's start of the hour (migration 0019). On a real database
 * (both): statistics taken while the table was empty, then 3,000 starts of other drivers and a few of the token's.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findIdTokenForDecision } from '../src/auth/id-token-store.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { createPaymentAuthorizer } from '../src/payments/flows/authorize-payment.ts';
import { demoIdTag, demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { insertCardProfile } from './support/card-profile.ts';
import { genericPlanOf, statementsOf } from './support/generic-plan.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const NOW = new Date('2026-11-27T06:00:00Z');

describe.skipIf(skip)('velocity counts with young statistics', () => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('counts the token’s starts by the token’s index and the card’s by the card’s, not every start of the hour', async () => {
    const db = handle.db;
    const token = await db
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', demoIdTag(4))
      .executeTakeFirstOrThrow();
    const method = {
      id: (await insertCardProfile(db, { id: token.id, operatorId: token.operator_id }, 'young')).paymentMethodId,
    };
    // Statistics of the empty table, as a young database has them; then the hour's starts, not analyzed.
    await sql`analyze authorization_decisions`.execute(db);
    await sql`
      insert into id_tokens (operator_id, uid, status, label)
      select ${token.operator_id}::uuid, 'YOUNG' || i, 'Accepted', 'other driver' from generate_series(1, 1000) as i`.execute(
      db,
    );
    await sql`
      insert into authorization_decisions (operator_id, id_token_id, id_tag, station_id, evse_id, purpose, status,
                                           reason, at)
      select ${token.operator_id}::uuid, t.id, t.uid, ${demoStationId(2)}, 1, 'start', 'Accepted', 'Ok',
             timestamptz '2026-11-27T05:05:00Z' + i * interval '1 minute'
      from id_tokens t cross join generate_series(1, 3) as i where t.uid like 'YOUNG%'`.execute(db);
    await sql`
      insert into authorization_decisions (operator_id, id_token_id, id_tag, payment_method_id, station_id, evse_id,
                                           purpose, status, reason, at)
      select ${token.operator_id}::uuid, ${token.id}::uuid, ${demoIdTag(4)}, ${method.id}::uuid, ${demoStationId(4)},
             1, 'start', 'Accepted', 'Ok', timestamptz '2026-11-27T05:30:00Z' + i * interval '1 minute'
      from generate_series(1, 4) as i`.execute(db);

    const authorizer = createPaymentAuthorizer({
      db,
      clock: fixedClock(NOW),
      settings: { walletMinStartMinor: 500n, startsPerTokenPerHour: 4, startsPerCardPerHour: 10 },
    });
    const where = { stationId: demoStationId(4), evseId: 1 };
    const [read] = await statementsOf(db, (on) =>
      findIdTokenForDecision(on, token.operator_id, demoIdTag(4), where, authorizer.prefetchInputs),
    );
    const plan = await genericPlanOf(db, read!);
    const scans = plan.split('\n').filter((line) => line.includes('authorization_decisions'));
    expect(scans).toHaveLength(2);
    expect(scans.some((line) => line.includes('using authorization_decisions_token_starts'))).toBe(true);
    expect(scans.some((line) => line.includes('using authorization_decisions_method_starts'))).toBe(true);
    // Each by its own column, in the index condition (not a filter over every start of the hour).
    expect(plan).toMatch(/Index Cond: \(\(id_token_id = /);
    expect(plan).toMatch(/Index Cond: \(\(payment_method_id = /);
    expect(plan).not.toMatch(/Filter: \(\(?(id_token_id|payment_method_id) = /);
    // And the count decides: the token's 4 starts of the hour reach its limit of 4.
    const found = await findIdTokenForDecision(db, token.operator_id, demoIdTag(4), where, authorizer.prefetchInputs);
    const decision = await authorizer.decide({
      operatorId: token.operator_id,
      idTokenId: token.id,
      idTag: demoIdTag(4),
      stationId: where.stationId,
      evseId: 1,
      purpose: 'start',
      prefetched: found?.paymentInputs,
    });
    expect(decision).toMatchObject({ status: 'Blocked', reason: 'VelocityLimitToken' });
    // The inputs as text decide the same; anything that is not a row of them is refused, never read as "no limits".
    const input = {
      operatorId: token.operator_id,
      idTokenId: token.id,
      idTag: demoIdTag(4),
      stationId: where.stationId,
      evseId: 1,
      purpose: 'start' as const,
    };
    expect(await authorizer.decide({ ...input, prefetched: JSON.stringify(found?.paymentInputs) })).toEqual(decision);
    await expect(authorizer.decide({ ...input, prefetched: {} })).rejects.toThrow(/not a row of them/);
    await expect(authorizer.decide({ ...input, prefetched: '[]' })).rejects.toThrow(/not a row of them/);
  });
});
