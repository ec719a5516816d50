/**
 * Authorization decisions are group-committed (authorize-payment.ts): decisions recorded at once go in one INSERT,
 * every column as given, in the order they were recorded; each record() resolves only once its row is committed;
 * and a row the database refuses fails only its own record(), not the others of its batch. Both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { createPaymentAuthorizer, type PaymentAuthorizer } from '../src/payments/flows/authorize-payment.ts';
import { DEFAULT_PAYMENT_SETTINGS } from '../src/payments/payment-context.ts';
import { demoIdTag, demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const AT = new Date('2026-11-27T08:00:00.000Z');
const UNKNOWN_SESSION = '00000000-0000-4000-8000-000000000000';

describe.skipIf(skip)('authorization decisions written in batches', () => {
  let handle: DatabaseHandle;
  let authorizer: PaymentAuthorizer;
  let operatorId: string;
  let tokenIds: string[];

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
    authorizer = createPaymentAuthorizer({ db: handle.db, clock: fixedClock(AT), settings: DEFAULT_PAYMENT_SETTINGS });
    operatorId = (await handle.db.selectFrom('operators').select('id').executeTakeFirstOrThrow()).id;
    tokenIds = (
      await handle.db
        .selectFrom('id_tokens')
        .select('id')
        .where('uid', 'in', [demoIdTag(1), demoIdTag(2), demoIdTag(3)])
        .orderBy('uid')
        .execute()
    ).map((t) => t.id);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const stored = () =>
    handle.db
      .selectFrom('authorization_decisions')
      .select([
        'operator_id',
        'id_token_id',
        'id_tag',
        'payment_method_id',
        'station_id',
        'evse_id',
        'purpose',
        'status',
        'reason',
        'detail',
        'session_id',
        'at',
      ])
      .orderBy('id')
      .execute();

  it('stores decisions recorded at once, every column as given, in the order they were recorded', async () => {
    await Promise.all([
      authorizer.record(
        {
          operatorId,
          idTokenId: tokenIds[0]!,
          idTag: demoIdTag(1),
          stationId: demoStationId(1),
          evseId: null,
          purpose: 'authorize',
        },
        { status: 'Accepted', reason: 'Ok', profiled: true },
      ),
      authorizer.record(
        { operatorId, idTokenId: null, idTag: 'UNKNOWN-TAG', stationId: demoStationId(2), evseId: 1, purpose: 'start' },
        { status: 'Invalid', reason: 'UnknownIdTag' },
      ),
      // An accepted decision of a token without a payment profile is not recorded (its session records it).
      authorizer.record(
        { operatorId, idTokenId: tokenIds[2]!, idTag: demoIdTag(3), stationId: null, evseId: null, purpose: 'start' },
        { status: 'Accepted', reason: 'Ok', profiled: false },
      ),
      authorizer.record(
        {
          operatorId,
          idTokenId: tokenIds[1]!,
          idTag: demoIdTag(2),
          stationId: demoStationId(3),
          evseId: 2,
          purpose: 'start',
        },
        { status: 'Blocked', reason: 'VelocityLimitToken', detail: '6 starts of this token within the last hour' },
      ),
    ]);
    expect(await stored()).toEqual([
      {
        operator_id: operatorId,
        id_token_id: tokenIds[0],
        id_tag: demoIdTag(1),
        payment_method_id: null,
        station_id: demoStationId(1),
        evse_id: null,
        purpose: 'authorize',
        status: 'Accepted',
        reason: 'Ok',
        detail: null,
        session_id: null,
        at: AT,
      },
      {
        operator_id: operatorId,
        id_token_id: null,
        id_tag: 'UNKNOWN-TAG',
        payment_method_id: null,
        station_id: demoStationId(2),
        evse_id: 1,
        purpose: 'start',
        status: 'Invalid',
        reason: 'UnknownIdTag',
        detail: null,
        session_id: null,
        at: AT,
      },
      {
        operator_id: operatorId,
        id_token_id: tokenIds[1],
        id_tag: demoIdTag(2),
        payment_method_id: null,
        station_id: demoStationId(3),
        evse_id: 2,
        purpose: 'start',
        status: 'Blocked',
        reason: 'VelocityLimitToken',
        detail: '6 starts of this token within the last hour',
        session_id: null,
        at: AT,
      },
    ]);
  });

  it('a row the database refuses fails its own record() only; the rest of its batch is stored', async () => {
    await handle.db.deleteFrom('authorization_decisions').execute();
    const outcomes = await Promise.allSettled([
      authorizer.record(
        { operatorId, idTokenId: tokenIds[0]!, idTag: demoIdTag(1), stationId: null, evseId: null, purpose: 'start' },
        { status: 'Accepted', reason: 'Ok', profiled: true },
      ),
      authorizer.record(
        {
          operatorId,
          idTokenId: tokenIds[1]!,
          idTag: demoIdTag(2),
          stationId: null,
          evseId: null,
          purpose: 'start',
          sessionId: UNKNOWN_SESSION,
        },
        { status: 'Accepted', reason: 'Ok', profiled: true },
      ),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect((await stored()).map((d) => d.id_tag)).toEqual([demoIdTag(1)]);
    await authorizer.flush();
  });
});
