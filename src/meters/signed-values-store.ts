/** Stores signed meter values raw with their session (once per distinct value) and reads them back in order. */
import { createHash } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, SessionSignedValuesTable } from '../db/schema.ts';
import type { ExtractedSignedValue } from './extract-signed-values.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Longest raw value stored (the column's check); a longer one is refused by the caller with a log line. */
export const MAX_SIGNED_VALUE_CHARS = 100_000;

export type SignedValueSource = SessionSignedValuesTable['source'];

/**
 * Finds the session of (station, transaction) and stores its signed values; a retry of the same value changes
 * nothing. Returns how many were stored, or null when the transaction is unknown. One statement (the session's
 * lookup and the insert together), so one round trip and one commit per message that carries signed data.
 */
export async function storeSignedValues(
  db: Db,
  target: { readonly stationId: string; readonly transactionId: string },
  source: SignedValueSource,
  values: readonly ExtractedSignedValue[],
  receivedAt: Date,
): Promise<number | null> {
  if (values.length === 0) return 0;
  const kept = values.filter((value) => value.raw.length <= MAX_SIGNED_VALUE_CHARS);
  const result = await sql<{ found: boolean; stored: number }>`
    with s as (
      select id from sessions where station_id = ${target.stationId} and transaction_id = ${target.transactionId}
    ), inserted as (
      insert into session_signed_values (session_id, source, sampled_at, context, raw, raw_sha256, received_at)
      select s.id, ${source}, v.sampled_at, v.context, v.raw, v.raw_sha256, ${receivedAt.toISOString()}::timestamptz
      from s cross join unnest(
        ${kept.map((value) => value.at?.toISOString() ?? null)}::timestamptz[],
        ${kept.map((value) => value.context?.slice(0, 64) ?? null)}::text[],
        ${kept.map((value) => value.raw)}::text[],
        ${kept.map((value) => createHash('sha256').update(value.raw, 'utf8').digest('hex'))}::text[]
      ) with ordinality as v(sampled_at, context, raw, raw_sha256, n)
      order by v.n
      on conflict (session_id, raw_sha256) do nothing
      returning 1
    )
    select exists (select 1 from s) as found, (select count(*) from inserted)::int4 as stored`.execute(db);
  const row = result.rows[0];
  if (!row?.found) return null;
  return row.stored;
}

/** The raw signed values of a session, in the order they arrived. */
export async function loadSignedValues(db: Db, sessionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('session_signed_values')
    .select('raw')
    .where('session_id', '=', sessionId)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.raw);
}
