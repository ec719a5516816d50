/** Lookups of id tokens (RFID cards, app tokens) within one operator; OCPP compares idTags case-insensitively. */
import { type Kysely, sql } from 'kysely';
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
    .where('status', '=', 'Active')
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
