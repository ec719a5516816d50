/**
 * Ad-hoc payment by QR code (AFIR): the driver scans the EVSE's dynamic QR code, sees the price, enters a card in
 * the provider's hosted fields (Voltbill gets a one-time reference only), Voltbill places the hold and — only once
 * the hold is in place — starts the session remotely with a one-time AD_HOC_USER id token. Ad-hoc sessions wait
 * for their hold: with the provider down, nothing starts.
 */
import { randomBytes } from 'node:crypto';
import { err, ok, type Result } from '../../shared/result.ts';
import { loadEvseContext } from '../../stations/station-store.ts';
import { findTariffInForce } from '../../tariff/tariff-store.ts';
import type { PaymentContext } from '../payment-context.ts';
import { claimOutboxItemByKey, enqueueOutbox, releasePaymentLease } from '../worker/outbox-store.ts';
import { processOutboxItem } from '../worker/process-outbox-item.ts';
import { holdAmountMinor } from './hold-amount.ts';
import type { QrTokenClaims } from './qr-token.ts';

/** Starts a session on a station; wired to the OCPP gateway's RemoteStartTransaction / RequestStartTransaction. */
export type RemoteStart = (input: {
  stationId: string;
  evseId: number;
  idTag: string;
}) => Promise<{ accepted: boolean }>;

/** How long an ad-hoc id token may start a session after its hold. */
const AD_HOC_TOKEN_TTL_MS = 15 * 60 * 1000;

export type AdHocQuote = {
  readonly stationId: string;
  readonly evseId: number;
  readonly evseUid: string;
  readonly locationName: string;
  readonly currency: string;
  readonly holdMinor: bigint;
  readonly tariff: { code: string; version: number; body: unknown } | null;
  readonly sandbox: boolean;
};

export type AdHocError = {
  readonly code: 'UnknownEvse' | 'TariffNotFound' | 'PaymentDeclined' | 'ProviderUnavailable';
  readonly message: string;
};

export async function quoteAdHoc(ctx: PaymentContext, claims: QrTokenClaims): Promise<Result<AdHocQuote, AdHocError>> {
  const where = await loadEvseContext(ctx.db, claims.stationId, claims.evseId);
  if (!where) return err({ code: 'UnknownEvse', message: `no accepted EVSE ${claims.stationId}/${claims.evseId}` });
  const tariff = await findTariffInForce(ctx.db, {
    operatorId: where.operatorId,
    locationId: where.locationId,
    stationId: where.stationId,
    evseId: claims.evseId,
    at: ctx.clock.now(),
    groupId: null,
    audience: 'ad_hoc',
  });
  if (!tariff)
    return err({ code: 'TariffNotFound', message: 'no price is published for this EVSE: it cannot be paid ad hoc' });
  return ok({
    stationId: where.stationId,
    evseId: claims.evseId,
    evseUid: where.evseUid,
    locationName: where.locationName,
    currency: tariff.currency,
    holdMinor: holdAmountMinor(null, ctx.settings.holdMinor, ctx.settings.holdMaxMinor),
    tariff: { code: tariff.code, version: tariff.version, body: tariff.body },
    sandbox: ctx.provider.isSandbox,
  });
}

export type AdHocStart = {
  readonly paymentId: string;
  readonly idTag: string;
  readonly status: string;
  readonly holdMinor: bigint;
  readonly currency: string;
  readonly remoteStart: 'Accepted' | 'Rejected' | 'Unavailable' | 'NotYet';
};

/** Places the hold and, once it is in place, starts the session. Repeating the call with the same card reference continues the same payment. */
export async function startAdHoc(
  ctx: PaymentContext & { remoteStart?: RemoteStart },
  claims: QrTokenClaims,
  paymentMethodRef: string,
): Promise<Result<AdHocStart, AdHocError>> {
  const quote = await quoteAdHoc(ctx, claims);
  if (!quote.ok) return quote;
  const where = await loadEvseContext(ctx.db, claims.stationId, claims.evseId);
  const now = ctx.clock.now();
  let payment = await ctx.db
    .selectFrom('payments')
    .selectAll()
    .where('kind', '=', 'adhoc')
    .where('payment_method_token', '=', paymentMethodRef)
    .executeTakeFirst();
  if (!payment) {
    payment = await ctx.db.transaction().execute(async (trx) => {
      const idTag = `AH${randomBytes(9).toString('hex').toUpperCase()}`;
      const token = await trx
        .insertInto('id_tokens')
        .values({
          operator_id: where!.operatorId,
          uid: idTag,
          type: 'AD_HOC_USER',
          status: 'Accepted',
          expires_at: new Date(now.getTime() + AD_HOC_TOKEN_TTL_MS),
          contract_id: null,
          group_id: null,
          label: `ad-hoc payment at ${claims.stationId}/${claims.evseId}`,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const created = await trx
        .insertInto('payments')
        .values({
          operator_id: where!.operatorId,
          kind: 'adhoc',
          provider: ctx.provider.name,
          session_id: null,
          id_token_id: token.id,
          payment_method_id: null,
          wallet_id: null,
          payment_method_token: paymentMethodRef,
          provider_customer_id: null,
          provider_payment_id: null,
          currency: quote.value.currency,
          requested_minor: quote.value.holdMinor,
          due_minor: null,
          invoice_id: null,
          hold_expires_at: null,
          failure_code: null,
          station_id: claims.stationId,
          evse_id: claims.evseId,
          created_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await enqueueOutbox(trx, {
        paymentId: created.id,
        action: 'authorize',
        idempotencyKey: `hold:adhoc:${created.id}`,
        amountMinor: created.requested_minor,
        notBefore: now,
      });
      return created;
    });
  }
  if (payment.status === 'pending') {
    // Place the hold now, while the driver waits (the worker would do it too; the claim keeps them apart).
    const claimed = await claimOutboxItemByKey(ctx.db, `hold:adhoc:${payment.id}`, now, ctx.settings.leaseMs);
    if (claimed) {
      await processOutboxItem(ctx, claimed);
      await releasePaymentLease(ctx.db, claimed);
    }
    payment = await ctx.db.selectFrom('payments').selectAll().where('id', '=', payment.id).executeTakeFirstOrThrow();
  }
  const token = await ctx.db
    .selectFrom('id_tokens')
    .select('uid')
    .where('id', '=', payment.id_token_id!)
    .executeTakeFirstOrThrow();
  if (payment.status === 'failed' || payment.status === 'requires_authentication') {
    return err({
      code: 'PaymentDeclined',
      message: `the card was not accepted (${payment.failure_code ?? payment.status})`,
    });
  }
  let remoteStart: AdHocStart['remoteStart'] = 'NotYet';
  if (payment.status === 'authorized' && payment.session_id === null) {
    if (!ctx.remoteStart) remoteStart = 'Unavailable';
    else {
      const answer = await ctx.remoteStart({ stationId: claims.stationId, evseId: claims.evseId, idTag: token.uid });
      remoteStart = answer.accepted ? 'Accepted' : 'Rejected';
      if (!answer.accepted) {
        await enqueueOutbox(ctx.db, {
          paymentId: payment.id,
          action: 'void',
          idempotencyKey: `release:${payment.id}`,
          notBefore: ctx.clock.now(),
        });
      }
    }
  }
  return ok({
    paymentId: payment.id,
    idTag: token.uid,
    status: payment.status,
    holdMinor: payment.requested_minor,
    currency: payment.currency,
    remoteStart,
  });
}
