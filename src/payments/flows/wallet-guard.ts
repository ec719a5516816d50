/**
 * A prepaid wallet session stops when its balance is used up: the worker prices each running wallet session so far
 * (priceRunningSession: the same function and readings as the final bill and the station's running cost) and, when
 * that cost reaches the wallet's balance, asks the station to stop it (RemoteStopTransaction on 1.6,
 * RequestStopTransaction on 2.0.1) through the remote command path. The stop is recorded once it is accepted;
 * a station that is offline or refuses is asked again on the next pass.
 */
import { sql } from 'kysely';
import { SESSION_ACTIVE } from '../../db/partial-index-literals.ts';
import type { SessionRow } from '../../db/schema.ts';
import { priceRunningSession } from '../../ocpp/v201/session-cost.ts';
import { recordDecision } from '../apply-provider-payment.ts';
import type { PaymentContext } from '../payment-context.ts';

/** Asks the station to stop a transaction; resolves whether the station accepted. */
export type RemoteStop = (input: { stationId: string; transactionId: string }) => Promise<{ accepted: boolean }>;

export const WALLET_STOP_DECISION = 'wallet-exhausted-remote-stop';

/** Sessions looked at per pass, so one pass stays short. */
const SWEEP_LIMIT = 200;

export type WalletStop = { sessionId: string; costMinor: bigint; balanceMinor: bigint; accepted: boolean };

export async function stopExhaustedWalletSessions(ctx: PaymentContext, remoteStop: RemoteStop): Promise<WalletStop[]> {
  const { db } = ctx;
  const running = await db
    .selectFrom('sessions as s')
    .innerJoin('payment_profiles as pp', 'pp.id_token_id', 's.id_token_id')
    .innerJoin('wallets as w', 'w.id', 'pp.wallet_id')
    .leftJoin('payment_decisions as d', (join) =>
      join
        .on(sql<boolean>`d.subject_id = s.id::text`)
        .on('d.subject_type', '=', 'session')
        .on('d.decision', '=', WALLET_STOP_DECISION),
    )
    .selectAll('s')
    .select(['w.balance_minor as walletBalanceMinor', 'w.currency as walletCurrency'])
    .where('s.status', '=', SESSION_ACTIVE)
    .where('s.authorization_status', '=', 'Accepted')
    .where('pp.method', '=', 'wallet')
    .where('d.id', 'is', null)
    .limit(SWEEP_LIMIT)
    .execute();
  const stops: WalletStop[] = [];
  for (const row of running) {
    const { walletBalanceMinor, walletCurrency, ...session } = row;
    const cost = await priceRunningSession(db, session as SessionRow);
    if (cost.kind !== 'priced' || cost.inclVat.currency !== walletCurrency) continue;
    if (cost.inclVat.minor < walletBalanceMinor) continue;
    const outcome = await remoteStop({ stationId: session.station_id, transactionId: session.transaction_id });
    stops.push({
      sessionId: session.id,
      costMinor: cost.inclVat.minor,
      balanceMinor: walletBalanceMinor,
      accepted: outcome.accepted,
    });
    if (!outcome.accepted) {
      ctx.logger.warn(
        { sessionId: session.id, stationId: session.station_id },
        'wallet used up but the station did not accept the remote stop; asked again on the next pass',
      );
      continue;
    }
    await recordDecision(
      db,
      { operator_id: session.operator_id, id: session.id },
      WALLET_STOP_DECISION,
      `running cost ${cost.inclVat.minor} reached the wallet balance ${walletBalanceMinor} ${walletCurrency}`,
      ctx.clock.now(),
      'session',
    );
  }
  return stops;
}
