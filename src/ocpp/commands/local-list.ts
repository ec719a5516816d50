/**
 * The local authorization list of a station (SendLocalList, full update): the operator's RFID tokens with their
 * status and expiry, so that cards keep working, and blocked cards stay blocked, while the station is offline.
 * The version is one more than the last the station accepted.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OcppRequest } from './build-command.ts';

/** Entries per list; an operator with more tokens needs differential updates (not implemented, docs/ocpp.md). */
export const MAX_LOCAL_LIST_ENTRIES = 10_000;
/** OCPP 1.6 IdToken is CiString20; longer uids cannot be in a 1.6 list. */
const V16_MAX_ID_TAG_CHARS = 20;

export type LocalListResult =
  | { ok: true; request: OcppRequest; version: number; entries: number; skipped: number }
  | { ok: false; error: { code: 'StationNotFound' | 'InvalidCommandInput'; message: string } };

export async function buildLocalList(
  db: Kysely<Database>,
  stationId: string,
  protocol: string,
): Promise<LocalListResult> {
  const station = await db
    .selectFrom('stations')
    .select(['operator_id', 'local_list_version'])
    .where('id', '=', stationId)
    .executeTakeFirst();
  if (!station?.operator_id)
    return { ok: false, error: { code: 'StationNotFound', message: `no station ${stationId}` } };
  const tokens = await db
    .selectFrom('id_tokens')
    .select(['uid', 'type', 'status', 'expires_at'])
    .where('operator_id', '=', station.operator_id)
    .where('type', 'in', ['RFID', 'OTHER'])
    .orderBy('uid')
    .limit(MAX_LOCAL_LIST_ENTRIES + 1)
    .execute();
  if (tokens.length > MAX_LOCAL_LIST_ENTRIES) {
    return {
      ok: false,
      error: { code: 'InvalidCommandInput', message: `more than ${MAX_LOCAL_LIST_ENTRIES} tokens for one list` },
    };
  }
  const version = station.local_list_version + 1;
  const v201 = protocol === 'ocpp2.0.1';
  const usable = v201 ? tokens : tokens.filter((t) => t.uid.length <= V16_MAX_ID_TAG_CHARS);
  const request: OcppRequest = v201
    ? {
        method: 'SendLocalList',
        params: {
          versionNumber: version,
          updateType: 'Full',
          localAuthorizationList: usable.map((t) => ({
            idToken: { idToken: t.uid, type: 'ISO14443' },
            idTokenInfo: {
              status: t.status,
              ...(t.expires_at && { cacheExpiryDateTime: t.expires_at.toISOString() }),
            },
          })),
        },
      }
    : {
        method: 'SendLocalList',
        params: {
          listVersion: version,
          updateType: 'Full',
          localAuthorizationList: usable.map((t) => ({
            idTag: t.uid,
            idTagInfo: { status: t.status, ...(t.expires_at && { expiryDate: t.expires_at.toISOString() }) },
          })),
        },
      };
  return { ok: true, request, version, entries: usable.length, skipped: tokens.length - usable.length };
}
