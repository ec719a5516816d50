/**
 * Books a billed session: the customer owes the price including VAT, the operator earns the price excluding VAT,
 * and the VAT is owed to the tax office of the country of supply, per rate. Runs as a billing hook inside the
 * stop's transaction; the idempotency key `session:<id>:billed` makes a retried stop post nothing twice.
 */
import type { Kysely } from 'kysely';
import type { BillingHook } from '../billing/billing-hooks.ts';
import { type BillingShared, sharedInvoiceId, sharedLoadedSession } from '../billing/billing-shared.ts';
import { sessionLines } from '../billing/invoices/build-invoice-document.ts';
import type { LoadedSession } from '../billing/invoices/load-invoice-inputs.ts';
import type { Database } from '../db/schema.ts';
import { assert } from '../shared/assert.ts';
import { accounts } from './accounts.ts';
import { postTransfer } from './post-transfer.ts';
import type { Posting, TransferInput } from './transfer.ts';

export function sessionTransferKey(sessionId: string): string {
  return `session:${sessionId}:billed`;
}

/** The transfer that books one billed session, or undefined for a session that costs nothing. Pure. */
export function sessionTransfer(session: LoadedSession, invoiceId: string | null, at: Date): TransferInput | undefined {
  const lines = sessionLines(session, session.currency, 1);
  let excl = 0n;
  let incl = 0n;
  const vatByAccount = new Map<string, { account: Posting['account']; amount: bigint }>();
  for (const line of lines) {
    excl += BigInt(line.exclVatMinor);
    incl += BigInt(line.inclVatMinor);
    const vat = BigInt(line.vatMinor);
    if (vat === 0n) continue;
    const rate = line.vatCategory === 'O' ? 'implied' : line.vatPercent;
    const account = accounts.vatPayable(session.countryAlpha3 || 'XXX', rate);
    const entry = vatByAccount.get(account.code) ?? { account, amount: 0n };
    entry.amount += vat;
    vatByAccount.set(account.code, entry);
  }
  const postings: Posting[] = [
    { account: accounts.customerReceivables(), amountMinor: incl },
    { account: accounts.chargingRevenue(), amountMinor: -excl },
    ...[...vatByAccount.values()].map((v) => ({ account: v.account, amountMinor: -v.amount })),
  ].filter((p) => p.amountMinor !== 0n);
  if (postings.length === 0) return undefined;
  return {
    operatorId: session.operatorId,
    currency: session.currency,
    idempotencyKey: sessionTransferKey(session.sessionId),
    cause: { type: 'session', id: session.sessionId },
    postings,
    invoiceId,
    description: `charging session at ${session.stationId}`,
    at,
  };
}

/**
 * Posts the session's transfer (no-op when already posted). `shared` carries what the stop and the invoice hook
 * read already (the session as invoiced, its invoice), so that they are not read again.
 */
export async function postSessionTransfer(
  db: Kysely<Database>,
  sessionId: string,
  at: Date,
  shared: BillingShared = {},
): Promise<void> {
  const session = await sharedLoadedSession(db, shared, sessionId);
  if (!session) return;
  const invoiceId = await sharedInvoiceId(db, shared, sessionId);
  const transfer = sessionTransfer(session, invoiceId, at);
  if (!transfer) return;
  const result = await postTransfer(db, transfer);
  assert(result.ok, `session transfer refused: ${!result.ok && result.error.message}`);
}

/** The ledger's billing hook: books every Billed session. */
export const ledgerBillingHook: BillingHook = async (trx, { session, outcome, now, shared }) => {
  if (outcome.status !== 'Billed') return;
  await postSessionTransfer(trx, session.id, now, shared);
};
