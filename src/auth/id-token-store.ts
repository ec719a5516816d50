/** Lookups of id tokens (RFID cards, app tokens) within one operator; OCPP compares idTags case-insensitively. */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { SESSION_ACTIVE } from '../db/partial-index-literals.ts';
import { queryTemplate } from '../db/query-template.ts';
import type { Database, IdTokenStatus } from '../db/schema.ts';

export type IdTokenRecord = {
  readonly id: string;
  readonly uid: string;
  readonly type: string;
  readonly status: IdTokenStatus;
  readonly expiresAt: Date | null;
  readonly contractId: string | null;
  readonly groupId: string | null;
};

export async function findIdToken(
  db: Kysely<Database>,
  operatorId: string,
  uid: string,
): Promise<IdTokenRecord | undefined> {
  return db
    .selectFrom('id_tokens')
    .select([
      'id',
      'uid',
      'type',
      'status',
      'expires_at as expiresAt',
      'contract_id as contractId',
      'group_id as groupId',
    ])
    .where('operator_id', '=', operatorId)
    .where(sql`upper(uid)`, '=', uid.toUpperCase())
    .executeTakeFirst();
}

/** Whether the idTag has an active session anywhere except on the given station and EVSE. */
export async function isChargingElsewhere(
  db: Kysely<Database>,
  operatorId: string,
  uid: string,
  stationId: string,
  evseId: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('sessions')
    .select('id')
    .where('operator_id', '=', operatorId)
    .where('status', '=', SESSION_ACTIVE)
    .where('authorization_status', '=', 'Accepted')
    .where(sql`upper(id_tag)`, '=', uid.toUpperCase())
    .where((eb) => eb.or([eb('station_id', '<>', stationId), eb('evse_id', '<>', evseId)]))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function findIdTokenById(db: Kysely<Database>, id: string): Promise<IdTokenRecord | undefined> {
  return db
    .selectFrom('id_tokens')
    .select([
      'id',
      'uid',
      'type',
      'status',
      'expires_at as expiresAt',
      'contract_id as contractId',
      'group_id as groupId',
    ])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** A token with what its authorization decides on besides the token itself, read in the same statement. */
export type IdTokenForDecision = IdTokenRecord & {
  /** isChargingElsewhere for the token's idTag and the given station and EVSE. */
  readonly chargingElsewhere: boolean;
  /** Whether a payment profile names the token (see PaymentAuthorizationInput.hasPaymentProfile). */
  readonly hasPaymentProfile: boolean;
  /**
   * The payment decision's inputs, when the read was asked to carry them (`paymentInputs`): hand them to
   * PaymentAuthorizer.decide as `prefetched`. Null when no payment profile names the token.
   */
  readonly paymentInputs?: unknown;
};

/**
 * A selection that findIdTokenForDecision adds to its read (PaymentAuthorizer.prefetchInputs): built from the token
 * row's id and the start of the velocity window, the window passed as a value so that the read is built once (a
 * query template: src/db/query-template.ts) and `since()` gives each read its window.
 */
export type TokenReadAddition = {
  readonly build: (tokenId: RawBuilder<unknown>, since: Date) => RawBuilder<unknown>;
  readonly since: () => Date;
};

type TokenForDecisionParams = {
  operatorId: string;
  upperUid: string;
  stationId: string;
  evseId: number;
  since: Date | null;
};

/** findIdTokenForDecision's statement, built once per addition (src/db/query-template.ts): every Authorize and start. */
const tokenForDecisionTemplates = new WeakMap<TokenReadAddition, ReturnType<typeof buildTokenForDecisionTemplate>>();
let tokenForDecisionWithoutAddition: ReturnType<typeof buildTokenForDecisionTemplate> | undefined;

function tokenForDecisionQuery(addition: TokenReadAddition | undefined) {
  if (addition === undefined) {
    tokenForDecisionWithoutAddition ??= buildTokenForDecisionTemplate(undefined);
    return tokenForDecisionWithoutAddition;
  }
  let template = tokenForDecisionTemplates.get(addition);
  if (template === undefined) {
    template = buildTokenForDecisionTemplate(addition);
    tokenForDecisionTemplates.set(addition, template);
  }
  return template;
}

function buildTokenForDecisionTemplate(addition: TokenReadAddition | undefined) {
  const keys: (keyof TokenForDecisionParams)[] = ['operatorId', 'upperUid', 'stationId', 'evseId'];
  return queryTemplate(
    addition ? 'findIdTokenForDecision with payment inputs' : 'findIdTokenForDecision',
    addition ? [...keys, 'since'] : keys,
    (db, p: TokenForDecisionParams) =>
      db
        .selectFrom('id_tokens as t')
        .select((eb) => [
          't.id',
          't.uid',
          't.type',
          't.status',
          't.expires_at as expiresAt',
          't.contract_id as contractId',
          't.group_id as groupId',
          eb
            .exists(
              eb
                .selectFrom('sessions as s')
                .select('s.id')
                .where('s.operator_id', '=', p.operatorId)
                .where('s.status', '=', SESSION_ACTIVE)
                .where('s.authorization_status', '=', 'Accepted')
                .where(sql`upper(s.id_tag)`, '=', p.upperUid)
                .where((w) => w.or([w('s.station_id', '<>', p.stationId), w('s.evse_id', '<>', p.evseId)])),
            )
            .as('chargingElsewhere'),
          eb
            .exists(
              eb.selectFrom('payment_profiles as pp').select('pp.id_token_id').whereRef('pp.id_token_id', '=', 't.id'),
            )
            .as('hasPaymentProfile'),
          // The window's start is a value of the statement: a template parameter (the builder never looks at it).
          (addition ? addition.build(sql.ref('t.id'), p.since as Date) : sql<null>`null`).as('paymentInputs'),
        ])
        .where('t.operator_id', '=', p.operatorId)
        .where(sql`upper(t.uid)`, '=', p.upperUid),
  );
}

/**
 * findIdToken, isChargingElsewhere and whether the token has a payment profile in one statement: every Authorize
 * and every start reads all three, and the decision stays per request (nothing is kept between requests, since a
 * token can be blocked at any moment). `elsewhere` names the station and EVSE whose own session does not count.
 */
export async function findIdTokenForDecision(
  db: Kysely<Database>,
  operatorId: string,
  uid: string,
  elsewhere: { readonly stationId: string; readonly evseId: number },
  /** PaymentAuthorizer.prefetchInputs: the payment decision's inputs read in the same statement. */
  paymentInputs?: TokenReadAddition,
): Promise<IdTokenForDecision | undefined> {
  const upperUid = uid.toUpperCase();
  const params = {
    operatorId,
    upperUid,
    stationId: elsewhere.stationId,
    evseId: elsewhere.evseId,
    since: paymentInputs ? paymentInputs.since() : null,
  };
  const [row] = await tokenForDecisionQuery(paymentInputs).rows(db, params);
  if (!row) return undefined;
  const { paymentInputs: inputs, ...token } = row;
  return {
    ...token,
    chargingElsewhere: Boolean(row.chargingElsewhere),
    hasPaymentProfile: Boolean(row.hasPaymentProfile),
    ...(paymentInputs && { paymentInputs: inputs ?? null }),
  };
}
