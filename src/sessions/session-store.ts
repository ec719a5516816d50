/** Reads and writes of sessions, their samples and state changes. */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, NewSession, SessionRow } from '../db/schema.ts';
import type { MeterSample } from '../metering/meter-sample.ts';
import { formatScaled, parseScaled } from '../shared/decimal.ts';
import type { StoredSample, StoredStateChange } from './build-timeline.ts';
import type { ChargingState } from './session-event.ts';

export type Db = Kysely<Database> | Transaction<Database>;

/** Inserts a new session unless one with the same start key exists; returns the stored row either way. */
export async function insertSessionOnce(db: Db, session: NewSession): Promise<{ row: SessionRow; created: boolean }> {
  const inserted = await db
    .insertInto('sessions')
    .values(session)
    .onConflict((oc) => oc.columns(['station_id', 'start_key']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { row: inserted, created: true };
  const existing = await db
    .selectFrom('sessions')
    .selectAll()
    .where('station_id', '=', session.station_id)
    .where('start_key', '=', session.start_key)
    .executeTakeFirstOrThrow();
  return { row: existing, created: false };
}

export async function findSessionByTransaction(
  db: Db,
  stationId: string,
  transactionId: string,
  lock = false,
): Promise<SessionRow | undefined> {
  let query = db
    .selectFrom('sessions')
    .selectAll()
    .where('station_id', '=', stationId)
    .where('transaction_id', '=', transactionId);
  if (lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findActiveSessionOnEvse(
  db: Db,
  stationId: string,
  evseId: number,
): Promise<SessionRow | undefined> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('station_id', '=', stationId)
    .where('evse_id', '=', evseId)
    .where('status', '=', 'Active')
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export type SampleRow = {
  session_id: string;
  sampled_at: Date;
  context: string;
  register_wh: string | null;
  power_w: string | null;
  current_a: string | null;
  soc_percent: string | null;
};

export function toSampleRow(sessionId: string, sample: MeterSample): SampleRow {
  return {
    session_id: sessionId,
    sampled_at: sample.at,
    context: sample.context.slice(0, 64),
    register_wh: sample.energyRegisterMilliWh === undefined ? null : formatScaled(sample.energyRegisterMilliWh, 3, 3),
    power_w: sample.powerW === undefined ? null : decimalText(sample.powerW, 3),
    current_a: sample.currentA === undefined ? null : decimalText(sample.currentA, 3),
    soc_percent: sample.socPercent === undefined ? null : decimalText(sample.socPercent, 2),
  };
}

/** Power, current and SoC are measurements, not money: rounding them to the column's precision is fine. */
function decimalText(value: number, decimals: number): string {
  return value.toFixed(decimals);
}

/** Inserts samples (a station's retry of the same reading is ignored) and counts them on their sessions. */
export async function insertSamples(db: Db, rows: readonly SampleRow[]): Promise<void> {
  if (rows.length === 0) return;
  const inserted = await db
    .insertInto('meter_samples')
    .values(rows as SampleRow[])
    .onConflict((oc) => oc.columns(['session_id', 'sampled_at', 'context']).doNothing())
    .returning('session_id')
    .execute();
  const counts = new Map<string, number>();
  for (const { session_id } of inserted) counts.set(session_id, (counts.get(session_id) ?? 0) + 1);
  if (counts.size === 0) return;
  const values = sql.join([...counts].map(([id, n]) => sql`(${id}::uuid, ${n}::int)`));
  await sql`update sessions set sample_count = sessions.sample_count + v.n
    from (values ${values}) as v(id, n) where sessions.id = v.id`.execute(db);
}

export async function insertStateChange(db: Db, sessionId: string, state: ChargingState, at: Date): Promise<void> {
  await db
    .insertInto('session_states')
    .values({ session_id: sessionId, changed_at: at, state })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await db
    .updateTable('sessions')
    .set({ charging_state: state })
    .where('id', '=', sessionId)
    .where('status', '=', 'Active')
    .execute();
}

export async function loadSamples(db: Db, sessionId: string): Promise<StoredSample[]> {
  const rows = await db
    .selectFrom('meter_samples')
    .select(['sampled_at', 'register_wh', 'power_w', 'current_a'])
    .where('session_id', '=', sessionId)
    .orderBy('sampled_at')
    .execute();
  return rows.map((row) => {
    const registerMilliWh = row.register_wh === null ? undefined : parseScaled(row.register_wh, 3);
    return {
      at: row.sampled_at,
      ...(registerMilliWh !== undefined && { registerMilliWh }),
      ...(row.power_w !== null && { powerW: Number(row.power_w) }),
      ...(row.current_a !== null && { currentA: Number(row.current_a) }),
    };
  });
}

export async function loadStateChanges(db: Db, sessionId: string): Promise<StoredStateChange[]> {
  const rows = await db
    .selectFrom('session_states')
    .select(['changed_at', 'state'])
    .where('session_id', '=', sessionId)
    .orderBy('changed_at')
    .execute();
  return rows.map((row) => ({ at: row.changed_at, state: row.state as ChargingState }));
}
