/**
 * The invoicing billing hook: a Billed session of a per-session driver (ad-hoc, card-on-file, any token without a
 * monthly plan) gets its numbered invoice in the stop's transaction. Sessions of monthly plans wait for the
 * statement (issue-statements.ts).
 */
import type { BillingHook } from '../billing-hooks.ts';
import { issueInvoice } from './issue-invoice.ts';
import { anonymousBuyer, loadBillingPlan, loadSessionsToInvoice } from './load-invoice-inputs.ts';

export const invoiceBillingHook: BillingHook = async (trx, { session, outcome, now }) => {
  if (outcome.status !== 'Billed') return;
  const plan = await loadBillingPlan(trx, session.id_token_id);
  if (plan.mode === 'monthly') return;
  const already = await trx
    .selectFrom('invoice_sessions')
    .select('invoice_id')
    .where('session_id', '=', session.id)
    .executeTakeFirst();
  if (already) return;
  const [loaded] = await loadSessionsToInvoice(trx, [session.id]);
  if (!loaded) return;
  const token = session.id_token_id
    ? await trx
        .selectFrom('id_tokens')
        .select(['label', 'anonymous_buyer_name'])
        .where('id', '=', session.id_token_id)
        .executeTakeFirst()
    : undefined;
  const operator = await trx
    .selectFrom('operators')
    .select('country_code')
    .where('id', '=', session.operator_id)
    .executeTakeFirstOrThrow();
  await issueInvoice(trx, {
    operatorId: session.operator_id,
    kind: 'invoice',
    sessions: [loaded],
    buyer:
      plan.buyer ??
      anonymousBuyer(
        session.id_tag,
        token?.label ?? null,
        loaded.countryAlpha3,
        operator.country_code,
        token?.anonymous_buyer_name ?? null,
      ),
    idTokenId: session.id_token_id,
    idTag: session.id_tag,
    customerId: plan.customerId,
    period: null,
    now,
  });
};
