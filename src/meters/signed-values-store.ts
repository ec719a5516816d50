/** Stores signed meter values raw with their session (once per distinct value) and reads them back in order. */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, SessionSignedValuesTable } from '../db/schema.ts';
import type { ExtractedSignedValue } from './extract-signed-values.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Longest raw value stored (the column's check); a longer one is refused by the caller with a log line. */
export const MAX_SIGNED_VALUE_CHARS = 100_000;

export type SignedValueSource = SessionSignedValuesTable['source'];

/**
 * Finds the session of (station, transaction) and stores its signed values; a retry of the same value changes
 * nothing. Returns how many were stored, or null when the transaction is unknown.
 */
export async function storeSignedValues(
  db: Db,
  target: { readonly stationId: string; readonly transactionId: string },
  source: SignedValueSource,
  values: readonly ExtractedSignedValue[],
  receivedAt: Date,
): Promise<number | null> {
  if (values.length === 0) return 0;
  const session = await db
    .selectFrom('sessions')
    .select('id')
    .where('station_id', '=', target.stationId)
    .where('transaction_id', '=', target.transactionId)
    .executeTakeFirst();
  if (!session) return null;
  const rows = values
    .filter((value) => value.raw.length <= MAX_SIGNED_VALUE_CHARS)
    .map((value) => ({
      session_id: session.id,
      source,
      sampled_at: value.at,
      context: value.context?.slice(0, 64) ?? null,
      raw: value.raw,
      raw_sha256: createHash('sha256').update(value.raw, 'utf8').digest('hex'),
      received_at: receivedAt,
    }));
  if (rows.length === 0) return 0;
  const inserted = await db
    .insertInto('session_signed_values')
    .values(rows)
    .onConflict((oc) => oc.columns(['session_id', 'raw_sha256']).doNothing())
    .returning('id')
    .execute();
  return inserted.length;
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
