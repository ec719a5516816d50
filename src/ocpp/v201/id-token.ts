/**
 * OCPP 2.0.1 IdTokens: how each type is looked up among the operator's tokens, and the IdTokenInfo reply. The
 * decision itself is the version-neutral authorizeIdTag, so a card is Accepted or refused the same way on 1.6 and
 * 2.0.1 stations.
 */
import type { Kysely } from 'kysely';
import { type AuthorizationDecision, authorizeIdTag } from '../../auth/authorize-id-tag.ts';
import {
  findIdTokenForDecision,
  type IdTokenForDecision,
  type IdTokenRecord,
  type TokenReadAddition,
} from '../../auth/id-token-store.ts';
import type { Database } from '../../db/schema.ts';
import type { PaymentAuthorizer } from '../../payments/flows/authorize-payment.ts';

export type V201IdToken = { idToken: string; type: string; additionalInfo?: unknown[] };

/** The IdTokenEnumType values Voltbill looks up; Local tokens are the station's own and also looked up by value. */
export const V201_ID_TOKEN_TYPES = [
  'Central',
  'eMAID',
  'ISO14443',
  'ISO15693',
  'KeyCode',
  'Local',
  'MacAddress',
  'NoAuthorization',
] as const;

/** The idTag a session records for a 2.0.1 IdToken: its value (empty for NoAuthorization, which names nobody). */
export function idTagOf(token: V201IdToken | undefined): string {
  if (!token || token.type === 'NoAuthorization') return '';
  return token.idToken;
}

/**
 * Looks the token up by its value; an eMAID that is not registered as a token value is also matched against the
 * contract ids of the operator's tokens. NoAuthorization names no driver and matches nothing: a session started
 * that way is never billed to anyone. Read with the token in the same statement: whether it charges anywhere but
 * `where` and whether it has a payment profile (findIdTokenForDecision).
 */
export async function lookUpV201Token(
  db: Kysely<Database>,
  operatorId: string,
  token: V201IdToken,
  where: { stationId: string; evseId: number },
  paymentInputs?: TokenReadAddition,
): Promise<IdTokenForDecision | undefined> {
  if (token.type === 'NoAuthorization' || token.idToken === '') return undefined;
  const byValue = await findIdTokenForDecision(db, operatorId, token.idToken, where, paymentInputs);
  if (byValue || token.type !== 'eMAID') return byValue;
  const row = await db
    .selectFrom('id_tokens')
    .select('uid')
    .where('operator_id', '=', operatorId)
    .where('contract_id', '=', token.idToken)
    .executeTakeFirst();
  return row ? findIdTokenForDecision(db, operatorId, row.uid, where, paymentInputs) : undefined;
}

export async function authorizeV201Token(
  db: Kysely<Database>,
  operatorId: string | null,
  token: V201IdToken,
  at: Date,
  where: { stationId: string; evseId: number },
  /** The payment side (wallet balance, blocked card, velocity); pass it for Authorize requests, which it records. */
  payments?: PaymentAuthorizer,
): Promise<{ decision: AuthorizationDecision; record: IdTokenRecord | undefined }> {
  const record = operatorId ? await lookUpV201Token(db, operatorId, token, where, payments?.prefetchInputs) : undefined;
  let decision = authorizeIdTag(record, at, record?.chargingElsewhere ?? false);
  if (payments && operatorId) {
    const input = {
      operatorId,
      idTag: idTagOf(token),
      stationId: where.stationId,
      evseId: null,
      purpose: 'authorize' as const,
    };
    const payment =
      record && decision.status === 'Accepted'
        ? await payments.decide({
            ...input,
            idTokenId: record.id,
            hasPaymentProfile: record.hasPaymentProfile,
            prefetched: record.paymentInputs,
          })
        : undefined;
    if (payment && payment.status !== 'Accepted') decision = { status: payment.status };
    await payments.record(
      { ...input, idTokenId: record?.id ?? null },
      payment ?? { status: decision.status, reason: record ? `IdToken${decision.status}` : 'UnknownIdTag' },
    );
  }
  return { decision, record };
}

export type IdTokenInfo = {
  status: string;
  cacheExpiryDateTime?: string;
  personalMessage?: { format: 'UTF8'; language?: string; content: string };
};

/** MessageContentType.content is at most 512 characters. */
const MAX_MESSAGE_CHARS = 512;

export function idTokenInfo(
  decision: AuthorizationDecision,
  message?: { language: string; text: string },
): IdTokenInfo {
  return {
    status: decision.status,
    ...(decision.expiresAt && { cacheExpiryDateTime: decision.expiresAt.toISOString() }),
    ...(message && {
      personalMessage: {
        format: 'UTF8' as const,
        language: message.language.slice(0, 8),
        content: message.text.slice(0, MAX_MESSAGE_CHARS),
      },
    }),
  };
}
