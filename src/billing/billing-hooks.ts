/**
 * What happens after a session's billing decision, inside the same database transaction as the stop and the CDR:
 * the ledger posts revenue, invoicing issues the invoice, payments queue the capture. Each hook must be idempotent
 * (keyed by the session) and must not call anything outside the database: a slow provider would hold the
 * transaction open. External work is queued in a table here and done by a worker after commit.
 */
import type { Transaction } from 'kysely';
import type { Database, SessionRow } from '../db/schema.ts';
import type { BillingOutcome } from './bill-session.ts';
import type { BillingShared } from './billing-shared.ts';

export type BillingContext = {
  readonly session: SessionRow;
  readonly outcome: BillingOutcome;
  readonly now: Date;
  /** Rows read already in this transaction (by billSession or an earlier hook): read them from here, not again. */
  readonly shared: BillingShared;
};

export type BillingHook = (trx: Transaction<Database>, context: BillingContext) => Promise<void>;

/** Runs the hooks in order; an exception rolls back the whole stop so that the station's retry runs it again. */
export async function runBillingHooks(
  hooks: readonly BillingHook[],
  trx: Transaction<Database>,
  context: Omit<BillingContext, 'shared'> & { readonly shared?: BillingShared },
): Promise<void> {
  const withShared: BillingContext = { ...context, shared: context.shared ?? {} };
  for (const hook of hooks) await hook(trx, withShared);
}
