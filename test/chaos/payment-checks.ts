/**
 * The crash test's payment checks (`--provider-faults`): the Stripe-shaped server's own state is the provider's
 * truth, read after the payment worker has caught up. Money must never move twice or beyond a hold, every card
 * invoice must be collected exactly, every hold must end captured or cancelled, and Voltbill's payments must agree
 * with the provider.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { StripeShapedServer } from '../support/stripe-shaped-server.ts';
import type { CheckResult } from './chaos-checks.ts';

type Intent = Record<string, unknown>;

/** What the run did at the provider and in the outbox: printed by the runner. */
export type PaymentFigures = {
  readonly intents: number;
  readonly captured: number;
  readonly cancelled: number;
  readonly stillHeld: number;
  readonly capturedMinor: bigint;
  readonly cardInvoices: number;
  readonly outboxItems: number;
  readonly outboxRetries: number;
  readonly outboxByAction: string;
  readonly lastErrors: string;
};

/** Items of the payment outbox still to be worked (pending, whatever their next attempt time). */
export async function pendingOutboxItems(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('payment_outbox')
    .select((eb) => eb.fn.countAll<string | number | bigint>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function checkPayments(
  db: Kysely<Database>,
  stripe: StripeShapedServer,
  options: { readonly renewHolds?: boolean } = {},
): Promise<{ results: CheckResult[]; figures: PaymentFigures }> {
  const results: CheckResult[] = [];
  const intents = stripe.allIntents();
  const byId = new Map(intents.map((intent) => [intent.id as string, intent]));
  const list = (items: string[]) => (items.length ? `: ${items.slice(0, 5).join(', ')}` : '');

  // 1. At the provider: one capture per PaymentIntent at most, never above what it held.
  const twice = intents.filter((i) => stripe.captureCount(i.id as string) > 1).map((i) => i.id as string);
  const above = intents
    .filter((i) => (i.amount_received as number) > (i.amount as number))
    .map((i) => `${i.id} captured ${i.amount_received} of ${i.amount}`);
  results.push({
    name: 'provider: no PaymentIntent captured twice, no capture above its hold',
    ok: twice.length === 0 && above.length === 0,
    detail: `${intents.length} PaymentIntents; ${twice.length} captured twice${list(twice)}; ${above.length} above their hold${list(above)}`,
  });

  const payments = await db
    .selectFrom('payments as p')
    .leftJoin('sessions as s', 's.id', 'p.session_id')
    .select([
      'p.id',
      'p.kind',
      'p.status',
      'p.provider_payment_id',
      'p.captured_minor',
      's.billing_status as billingStatus',
    ])
    .where('p.provider', '=', 'stripe')
    .execute();
  // A session held for review keeps its hold until someone releases or settles it: not finished, not checked here.
  const reviewHolds = new Set(
    payments.filter((p) => p.billingStatus === 'Held' && p.provider_payment_id).map((p) => p.provider_payment_id),
  );

  // 2. Every hold ends captured or cancelled once the worker has caught up (every session has finished).
  const held = intents
    .filter((i) => i.status === 'requires_capture' && !reviewHolds.has(i.id as string))
    .map((i) => `${i.id} (${metadataKey(i)})`);
  const captured = intents.filter((i) => i.status === 'succeeded');
  const cancelled = intents.filter((i) => i.status === 'canceled');
  results.push({
    name: 'provider: every hold of a finished session captured or cancelled',
    ok: held.length === 0,
    detail:
      `${captured.length} captured, ${cancelled.length} cancelled, ${held.length} still held${list(held)}` +
      (reviewHolds.size ? `; ${reviewHolds.size} held for sessions under review (not checked)` : ''),
  });

  // 3. Our payments agree with the provider, and none is left unresolved.
  const referenced = new Set<string>();
  const disagree: string[] = [];
  const unresolved: string[] = [];
  for (const p of payments) {
    const underReview = p.billingStatus === 'Held';
    if (!underReview && (p.status === 'pending' || p.status === 'authorized')) {
      unresolved.push(`${p.id} ${p.kind} ${p.status}`);
    }
    if (!p.provider_payment_id) {
      if (p.captured_minor !== 0n || p.status === 'captured') disagree.push(`${p.id} captured without a provider id`);
      continue;
    }
    referenced.add(p.provider_payment_id);
    const intent = byId.get(p.provider_payment_id);
    if (!intent) {
      disagree.push(`${p.id}: ${p.provider_payment_id} unknown to the provider`);
      continue;
    }
    const expected = expectedStatus(intent);
    const receivedMinor = BigInt(intent.amount_received as number);
    if (expected !== p.status || receivedMinor !== p.captured_minor) {
      disagree.push(
        `${p.id}: ours ${p.status} ${p.captured_minor}, provider ${intent.status} ${receivedMinor} (${intent.id})`,
      );
    }
  }
  // A PaymentIntent no payment of ours points at: money the provider holds or took that our books do not know.
  const orphans = intents
    .filter((i) => !referenced.has(i.id as string) && i.status !== 'canceled')
    .map((i) => `${i.id} ${i.status} ${i.amount_received}/${i.amount} (${metadataKey(i)})`);
  results.push({
    name: 'payments in our database agree with the provider (status and captured amount), none unresolved',
    ok: disagree.length === 0 && unresolved.length === 0 && orphans.length === 0,
    detail:
      `${payments.length} Stripe payments; ${disagree.length} disagree${list(disagree)}; ` +
      `${unresolved.length} still pending or held${list(unresolved)}; ${orphans.length} provider intents unknown to us${list(orphans)}`,
  });

  // 4. Every invoice paid by card: what the provider captured for its sessions equals the invoice total.
  const invoiceRows = await sql<{
    invoice_id: string;
    invoice_number: string;
    total_incl_vat_minor: string | bigint;
    provider_payment_id: string | null;
  }>`select i.id as invoice_id, i.invoice_number, i.total_incl_vat_minor, p.provider_payment_id
       from invoices i
       join invoice_sessions s on s.invoice_id = i.id
       join payments p on p.session_id = s.session_id and p.provider = 'stripe'
      where i.kind = 'invoice'`.execute(db);
  const invoices = new Map<string, { number: string; totalMinor: bigint; capturedMinor: bigint; seen: Set<string> }>();
  for (const row of invoiceRows.rows) {
    const entry = invoices.get(row.invoice_id) ?? {
      number: row.invoice_number,
      totalMinor: BigInt(row.total_incl_vat_minor),
      capturedMinor: 0n,
      seen: new Set<string>(),
    };
    invoices.set(row.invoice_id, entry);
    const pi = row.provider_payment_id;
    if (!pi || entry.seen.has(pi)) continue;
    entry.seen.add(pi);
    entry.capturedMinor += BigInt((byId.get(pi)?.amount_received as number | undefined) ?? 0);
  }
  const wrongInvoices = [...invoices.values()]
    .filter((inv) => inv.capturedMinor !== inv.totalMinor)
    .map((inv) => `${inv.number}: total ${inv.totalMinor}, captured ${inv.capturedMinor}`);
  results.push({
    name: 'every invoice paid by card: captured at the provider = invoice total',
    ok: invoices.size > 0 && wrongInvoices.length === 0,
    detail:
      invoices.size === 0
        ? 'no invoice paid by card: the run did not exercise payments'
        : `${invoices.size} card invoices; ${wrongInvoices.length} differ${list(wrongInvoices)}`,
  });

  // 5. The outbox is worked off: nothing pending, nothing given up (a given-up step means dunning for a driver).
  const outbox = await db
    .selectFrom('payment_outbox')
    .select(['action', 'status', 'attempts', 'last_error', 'idempotency_key'])
    .execute();
  const pending = outbox.filter((o) => o.status === 'pending');
  const failed = outbox.filter((o) => o.status === 'failed');
  results.push({
    name: 'payment outbox worked off: nothing pending, no step given up',
    ok: pending.length === 0 && failed.length === 0,
    detail:
      `${outbox.length} items; ${pending.length} pending${list(pending.map((o) => `${o.action} ${o.idempotency_key}`))}; ` +
      `${failed.length} failed${list(failed.map((o) => `${o.action} ${o.idempotency_key}: ${o.last_error}`))}`,
  });

  // 6. The provider's faults and outages are never the driver's: no card blocked, no dunning opened (every card of
  // the crash test is good; a blocked card or a dunning notice here would be Voltbill blaming the driver).
  const blocked = await db.selectFrom('payment_methods').select('id').where('status', '=', 'blocked').execute();
  const dunning = await db.selectFrom('payment_dunning').select(['payment_id', 'failure_code']).execute();
  results.push({
    name: "no card blocked, no driver dunned for the provider's faults",
    ok: blocked.length === 0 && dunning.length === 0,
    detail:
      `${blocked.length} cards blocked; ${dunning.length} dunning cases` +
      list(dunning.map((d) => `${d.payment_id}: ${d.failure_code}`)),
  });

  // 7. With --renew-holds: holds were renewed in place, and every hold a renewal replaced is cancelled (its release,
  // an outbox step of its own, done through the kills and faults) while the payment went on with the new one.
  if (options.renewHolds) {
    const renewed = await db
      .selectFrom('payments')
      .select(['id', 'renewed_from_provider_payment_id as old'])
      .where('renewed_from_provider_payment_id', 'is not', null)
      .execute();
    const notReleased = renewed
      .filter((p) => byId.get(p.old as string)?.status !== 'canceled')
      .map((p) => `${p.id}: ${p.old} ${byId.get(p.old as string)?.status ?? 'unknown to the provider'}`);
    const releases = outbox.filter((o) => o.action === 'release');
    results.push({
      name: 'holds renewed in place, every replaced hold released',
      ok: renewed.length > 0 && notReleased.length === 0,
      detail:
        `${renewed.length} payments renewed; ${releases.length} release steps (${releases.filter((o) => o.status === 'done').length} done); ` +
        `${notReleased.length} replaced holds not cancelled${list(notReleased)}`,
    });
  }

  const byAction = new Map<string, number>();
  const errors = new Map<string, number>();
  let retries = 0;
  for (const o of outbox) {
    byAction.set(o.action, (byAction.get(o.action) ?? 0) + 1);
    retries += Math.max(0, o.attempts - 1);
    if (o.last_error) {
      const code = o.last_error.split(':')[0] ?? o.last_error;
      errors.set(code, (errors.get(code) ?? 0) + 1);
    }
  }
  return {
    results,
    figures: {
      intents: intents.length,
      captured: captured.length,
      cancelled: cancelled.length,
      stillHeld: held.length,
      capturedMinor: captured.reduce((sum, i) => sum + BigInt(i.amount_received as number), 0n),
      cardInvoices: invoices.size,
      outboxItems: outbox.length,
      outboxRetries: retries,
      outboxByAction: [...byAction].map(([action, n]) => `${action} ${n}`).join(', '),
      lastErrors: [...errors].map(([code, n]) => `${code} ${n}`).join(', ') || 'none',
    },
  };
}

function metadataKey(intent: Intent): string {
  return String((intent.metadata as Record<string, unknown> | undefined)?.voltbill_key ?? '?');
}

/** Our payment status for the provider's PaymentIntent (refunds do not occur in the crash test). */
function expectedStatus(intent: Intent): string {
  switch (intent.status) {
    case 'requires_capture':
      return 'authorized';
    case 'succeeded':
      return 'captured';
    case 'canceled':
      return 'voided';
    case 'requires_action':
      return 'requires_authentication';
    default:
      return intent.last_payment_error ? 'failed' : 'pending';
  }
}
