/** Lookups of id tokens (RFID cards, app tokens) within one operator; OCPP compares idTags case-insensitively. */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { SESSION_ACTIVE } from '../db/partial-index-literals.ts';
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

/** A selection for the token's row (its id as `tokenId`) that findIdTokenForDecision adds to its read. */
export type TokenReadAddition = (tokenId: RawBuilder<unknown>) => RawBuilder<unknown>;

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
  const row = await db
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
            .where('s.operator_id', '=', operatorId)
            .where('s.status', '=', SESSION_ACTIVE)
            .where('s.authorization_status', '=', 'Accepted')
            .where(sql`upper(s.id_tag)`, '=', upperUid)
            .where((w) => w.or([w('s.station_id', '<>', elsewhere.stationId), w('s.evse_id', '<>', elsewhere.evseId)])),
        )
        .as('chargingElsewhere'),
      eb
        .exists(
          eb.selectFrom('payment_profiles as pp').select('pp.id_token_id').whereRef('pp.id_token_id', '=', 't.id'),
        )
        .as('hasPaymentProfile'),
      (paymentInputs ? paymentInputs(sql.ref('t.id')) : sql<null>`null`).as('paymentInputs'),
    ])
    .where('t.operator_id', '=', operatorId)
    .where(sql`upper(t.uid)`, '=', upperUid)
    .executeTakeFirst();
  if (!row) return undefined;
  const { paymentInputs: inputs, ...token } = row;
  return {
    ...token,
    chargingElsewhere: Boolean(row.chargingElsewhere),
    hasPaymentProfile: Boolean(row.hasPaymentProfile),
    ...(paymentInputs && { paymentInputs: inputs ?? null }),
  };
}
