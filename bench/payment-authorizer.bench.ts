/**
 * What the payment side of authorization adds to a session start: decide() (one query) for a plain RFID token, a
 * card token and a wallet token, and record() (one insert) for the tokens whose decisions are recorded. Embedded
 * PGlite in memory (the default deployment's engine, without disk); figures are per call, sequential.
 * Run: npx tsx bench/payment-authorizer.bench.ts [calls]   (default 2,000 per case). Not part of the test run.
 */
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createPaymentAuthorizer } from '../src/payments/flows/authorize-payment.ts';
import { DEFAULT_PAYMENT_SETTINGS } from '../src/payments/payment-context.ts';
import { systemClock } from '../src/shared/clock.ts';

const CALLS = Number(process.argv[2] ?? 2000);

const handle = await openDatabase({ kind: 'pglite', dataDir: 'memory', command: 'bench' });
const { db } = handle;
await migrateToLatest(db);
const operator = await db
  .insertInto('operators')
  .values({ name: 'Bench CPO', country_code: 'DE', party_id: 'BEN', currency: 'EUR' })
  .returning('id')
  .executeTakeFirstOrThrow();
const token = async (uid: string) =>
  (
    await db
      .insertInto('id_tokens')
      .values({
        operator_id: operator.id,
        uid,
        status: 'Accepted',
        label: uid,
        expires_at: null,
        contract_id: null,
        group_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
const plain = await token('PLAIN');
const card = await token('CARD');
const walletToken = await token('WALLET');
const method = await db
  .insertInto('payment_methods')
  .values({
    operator_id: operator.id,
    id_token_id: card,
    customer_id: null,
    provider: 'sandbox',
    provider_customer_id: 'cus_sbx_bench',
    token: 'pm_sbx_bench',
    brand: 'visa',
    last4: '4242',
    exp_month: 12,
    exp_year: 2034,
    blocked_reason: null,
  })
  .returning('id')
  .executeTakeFirstOrThrow();
await db
  .insertInto('payment_profiles')
  .values({
    id_token_id: card,
    operator_id: operator.id,
    method: 'card',
    payment_method_id: method.id,
    wallet_id: null,
    hold_minor: null,
  })
  .execute();
const wallet = await db
  .insertInto('wallets')
  .values({ operator_id: operator.id, id_token_id: walletToken, currency: 'EUR', balance_minor: 100_000n })
  .returning('id')
  .executeTakeFirstOrThrow();
await db
  .insertInto('payment_profiles')
  .values({
    id_token_id: walletToken,
    operator_id: operator.id,
    method: 'wallet',
    payment_method_id: null,
    wallet_id: wallet.id,
    hold_minor: null,
  })
  .execute();

// Limits high enough that every call is accepted (and recorded for the profiled tokens).
const authorizer = createPaymentAuthorizer({
  db,
  clock: systemClock,
  settings: { ...DEFAULT_PAYMENT_SETTINGS, startsPerTokenPerHour: 1_000_000, startsPerCardPerHour: 1_000_000 },
});

console.log(`payment authorizer — ${CALLS} sequential calls per case, PGlite in memory`);
{
  // Baseline: the cheapest query a start already makes (a token lookup by primary key).
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await db.selectFrom('id_tokens').select('id').where('id', '=', plain).execute();
  const us = Number(process.hrtime.bigint() - started) / 1000 / CALLS;
  console.log(`  ${'baseline: one primary-key lookup'.padEnd(46)} ${us.toFixed(0).padStart(6)} µs`);
}
for (const [name, id] of [
  ['plain RFID token (decide only, not recorded)', plain],
  ['card token (decide + record)', card],
  ['wallet token (decide + record)', walletToken],
] as const) {
  const input = {
    operatorId: operator.id,
    idTokenId: id,
    idTag: name,
    stationId: 'S',
    evseId: 1,
    purpose: 'start' as const,
  };
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    const decision = await authorizer.decide(input);
    await authorizer.record(input, decision);
  }
  const us = Number(process.hrtime.bigint() - started) / 1000 / CALLS;
  console.log(`  ${name.padEnd(46)} ${us.toFixed(0).padStart(6)} µs per start`);
}
await handle.close();
