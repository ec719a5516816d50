/**
 * Prepaid wallets: a wallet belongs to an id token, is topped up by card (a payment of kind wallet_top_up whose
 * capture credits the wallet and the ledger's prepaid liability), and pays sessions at their end (billing hook).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import { enqueueOutbox } from '../worker/outbox-store.ts';

export type WalletError = { code: 'NotFound' | 'InvalidRequest' | 'CardBlocked'; message: string };

export async function createWalletForToken(
  db: Kysely<Database>,
  input: { operatorId: string; idTokenId: string; currency: string },
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const wallet = await trx
      .insertInto('wallets')
      .values({ operator_id: input.operatorId, id_token_id: input.idTokenId, currency: input.currency })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('payment_profiles')
      .values({
        id_token_id: input.idTokenId,
        operator_id: input.operatorId,
        method: 'wallet',
        payment_method_id: null,
        wallet_id: wallet.id,
        hold_minor: null,
      })
      .onConflict((oc) => oc.column('id_token_id').doUpdateSet({ method: 'wallet', wallet_id: wallet.id }))
      .execute();
    return wallet.id;
  });
}

/** Records a top-up charge; the worker charges the card and the capture credits the wallet. */
export async function requestTopUp(
  db: Kysely<Database>,
  input: {
    operatorId: string;
    walletId: string;
    paymentMethodId: string;
    amountMinor: bigint;
    requestKey: string;
    now: Date;
  },
): Promise<Result<{ paymentId: string }, WalletError>> {
  if (input.amountMinor <= 0n) return err({ code: 'InvalidRequest', message: 'the amount must be positive' });
  return db.transaction().execute(async (trx) => {
    const wallet = await trx
      .selectFrom('wallets')
      .selectAll()
      .where('id', '=', input.walletId)
      .where('operator_id', '=', input.operatorId)
      .executeTakeFirst();
    if (!wallet) return err<WalletError>({ code: 'NotFound', message: `no wallet ${input.walletId}` });
    const method = await trx
      .selectFrom('payment_methods')
      .selectAll()
      .where('id', '=', input.paymentMethodId)
      .where('operator_id', '=', input.operatorId)
      .executeTakeFirst();
    if (!method) return err<WalletError>({ code: 'NotFound', message: `no payment method ${input.paymentMethodId}` });
    if (method.status === 'blocked') {
      return err<WalletError>({ code: 'CardBlocked', message: `the card is blocked (${method.blocked_reason})` });
    }
    const key = `top-up:${input.walletId}:${input.requestKey}`;
    const known = await trx
      .selectFrom('payment_outbox')
      .select('payment_id')
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (known) return ok({ paymentId: known.payment_id });
    const payment = await trx
      .insertInto('payments')
      .values({
        operator_id: input.operatorId,
        kind: 'wallet_top_up',
        provider: method.provider,
        session_id: null,
        id_token_id: wallet.id_token_id,
        payment_method_id: method.id,
        wallet_id: wallet.id,
        payment_method_token: method.token,
        provider_customer_id: method.provider_customer_id,
        provider_payment_id: null,
        currency: wallet.currency,
        requested_minor: input.amountMinor,
        due_minor: input.amountMinor,
        invoice_id: null,
        hold_expires_at: null,
        failure_code: null,
        station_id: null,
        evse_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await enqueueOutbox(trx, {
      paymentId: payment.id,
      action: 'charge',
      idempotencyKey: key,
      amountMinor: input.amountMinor,
      notBefore: input.now,
    });
    return ok({ paymentId: payment.id });
  });
}

/** Whether a wallet token may start a session: its balance covers `minimumMinor` (wire into authorization). */
export async function walletAllowsStart(
  db: Kysely<Database>,
  idTokenId: string,
  minimumMinor: bigint,
): Promise<boolean> {
  const row = await db
    .selectFrom('payment_profiles as pp')
    .innerJoin('wallets as w', 'w.id', 'pp.wallet_id')
    .select('w.balance_minor')
    .where('pp.id_token_id', '=', idTokenId)
    .where('pp.method', '=', 'wallet')
    .executeTakeFirst();
  return row === undefined || row.balance_minor >= minimumMinor;
}
