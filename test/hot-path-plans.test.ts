/**
 * How the database executes the statements of every message, on a database with history (both databases): the plan
 * checked is the generic plan of the prepared statement, the one a busy node runs (test/support/generic-plan.ts).
 * Each of these once read rows in proportion to the history or the fleet instead of the message:
 * - the samples' batch INSERT compared every row with every Active session (a join; now one key lookup per row);
 * - the statement of OCPP 2.0.1 readings, as first written, read every session and every pending event (hash joins
 *   in the generic plan); now each row's by their keys;
 * - "is this idTag charging elsewhere" (every Authorize and start) read every session of the operator, and the
 *   Active session of an EVSE (every charging-state change) every session of the station: now the partial indexes
 *   of running sessions (migration 0016);
 * - the stop's "payment of this session" read every payment ever made: now the ad-hoc payments' partial index;
 * - the tariff in force at a start read every tariff assignment of the operator: now each scope's partial index;
 * - the payment worker's claim read and sorted every due outbox item to take one: now the first, in index order;
 * - a paying token's decision looked for open disputes among every payment ever made: now among the open disputes.
 * The lookups still decide as before.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findIdTokenForDecision } from '../src/auth/id-token-store.ts';
import type { BillingContext } from '../src/billing/billing-hooks.ts';
import { lockSessionForBilling } from '../src/billing/billing-shared.ts';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { storeReadingEvents } from '../src/ocpp/v201/transaction-event-store.ts';
import { createPaymentAuthorizer } from '../src/payments/flows/authorize-payment.ts';
import { createPaymentBillingHook } from '../src/payments/flows/payment-billing-hook.ts';
import { claimNextOutboxItem } from '../src/payments/worker/outbox-store.ts';
import { demoIdTag, demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import {
  findActiveSessionOnEvse,
  findSessionByTransaction,
  insertSamples,
  recordStateChangeOnEvse,
} from '../src/sessions/session-store.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { findTariffInForce } from '../src/tariff/tariff-store.ts';
import { insertCardProfile } from './support/card-profile.ts';
import { genericPlanOf, statementsOf } from './support/generic-plan.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const HISTORY_SESSIONS = 3000;

describe.skipIf(skip)('lookups of running sessions', () => {
  let handle: DatabaseHandle;
  let operatorId: string;

  beforeAll(async () => {
    handle = await openTestDatabase();
    operatorId = (await seedDemo(handle.db, 'half-up'))!.operatorId;
    // Completed sessions of every demo card on station 1, EVSE 1: the history the old plans read through.
    await sql`
      insert into sessions (operator_id, station_id, evse_id, connector_id, transaction_id, start_key, id_tag,
                            authorization_status, status, billing_status, started_at, ended_at, meter_start_wh,
                            time_zone, currency)
      select ${operatorId}::uuid, ${demoStationId(1)}, 1, 1, 'history-' || i, 'history-' || i,
             'DEMO' || lpad(((i % 10) + 1)::text, 4, '0'), 'Accepted', 'Completed', 'NotBillable',
             timestamptz '2024-01-01' + i * interval '1 hour', timestamptz '2024-01-01' + i * interval '1 hour',
             0, 'Europe/Berlin', 'EUR'
      from generate_series(1, ${HISTORY_SESSIONS}) as i`.execute(handle.db);
    // A captured payment for each, as the sessions of a card customer leave behind.
    await sql`
      insert into payments (operator_id, kind, provider, session_id, currency, requested_minor, status)
      select operator_id, 'session', 'sandbox', id, 'EUR', 1000, 'captured' from sessions`.execute(handle.db);
    // Tariffs assigned to many driver groups, as a CPO with fleet contracts has.
    await sql`
      insert into tariff_assignments (operator_id, tariff_id, audience, scope, group_id)
      select ${operatorId}::uuid, (select id from tariffs limit 1), 'contract', 'group', 'fleet-' || i
      from generate_series(1, ${HISTORY_SESSIONS}) as i`.execute(handle.db);
    await sql`analyze tariff_assignments`.execute(handle.db);
    await sql`analyze sessions`.execute(handle.db);
    await sql`analyze payments`.execute(handle.db);
  }, 180_000);
  afterAll(async () => {
    await handle?.close();
  });

  const planOf = async (run: Parameters<typeof statementsOf>[1]) => {
    const [statement] = await statementsOf(handle.db, run);
    return genericPlanOf(handle.db, statement!);
  };

  it("checks each sample's session by its key, with no join over all sessions", async () => {
    const plan = await planOf((db) =>
      insertSamples(db, [
        {
          session_id: '00000000-0000-4000-8000-000000000000',
          sampled_at: new Date('2026-11-20T06:00:00Z'),
          context: 'Sample.Periodic',
          register_wh: '0.000',
          power_w: null,
          current_a: null,
          soc_percent: null,
        },
      ]),
    );
    expect(plan).toContain('SubPlan');
    expect(plan).not.toMatch(/Join|Nested Loop|Materialize|Seq Scan on sessions/);
  });

  it("reads an OCPP 2.0.1 reading's session and pending events by their keys, with no scan of either table", async () => {
    const at = new Date('2026-11-20T06:00:00Z');
    const plan = await planOf((db) =>
      storeReadingEvents(
        db,
        [
          {
            stationId: demoStationId(1),
            event: {
              eventType: 'Updated',
              timestamp: at.toISOString(),
              triggerReason: 'MeterValuePeriodic',
              seqNo: 1,
              transactionInfo: { transactionId: 'history-7' },
            },
            eventAt: at,
            receivedAt: at,
          },
        ],
        at,
      ),
    );
    expect(plan).toMatch(/Index Scan using sessions_station_id_transaction_id_key on sessions/);
    expect(plan).toMatch(/Index Only Scan using ocpp_transaction_events_pending on ocpp_transaction_events/);
    // Joins among the batch's own rows are fine; none may read either table beyond the rows' keys.
    expect(plan).not.toMatch(/Seq Scan on (sessions|ocpp_transaction_events)|Bitmap Heap Scan/);
  });

  it('asks "charging elsewhere" of the running sessions only', async () => {
    const plan = await planOf((db) =>
      findIdTokenForDecision(db, operatorId, demoIdTag(2), { stationId: demoStationId(2), evseId: 1 }),
    );
    expect(plan).toContain('sessions_active_id_tag');
    expect(plan).not.toMatch(/sessions_operator_started|Seq Scan on sessions/);
  });

  it('finds the Active session of an EVSE among the running sessions only', async () => {
    const find = await planOf((db) => findActiveSessionOnEvse(db, demoStationId(1), 1));
    expect(find).toContain('sessions_active_evse');
    expect(find).not.toMatch(/sessions_station_started|Seq Scan on sessions/);

    const change = await planOf((db) =>
      recordStateChangeOnEvse(db, demoStationId(1), 1, 'SuspendedEV', new Date('2026-11-20T06:30:00Z')),
    );
    expect(change).toContain('sessions_active_evse');
    expect(change).not.toMatch(/sessions_station_started|Seq Scan on sessions/);
  });

  it('locks the stopping session by its key, its place, token and seller by their keys', async () => {
    const plan = await planOf((db) =>
      db.transaction().execute((trx) => lockSessionForBilling(trx, {}, demoStationId(1), 'history-7')),
    );
    expect(plan).toContain('LockRows');
    expect(plan).toMatch(/Index Scan using sessions_station_id_transaction_id_key on sessions/);
    expect(plan).not.toMatch(/Seq Scan on (sessions|id_tokens|payment_profiles|invoice_billing_plans)/);
  });

  it("reads the stop's payment by the session and the ad-hoc payments of its token only", async () => {
    const history = await findSessionByTransaction(handle.db, demoStationId(1), 'history-7');
    const token = await handle.db.selectFrom('id_tokens').select('id').limit(1).executeTakeFirstOrThrow();
    const context = {
      session: { ...history!, id_token_id: token.id },
      outcome: { status: 'NotBillable' },
      now: new Date('2026-11-20T08:00:00Z'),
      shared: { paymentProfile: null },
    } as unknown as BillingContext;
    const hook = createPaymentBillingHook();
    const [statement] = await statementsOf(handle.db, (db) => db.transaction().execute((trx) => hook(trx, context)));
    expect(statement!.sql).toMatch(/^select \* from "payments"/);
    const plan = await genericPlanOf(handle.db, statement!);
    expect(plan).toContain('payments_token');
    expect(plan).not.toContain('Seq Scan on payments');
  });

  it('reads the tariff in force through the partial index of each scope', async () => {
    const station = await handle.db
      .selectFrom('stations')
      .select('location_id')
      .where('id', '=', demoStationId(1))
      .executeTakeFirstOrThrow();
    const plan = await planOf((db) =>
      findTariffInForce(db, {
        operatorId,
        locationId: station.location_id!,
        stationId: demoStationId(1),
        evseId: 1,
        at: new Date('2026-11-20T06:00:00Z'),
        groupId: 'fleet-7',
      }),
    );
    expect(plan).toContain('tariff_assignments_group');
    expect(plan).not.toContain('Seq Scan on tariff_assignments');
  });

  it('claims the first due payment step without reading the whole queue', async () => {
    // A backlog as a burst of stops leaves: a capture queued for each of the 3,000 payments, every one due.
    await sql`
      insert into payment_outbox (payment_id, action, idempotency_key, amount_minor, next_attempt_at)
      select id, 'settle', 'settle:' || id, 1000, timestamptz '2026-11-20T05:00:00Z' + (row_number() over ()) * interval '1 ms'
      from payments`.execute(handle.db);
    await sql`analyze payment_outbox`.execute(handle.db);
    const now = new Date('2026-11-20T06:00:00Z');
    const statements = await statementsOf(handle.db, (db) => claimNextOutboxItem(db, now, 60_000));
    const plan = await genericPlanOf(handle.db, statements[0]!);
    // In order from the index, stopping at the first lockable item: no sort of every due item.
    expect(plan).toContain('payment_outbox_due_in_order');
    expect(plan).not.toMatch(/Sort|Seq Scan on payment_outbox/);
    // And it claimed the earliest due item, leasing it and its payment.
    const first = await handle.db
      .selectFrom('payment_outbox')
      .select(['id', 'locked_until', 'attempts'])
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(2)
      .execute();
    expect(first[0]!.locked_until).toEqual(new Date(now.getTime() + 60_000));
    expect(first[0]!.attempts).toBe(1);
    expect(first[1]!.locked_until).toBeNull();
  });

  it('decides a paying token from its own rows: open disputes by key, its own starts of the hour', async () => {
    const db = handle.db;
    const token = await db
      .selectFrom('id_tokens')
      .select('id')
      .where('uid', '=', demoIdTag(5))
      .executeTakeFirstOrThrow();
    const method = {
      id: (await insertCardProfile(db, { id: token.id, operatorId: operatorId }, 'plan')).paymentMethodId,
    };
    // History: 1,000 disputes long closed, and 3,000 starts of 1,000 other drivers within the hour.
    await sql`
      insert into payment_disputes (operator_id, payment_id, provider, provider_dispute_id, currency, amount_minor,
                                    reason, status, opened_at, closed_at)
      select operator_id, id, 'sandbox', 'dp_' || id, 'EUR', 1000, 'fraudulent', 'won', now(), now()
      from payments limit 1000`.execute(db);
    await sql`
      insert into id_tokens (operator_id, uid, status, label)
      select ${operatorId}::uuid, 'FLEET' || i, 'Accepted', 'fleet card' from generate_series(1, 1000) as i`.execute(
      db,
    );
    await sql`
      insert into authorization_decisions (operator_id, id_token_id, id_tag, station_id, evse_id, purpose, status,
                                           reason, at)
      select ${operatorId}::uuid, t.id, t.uid, ${demoStationId(2)}, 1, 'start', 'Accepted', 'Ok',
             timestamptz '2026-11-20T05:00:00Z' + i * interval '1 minute'
      from id_tokens t cross join generate_series(1, 3) as i where t.uid like 'FLEET%'`.execute(db);
    await sql`analyze payment_disputes`.execute(db);
    await sql`analyze authorization_decisions`.execute(db);
    const input = {
      operatorId,
      idTokenId: token.id,
      idTag: demoIdTag(5),
      stationId: demoStationId(1),
      evseId: 1,
      purpose: 'start' as const,
      hasPaymentProfile: true,
    };
    const authorizerOn = (on: typeof db) =>
      createPaymentAuthorizer({
        db: on,
        clock: fixedClock(new Date('2026-11-20T06:00:00Z')),
        settings: { walletMinStartMinor: 500n, startsPerTokenPerHour: 6, startsPerCardPerHour: 10 },
      });
    const statements = await statementsOf(db, (on) => authorizerOn(on).decide(input));
    const decision = statements.find((statement) => statement.sql.includes('open_dispute'));
    const plan = await genericPlanOf(db, decision!);
    expect(plan).toContain('payment_disputes_open');
    expect(plan).toContain('authorization_decisions_token_starts');
    expect(plan).not.toMatch(/Seq Scan on (payments|payment_disputes|authorization_decisions)/);
    // The same inputs carried by the token's read (the start and Authorize path): the same indexes, no whole table.
    const where = { stationId: demoStationId(1), evseId: 1 };
    const tokenRead = await statementsOf(db, (on) =>
      findIdTokenForDecision(on, operatorId, demoIdTag(5), where, authorizerOn(on).prefetchInputs),
    );
    expect(tokenRead).toHaveLength(1);
    const carried = await genericPlanOf(db, tokenRead[0]!);
    expect(carried).toContain('payment_disputes_open');
    expect(carried).toContain('authorization_decisions_token_starts');
    expect(carried).not.toMatch(/Seq Scan on (payments|payment_disputes|authorization_decisions)/);
    // Decided from the carried inputs without a read of its own, exactly as decide() reading them itself.
    const decideCarried = async () => {
      const token = await findIdTokenForDecision(db, operatorId, demoIdTag(5), where, authorizerOn(db).prefetchInputs);
      expect(token?.paymentInputs).not.toBeNull();
      let decision: Awaited<ReturnType<ReturnType<typeof authorizerOn>['decide']>> | undefined;
      const reads = await statementsOf(db, async (on) => {
        decision = await authorizerOn(on).decide({ ...input, prefetched: token?.paymentInputs });
      });
      expect(reads).toEqual([]);
      return decision;
    };
    // And it decides as before: accepted; refused once one of the token's own payments has an open dispute.
    expect((await authorizerOn(db).decide(input)).status).toBe('Accepted');
    expect(await decideCarried()).toEqual(await authorizerOn(db).decide(input));
    const disputed = await db
      .insertInto('payments')
      .values({
        operator_id: operatorId,
        kind: 'session',
        provider: 'sandbox',
        id_token_id: token.id,
        payment_method_id: method.id,
        currency: 'EUR',
        requested_minor: 1000n,
        status: 'captured',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('payment_disputes')
      .values({
        operator_id: operatorId,
        payment_id: disputed.id,
        provider: 'sandbox',
        provider_dispute_id: 'dp_open',
        currency: 'EUR',
        amount_minor: 1000n,
        reason: 'fraudulent',
        status: 'open',
        opened_at: new Date('2026-11-19T00:00:00Z'),
      })
      .execute();
    const refused = await authorizerOn(db).decide(input);
    expect(refused).toMatchObject({ status: 'Blocked', reason: 'DisputeOpen', detail: 'dispute dp_open is open' });
    expect(await decideCarried()).toEqual(refused);
  });

  it('decides as before: completed sessions do not count, a running one on another EVSE does', async () => {
    const decide = (stationId: string) =>
      findIdTokenForDecision(handle.db, operatorId, demoIdTag(3).toLowerCase(), { stationId, evseId: 1 });
    expect((await decide(demoStationId(3)))?.chargingElsewhere).toBe(false);
    expect(await findActiveSessionOnEvse(handle.db, demoStationId(1), 1)).toBeUndefined();

    await handle.db
      .insertInto('sessions')
      .values({
        operator_id: operatorId,
        station_id: demoStationId(1),
        evse_id: 1,
        connector_id: 1,
        transaction_id: 'running-1',
        start_key: 'running-1',
        id_tag: demoIdTag(3),
        authorization_status: 'Accepted',
        status: 'Active',
        started_at: new Date('2026-11-20T06:00:00Z'),
        meter_start_wh: 0n,
        time_zone: 'Europe/Berlin',
        currency: 'EUR',
      })
      .execute();
    expect((await decide(demoStationId(3)))?.chargingElsewhere).toBe(true);
    // Its own EVSE is not "elsewhere".
    expect((await decide(demoStationId(1)))?.chargingElsewhere).toBe(false);
    expect((await findActiveSessionOnEvse(handle.db, demoStationId(1), 1))?.transaction_id).toBe('running-1');
    expect(
      await recordStateChangeOnEvse(handle.db, demoStationId(1), 1, 'SuspendedEV', new Date('2026-11-20T06:30:00Z')),
    ).toBe(true);
  });
});
