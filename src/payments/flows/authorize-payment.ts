/**
 * The payment side of authorizing an id token, shared by OCPP 1.6 (Authorize, StartTransaction) and 2.0.1
 * (Authorize, TransactionEvent Started) through the session service: after the token itself is Accepted, it may
 * still be refused because
 * - its prepaid wallet holds less than the minimum a session needs (InsufficientWalletBalance);
 * - its saved card is blocked (a failed authorization or capture: declined, expired, authentication required, or
 *   dunning after repeated failures) until the driver pays (PaymentMethodBlocked), or is past its expiry date;
 * - a provider dispute about one of its payments is open (DisputeOpen);
 * - it, or its card across all the card's tokens, started too many sessions within the last hour (velocity).
 * Every refusal, and every accepted decision of a token with a payment profile, is recorded in
 * authorization_decisions; the velocity limits count its accepted starts (so a station's retried StartTransaction,
 * recorded once, counts once). Accepted starts of plain RFID tokens are recorded by their session only.
 */
import { type Insertable, type Kysely, type RawBuilder, sql } from 'kysely';
import type { TokenReadAddition } from '../../auth/id-token-store.ts';
import { BatchWriter } from '../../db/batch-writer.ts';
import type { AuthorizationDecisionsTable, Database } from '../../db/schema.ts';
import { assert } from '../../shared/assert.ts';
import type { Clock } from '../../shared/clock.ts';

export type PaymentRefusalReason =
  | 'InsufficientWalletBalance'
  | 'WalletMissing'
  | 'PaymentMethodBlocked'
  | 'PaymentMethodExpired'
  | 'DisputeOpen'
  | 'VelocityLimitToken'
  | 'VelocityLimitCard';

export type PaymentAuthorization =
  | {
      readonly status: 'Accepted';
      readonly reason: 'Ok';
      readonly paymentMethodId: string | null;
      /** Whether the token has a payment profile (its accepted decisions are recorded, for the velocity limits). */
      readonly profiled?: boolean;
    }
  | {
      readonly status: 'Blocked' | 'Invalid';
      readonly reason: PaymentRefusalReason;
      readonly detail: string;
      readonly paymentMethodId: string | null;
    };

export type PaymentAuthorizationInput = {
  readonly operatorId: string;
  readonly idTokenId: string;
  readonly idTag: string;
  readonly stationId: string | null;
  readonly evseId: number | null;
  readonly purpose: 'authorize' | 'start';
  /**
   * Whether a payment profile names the token, when the caller read it with the token in the same request
   * (findIdTokenForDecision): then decide() does not read it again. Absent: decide() reads it itself.
   */
  readonly hasPaymentProfile?: boolean;
  /**
   * The decision's inputs as the token's read carried them (PaymentAuthorizer.prefetchInputs, given to
   * findIdTokenForDecision): null when no payment profile names the token. Given, decide() reads nothing.
   */
  readonly prefetched?: unknown;
};

/** What is recorded: a payment decision, or the token decision that came before it (unknown, blocked, expired). */
export type RecordedDecision = {
  readonly status: AuthorizationDecisionsTable['status'];
  readonly reason: string;
  readonly detail?: string;
  readonly paymentMethodId?: string | null;
  readonly profiled?: boolean;
};

export type PaymentAuthorizer = {
  /** Decides (one read, none when prefetched); the caller records once it knows the decision is not a repeat. */
  decide(input: PaymentAuthorizationInput): Promise<PaymentAuthorization>;
  /**
   * The decision's inputs for the token whose id is `tokenId` (a column of the caller's query) as one jsonb value,
   * null when no payment profile names the token: the token's read carries them, and decide() takes them as
   * `prefetched` instead of a round trip of its own. The velocity window is the hour before this call.
   */
  readonly prefetchInputs: TokenReadAddition;
  record(
    input: Omit<PaymentAuthorizationInput, 'idTokenId'> & { idTokenId: string | null; sessionId?: string | null },
    decision: RecordedDecision,
  ): Promise<void>;
  /** Resolves once every decision recorded so far is written (shutdown). */
  flush(): Promise<void>;
};

export type PaymentAuthorizerSettings = {
  /** Least wallet balance (minor units) a session needs to start. */
  readonly walletMinStartMinor: bigint;
  readonly startsPerTokenPerHour: number;
  readonly startsPerCardPerHour: number;
};

const HOUR_MS = 3_600_000;

type DecisionInputs = {
  method: 'card' | 'wallet' | 'invoice' | null;
  payment_method_id: string | null;
  method_status: 'active' | 'blocked' | null;
  blocked_reason: string | null;
  exp_month: number | null;
  exp_year: number | null;
  wallet_id: string | null;
  balance_minor: bigint | string | null;
  open_dispute: string | null;
  token_starts: string | number | bigint | null;
  card_starts: string | number | bigint | null;
};

/**
 * Whether a decision goes into authorization_decisions: every refusal, and the accepted decisions of tokens with a
 * payment profile (the velocity limits count those). An accepted start of a plain RFID token is recorded by its
 * session (authorization_status) and not written twice, which keeps the start of a session one insert lighter.
 */
export function shouldRecord(decision: RecordedDecision): boolean {
  return decision.status !== 'Accepted' || decision.profiled !== false;
}

/**
 * The decision's inputs for one token, as one row. `tokenId` is the token's uuid: a parameter (decide() reading
 * them itself) or the token row's id in the caller's query (prefetchInputs). The wallet balance is text, so that it
 * stays exact inside jsonb.
 *
 * The open-dispute check reads the open disputes (few, partial index of migration 0018) and each one's payment
 * by its key, in a scalar subquery that PostgreSQL does not turn into a join. As a join, the order was the
 * planner's: with the statistics of small tables (a young database, or before autovacuum's next analyze) it read
 * every payment ever made, on every Authorize and start (seen under the e2e benchmark).
 * test/hot-path-plans.test.ts checks the plan, alone and inside the token's read.
 */
/**
 * The prefetched inputs as a row. jsonb arrives parsed (node-postgres, PGlite); text is parsed here. Anything else
 * is a broken invariant, never a decision: a row without its fields would pass every check below (fail open).
 */
function decisionInputsOf(prefetched: unknown): DecisionInputs {
  const parsed: unknown = typeof prefetched === 'string' ? JSON.parse(prefetched) : prefetched;
  assert(
    typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      'method' in parsed &&
      'card_starts' in parsed,
    'prefetched payment decision inputs are not a row of them',
  );
  return parsed as DecisionInputs;
}

function decisionInputsSql(tokenId: RawBuilder<unknown>, since: Date): RawBuilder<DecisionInputs> {
  return sql<DecisionInputs>`
      select pp.method, pp.payment_method_id, pm.status as method_status, pm.blocked_reason, pm.exp_month,
        pm.exp_year, pp.wallet_id, w.balance_minor::text as balance_minor,
        (select d.provider_dispute_id from payment_disputes d
          where d.status = 'open'
            and (select p.id_token_id = tok.id
                   or (pp.payment_method_id is not null and p.payment_method_id = pp.payment_method_id)
                 from payments p where p.id = d.payment_id)
          limit 1) as open_dispute,
        (select count(*) from authorization_decisions a
          where pp.method is not null and a.id_token_id = tok.id and a.purpose = 'start' and a.status = 'Accepted'
            and a.at > ${since}) as token_starts,
        (select count(*) from authorization_decisions a
          where pp.method = 'card' and a.payment_method_id = pp.payment_method_id and a.purpose = 'start'
            and a.status = 'Accepted' and a.at > ${since}) as card_starts
      from (select cast(${tokenId} as uuid) as id) tok
      left join payment_profiles pp on pp.id_token_id = tok.id
      left join payment_methods pm on pm.id = pp.payment_method_id and pp.method = 'card'
      left join wallets w on w.id = pp.wallet_id and pp.method = 'wallet'`;
}

export function createPaymentAuthorizer(deps: {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly settings: PaymentAuthorizerSettings;
}): PaymentAuthorizer {
  const { db, clock, settings } = deps;

  async function decide(input: PaymentAuthorizationInput): Promise<PaymentAuthorization> {
    const now = clock.now();
    const since = new Date(now.getTime() - HOUR_MS);
    // A start is on the hot path of every session: prefetched with the token, the decision costs no round trip.
    // Otherwise a token without a payment profile (a plain RFID card, whose sessions no card or wallet pays, and
    // which has no payments to dispute) costs one primary-key lookup; a paying token one more for everything else.
    let row: DecisionInputs | undefined;
    if (input.prefetched !== undefined) {
      // Read with the token (findIdTokenForDecision): null when no payment profile names it.
      if (input.prefetched === null)
        return { status: 'Accepted', reason: 'Ok', paymentMethodId: null, profiled: false };
      row = decisionInputsOf(input.prefetched);
    } else {
      const profiled =
        input.hasPaymentProfile ??
        (await db
          .selectFrom('payment_profiles')
          .select('method')
          .where('id_token_id', '=', input.idTokenId)
          .executeTakeFirst()) !== undefined;
      if (!profiled) return { status: 'Accepted', reason: 'Ok', paymentMethodId: null, profiled: false };
      row = (await decisionInputsSql(sql`${input.idTokenId}`, since).execute(db)).rows[0];
    }
    const methodId = row?.method === 'card' ? row.payment_method_id : null;
    const refuse = (
      status: 'Blocked' | 'Invalid',
      reason: PaymentRefusalReason,
      detail: string,
    ): PaymentAuthorization => ({ status, reason, detail, paymentMethodId: methodId });
    if (!row) return { status: 'Accepted', reason: 'Ok', paymentMethodId: null, profiled: false };

    if (methodId) {
      if (row.method_status === 'blocked') {
        return refuse(
          'Blocked',
          'PaymentMethodBlocked',
          `the saved card is blocked (${row.blocked_reason ?? 'payment failed'}) until the driver pays`,
        );
      }
      // A card is valid through the last day of its expiry month.
      if (
        row.exp_year !== null &&
        row.exp_month !== null &&
        Date.UTC(row.exp_year, row.exp_month, 1) <= now.getTime()
      ) {
        return refuse('Invalid', 'PaymentMethodExpired', `the saved card expired ${row.exp_month}/${row.exp_year}`);
      }
    }
    if (row.open_dispute) return refuse('Blocked', 'DisputeOpen', `dispute ${row.open_dispute} is open`);

    if (row.method === 'wallet') {
      if (row.balance_minor === null)
        return refuse('Invalid', 'WalletMissing', 'the token pays by wallet but has none');
      const balanceMinor = BigInt(row.balance_minor);
      if (balanceMinor < settings.walletMinStartMinor) {
        return refuse(
          'Blocked',
          'InsufficientWalletBalance',
          `wallet balance ${balanceMinor} is below the ${settings.walletMinStartMinor} a session needs`,
        );
      }
    }
    // Velocity limits apply to tokens that pay (card, wallet, invoice profile): where a stolen or cloned card
    // costs money. Plain RFID tokens without a payment profile are not counted here.
    const tokenStarts = Number(row.token_starts ?? 0);
    if (row.method && tokenStarts >= settings.startsPerTokenPerHour) {
      return refuse(
        'Blocked',
        'VelocityLimitToken',
        `${tokenStarts} starts of this token within the last hour (limit ${settings.startsPerTokenPerHour})`,
      );
    }
    const cardStarts = Number(row.card_starts ?? 0);
    if (methodId && cardStarts >= settings.startsPerCardPerHour) {
      return refuse(
        'Blocked',
        'VelocityLimitCard',
        `${cardStarts} starts paid by this card within the last hour (limit ${settings.startsPerCardPerHour})`,
      );
    }
    return { status: 'Accepted', reason: 'Ok', paymentMethodId: methodId, profiled: row.method !== null };
  }

  // Decisions are group-committed: a paid session records two (Authorize, then its start), each an INSERT with its
  // own round trip and commit when written one by one; under load one statement carries every decision that queued
  // meanwhile. record() still resolves only once its decision is committed, so a decision taken after it counts it
  // for the velocity limits as before. Two decisions of one token or card at the same moment could each miss the
  // other before too (the INSERT came after the count); the queue widens that window by up to one batch write.
  const decisions = new BatchWriter<DecisionRow>((rows) => insertDecisions(db, rows), {
    maxBatchItems: DECISION_BATCH_ITEMS,
    maxQueuedItems: DECISION_BATCH_ITEMS * 50,
  });

  async function record(
    input: Omit<PaymentAuthorizationInput, 'idTokenId'> & { idTokenId: string | null; sessionId?: string | null },
    decision: RecordedDecision,
  ): Promise<void> {
    if (!shouldRecord(decision)) return;
    await decisions.enqueue({
      operator_id: input.operatorId,
      id_token_id: input.idTokenId,
      id_tag: input.idTag.slice(0, 64),
      payment_method_id: decision.paymentMethodId ?? null,
      station_id: input.stationId,
      evse_id: input.evseId,
      purpose: input.purpose,
      status: decision.status,
      reason: decision.reason.slice(0, 200),
      detail: decision.detail?.slice(0, 1000) ?? null,
      session_id: input.sessionId ?? null,
      at: clock.now(),
    });
  }

  const prefetchInputs: TokenReadAddition = {
    since: () => new Date(clock.now().getTime() - HOUR_MS),
    // Evaluated only for a token with a payment profile (CASE evaluates lazily), as decide() reads them only then.
    build: (tokenId, since) =>
      sql`(case when exists (select 1 from payment_profiles x where x.id_token_id = cast(${tokenId} as uuid))
      then (select to_jsonb(d) from (${decisionInputsSql(tokenId, since)}) d) end)`,
  };

  return { decide, prefetchInputs, record, flush: () => decisions.flush() };
}

/** Most decisions per statement (each column travels as one array parameter, so the text is the same for any count). */
const DECISION_BATCH_ITEMS = 500;

type DecisionRow = Omit<Insertable<AuthorizationDecisionsTable>, 'id'> & {
  readonly id_token_id: string | null;
  readonly payment_method_id: string | null;
  readonly station_id: string | null;
  readonly evse_id: number | null;
  readonly detail: string | null;
  readonly session_id: string | null;
  readonly at: Date;
};

/** One INSERT for a batch of decisions, in the order they were recorded (their ids follow that order). */
async function insertDecisions(db: Kysely<Database>, rows: readonly DecisionRow[]): Promise<void> {
  const column = <K extends keyof DecisionRow>(key: K) => rows.map((row) => row[key]);
  await sql`
    insert into authorization_decisions (operator_id, id_token_id, id_tag, payment_method_id, station_id, evse_id,
      purpose, status, reason, detail, session_id, at)
    select operator_id, id_token_id, id_tag, payment_method_id, station_id, evse_id, purpose, status, reason, detail,
      session_id, at
    from unnest(${column('operator_id')}::uuid[], ${column('id_token_id')}::uuid[], ${column('id_tag')}::text[],
      ${column('payment_method_id')}::uuid[], ${column('station_id')}::text[], ${column('evse_id')}::int4[],
      ${column('purpose')}::text[], ${column('status')}::text[], ${column('reason')}::text[], ${column('detail')}::text[],
      ${column('session_id')}::uuid[], ${rows.map((row) => row.at.toISOString())}::timestamptz[])
    with ordinality as v(operator_id, id_token_id, id_tag, payment_method_id, station_id, evse_id, purpose, status,
      reason, detail, session_id, at, n)
    order by n`.execute(db);
}
