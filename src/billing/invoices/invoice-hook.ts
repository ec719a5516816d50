/**
 * The invoicing billing hook: a Billed session of a per-session driver (ad-hoc, card-on-file, any token without a
 * monthly plan) gets its numbered invoice in the stop's transaction. Sessions of monthly plans wait for the
 * statement (issue-statements.ts).
 */
import type { BillingHook } from '../billing-hooks.ts';
import { sharedIdToken, sharedInvoiceId, sharedLoadedSession } from '../billing-shared.ts';
import { issueInvoice } from './issue-invoice.ts';
import { anonymousBuyer, billingPlanOf, loadBillingPlan } from './load-invoice-inputs.ts';

export const invoiceBillingHook: BillingHook = async (trx, { session, outcome, now, shared }) => {
  if (outcome.status !== 'Billed') return;
  // billSession read the token with its plan already (billing-shared.ts).
  const plan =
    session.id_token_id && shared.billingPlan !== undefined
      ? billingPlanOf(shared.billingPlan)
      : await loadBillingPlan(trx, session.id_token_id);
  if (plan.mode === 'monthly') return;
  // One read: the session as the invoice prints it, and the invoice it is on already (a retried stop).
  const loaded = await sharedLoadedSession(trx, shared, session.id);
  if ((await sharedInvoiceId(trx, shared, session.id)) !== null) return;
  if (!loaded) return;
  const token = session.id_token_id ? await sharedIdToken(trx, shared, session.id_token_id) : null;
  // The operator's country and configured seller, from the EVSE context's read when the station is the session's
  // operator's.
  const sameOperator = shared.evse?.operatorId === session.operator_id;
  const country =
    shared.evse && sameOperator
      ? shared.evse.countryCode
      : (
          await trx
            .selectFrom('operators')
            .select('country_code')
            .where('id', '=', session.operator_id)
            .executeTakeFirstOrThrow()
        ).country_code;
  const issued = await issueInvoice(trx, {
    operatorId: session.operator_id,
    kind: 'invoice',
    sessions: [loaded],
    buyer:
      plan.buyer ??
      anonymousBuyer(
        session.id_tag,
        token?.label ?? null,
        loaded.countryAlpha3,
        country,
        token?.anonymousBuyerName ?? null,
      ),
    idTokenId: session.id_token_id,
    idTag: session.id_tag,
    customerId: plan.customerId,
    period: null,
    now,
    ...(sameOperator && shared.seller !== undefined && { configuredSeller: shared.seller }),
  });
  shared.invoiceId = issued.invoiceId;
};
