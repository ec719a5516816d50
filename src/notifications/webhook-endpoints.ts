/**
 * Operator-configured outbound webhook endpoints. The signing secret is generated here, shown to the admin once,
 * and stored only encrypted (field cipher, AES-256-GCM under the active data key): a database dump does not reveal
 * it, and a delivery decrypts it just before signing.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Database } from '../db/schema.ts';
import { err, ok, type Result } from '../shared/result.ts';
import { NOTIFICATION_TYPES } from './notification-types.ts';

/** Field-cipher context of the secret: a sealed secret cannot be moved into another column and decrypt there. */
export const ENDPOINT_SECRET_CONTEXT = 'notification_endpoints.secret';

/** Endpoints per operator: each notification is delivered to each, so their number bounds the fan-out. */
export const MAX_ENDPOINTS_PER_OPERATOR = 20;

export type EndpointError = { code: 'InvalidRequest' | 'LimitReached'; message: string };

export type EndpointJson = {
  id: string;
  url: string;
  eventTypes: string[];
  active: boolean;
  createdAt: string;
};

export function endpointUrlProblem(url: string, allowHttp: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url is not a URL';
  }
  if (parsed.protocol !== 'https:' && !(allowHttp && parsed.protocol === 'http:')) {
    return 'url must use https';
  }
  if (parsed.username || parsed.password) return 'url must not carry credentials';
  return undefined;
}

export async function createEndpoint(
  db: Kysely<Database>,
  cipher: FieldCipher,
  input: { operatorId: string; url: string; eventTypes: readonly string[]; allowHttp: boolean },
): Promise<Result<EndpointJson & { secret: string }, EndpointError>> {
  const problem = endpointUrlProblem(input.url, input.allowHttp);
  if (problem) return err({ code: 'InvalidRequest', message: problem });
  const unknown = input.eventTypes.filter((t) => !(NOTIFICATION_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) return err({ code: 'InvalidRequest', message: `unknown event types: ${unknown.join(', ')}` });
  const count = await db
    .selectFrom('notification_endpoints')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('operator_id', '=', input.operatorId)
    .where('active', '=', true)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_ENDPOINTS_PER_OPERATOR) {
    return err({ code: 'LimitReached', message: `at most ${MAX_ENDPOINTS_PER_OPERATOR} active endpoints` });
  }
  const secret = `vbwh_${randomBytes(32).toString('base64url')}`;
  const row = await db
    .insertInto('notification_endpoints')
    .values({
      operator_id: input.operatorId,
      url: input.url,
      secret_enc: cipher.encrypt(ENDPOINT_SECRET_CONTEXT, secret),
      event_types: [...input.eventTypes],
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return ok({ ...endpointJson(row), secret });
}

export function endpointJson(row: {
  id: string;
  url: string;
  event_types: string[];
  active: boolean;
  created_at: Date;
}): EndpointJson {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    active: row.active,
    createdAt: row.created_at.toISOString(),
  };
}
