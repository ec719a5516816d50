/** Reads and writes of sessions, their samples and state changes. */
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import { joinColumns, splitFields } from '../db/joined-text.ts';
import { SESSION_ACTIVE } from '../db/partial-index-literals.ts';
import type { Database, NewSession, SessionRow } from '../db/schema.ts';
import type { MeterSample } from '../metering/meter-sample.ts';
import { assert } from '../shared/assert.ts';
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
    .where('status', '=', SESSION_ACTIVE)
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

/**
 * Inserts samples (a station's retry of the same reading is ignored) in one statement whose text does not depend on
 * the number of rows (columns as arrays). Only samples of sessions that are still Active are stored: readings after
 * the end change nothing that is billed (the message log keeps them), and the database decides it, so that a
 * caller's cached view of a session (session-service.ts) cannot be wrong about it.
 */
export async function insertSamples(db: Db, rows: readonly SampleRow[]): Promise<void> {
  const n = rows.length;
  if (n === 0) return;
  const sessionIds = new Array<string>(n);
  const sampledAt = new Array<string>(n);
  const contexts = new Array<string>(n);
  const registerWh = new Array<string | null>(n);
  const powerW = new Array<string | null>(n);
  const currentA = new Array<string | null>(n);
  const socPercent = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    sessionIds[i] = row.session_id;
    sampledAt[i] = row.sampled_at.toISOString();
    contexts[i] = row.context;
    registerWh[i] = row.register_wh;
    powerW[i] = row.power_w;
    currentA[i] = row.current_a;
    socPercent[i] = row.soc_percent;
  }
  // Samples of a session that is no longer Active are dropped here, in the statement: a meter value racing the
  // stop (or a node's stale cache entry) cannot add to a billed session. The check is a scalar subquery on purpose:
  // one primary-key probe per row. Written as EXISTS, the planner turned it into a join, and its generic plan (the
  // statement is prepared; it guesses 10 rows per array and 2 Active sessions) was a nested loop over every Active
  // session for every row: 12,000 comparisons for a batch of 135 rows among 200 sessions, growing with the fleet.
  // The columns go joined (src/db/joined-text.ts: no escaping), as arrays should a value hold a separator.
  const joined = joinColumns([sessionIds, sampledAt, contexts, registerWh, powerW, currentA, socPercent]);
  const columns = joined
    ? joined.map(splitFields)
    : [sessionIds, sampledAt, contexts, registerWh, powerW, currentA, socPercent].map((values) => sql`${values}`);
  const [sessionId, at, context, register, power, current, soc] = columns;
  await sql`
    insert into meter_samples (session_id, sampled_at, context, register_wh, power_w, current_a, soc_percent)
    select v.session_id, v.sampled_at, v.context, v.register_wh, v.power_w, v.current_a, v.soc_percent
    from unnest(${sessionId}::uuid[], ${at}::timestamptz[], ${context}::text[], ${register}::numeric[],
                ${power}::numeric[], ${current}::numeric[], ${soc}::numeric[])
      as v(session_id, sampled_at, context, register_wh, power_w, current_a, soc_percent)
    where (select s.status from sessions s where s.id = v.session_id) = 'Active'
    on conflict (session_id, sampled_at, context) do nothing`.execute(db);
}

/**
 * The session's latest stored energy register reading taken at or before `atOrBefore` (the register in mWh), by the
 * samples' key (session, time): the end of an OCPP 2.0.1 transaction whose Ended event has no reading of its own
 * reads it, since a reading applied as it was stored keeps its readings here only (transaction-event-store.ts).
 */
export async function findLastRegisterReading(
  db: Db,
  sessionId: string,
  atOrBefore: Date,
): Promise<{ readonly at: Date; readonly registerMilliWh: bigint } | undefined> {
  const row = await db
    .selectFrom('meter_samples')
    .select(['sampled_at', 'register_wh'])
    .where('session_id', '=', sessionId)
    .where('sampled_at', '<=', atOrBefore)
    .where('register_wh', 'is not', null)
    .orderBy('sampled_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row || row.register_wh === null) return undefined;
  const registerMilliWh = parseScaled(String(row.register_wh), 3);
  assert(registerMilliWh !== undefined, `meter_samples.register_wh ${String(row.register_wh)} is not a number`);
  return { at: row.sampled_at, registerMilliWh };
}

/**
 * What the meter-value path needs of a session it has not cached: its id, status and how many samples it holds
 * (counted on the primary key's index; read only when a node first meets the session or it nears its limit).
 */
export async function findSessionForSampling(
  db: Db,
  stationId: string,
  transactionId: string,
): Promise<{ id: string; status: string; storedSamples: number } | undefined> {
  const row = await sql<{ id: string; status: string; stored_samples: number }>`
    select s.id, s.status, (select count(*)::int from meter_samples m where m.session_id = s.id) as stored_samples
    from sessions s where s.station_id = ${stationId} and s.transaction_id = ${transactionId}`.execute(db);
  const found = row.rows[0];
  return found && { id: found.id, status: found.status, storedSamples: found.stored_samples };
}

/** A charging-state change as a station reports it, for the Active session of its EVSE. */
export type EvseStateChange = {
  readonly stationId: string;
  readonly evseId: number;
  readonly state: ChargingState;
  readonly at: Date;
};

/** The range `evses.evse_id` allows (migrations/0001_foundation.sql): no session can be on another EVSE number. */
const MIN_EVSE_ID = 1;
const MAX_EVSE_ID = 1000;

/**
 * Records charging-state changes, each on the Active session of its EVSE (the latest started) unless it is older
 * than that session's start: one statement and one commit for a whole batch (session-service.ts group-commits them;
 * each change had been one statement, and before that a SELECT, an INSERT and an UPDATE). A session's
 * `charging_state` becomes the last of its changes in the batch, in the order given, as one-by-one writes would
 * leave it. A change for an EVSE number no row can have is left out (it would fail the cast, and the whole batch).
 * Returns how many sessions took a change.
 */
export async function recordStateChangesOnEvses(db: Db, changes: readonly EvseStateChange[]): Promise<number> {
  const valid = changes.filter((c) => Number.isInteger(c.evseId) && c.evseId >= MIN_EVSE_ID && c.evseId <= MAX_EVSE_ID);
  if (valid.length === 0) return 0;
  // The Active session per change by the partial index sessions_active_evse (status as a literal, migration 0016).
  const result = await sql<{ id: string }>`
    with v as (
      select * from unnest(${valid.map((c) => c.stationId)}::text[], ${valid.map((c) => c.evseId)}::int4[],
                           ${valid.map((c) => c.state)}::text[], ${valid.map((c) => c.at.toISOString())}::timestamptz[])
        with ordinality as v(station_id, evse_id, state, at, n)
    ), target as (
      select s.id, v.state, v.at, v.n from v
      cross join lateral (
        select id, started_at from sessions
        where station_id = v.station_id and evse_id = v.evse_id and status = 'Active'
        order by started_at desc limit 1
      ) s
      where s.started_at <= v.at
    ), recorded as (
      insert into session_states (session_id, changed_at, state)
      select id, at, state from target
      on conflict do nothing
    ), latest as (
      select distinct on (id) id, state from target order by id, n desc
    )
    update sessions set charging_state = latest.state
    from latest where sessions.id = latest.id and sessions.status = 'Active'
    returning sessions.id`.execute(db);
  return result.rows.length;
}

/** One change (`recordStateChangesOnEvses`); whether a session took it. */
export async function recordStateChangeOnEvse(
  db: Db,
  stationId: string,
  evseId: number,
  state: ChargingState,
  at: Date,
): Promise<boolean> {
  return (await recordStateChangesOnEvses(db, [{ stationId, evseId, state, at }])) > 0;
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

/** A stored sample as the end of a session reads it: what pricing and the plausibility rules both need. */
export type LoadedSampleRow = {
  readonly sampled_at: Date;
  readonly context: string;
  readonly register_wh: string | null;
  readonly power_w: string | null;
  readonly current_a: string | null;
};

/** The session's samples in time order, every column the stop uses (one read for metering and pricing). */
export async function loadSampleRows(db: Db, sessionId: string): Promise<LoadedSampleRow[]> {
  return db
    .selectFrom('meter_samples')
    .select(['sampled_at', 'context', 'register_wh', 'power_w', 'current_a'])
    .where('session_id', '=', sessionId)
    .orderBy('sampled_at')
    .orderBy('context')
    .execute();
}

export function toStoredSample(row: Omit<LoadedSampleRow, 'context'>): StoredSample {
  const registerMilliWh = row.register_wh === null ? undefined : parseScaled(row.register_wh, 3);
  return {
    at: row.sampled_at,
    ...(registerMilliWh !== undefined && { registerMilliWh }),
    ...(row.power_w !== null && { powerW: Number(row.power_w) }),
    ...(row.current_a !== null && { currentA: Number(row.current_a) }),
  };
}

export async function loadSamples(db: Db, sessionId: string): Promise<StoredSample[]> {
  const rows = await db
    .selectFrom('meter_samples')
    .select(['sampled_at', 'register_wh', 'power_w', 'current_a'])
    .where('session_id', '=', sessionId)
    .orderBy('sampled_at')
    .execute();
  return rows.map(toStoredSample);
}

/**
 * The session's samples as loadSampleRows returns them, as one json value for a caller's statement (the stop's
 * metering read carries them: one round trip less). Numbers travel as text, so nothing is rounded; timestamps as
 * ISO 8601 with offset. Read them with sampleRowsOfJson.
 */
export function sampleRowsJson(sessionId: string): RawBuilder<unknown> {
  return sql`coalesce((select json_agg(json_build_array(${utcIso(sql.ref('s.sampled_at'))}, s.context,
      s.register_wh::text, s.power_w::text, s.current_a::text) order by s.sampled_at, s.context)
    from meter_samples s where s.session_id = ${sessionId}), '[]'::json)`;
}

export function sampleRowsOfJson(value: unknown): LoadedSampleRow[] {
  return jsonArray(value).map((entry) => {
    const [at, context, registerWh, powerW, currentA] = entry as [
      string,
      string,
      string | null,
      string | null,
      string | null,
    ];
    return { sampled_at: new Date(at), context, register_wh: registerWh, power_w: powerW, current_a: currentA };
  });
}

/** The session's charging-state changes as loadStateChanges returns them, as one json value (see sampleRowsJson). */
export function stateChangesJson(sessionId: string): RawBuilder<unknown> {
  return sql`coalesce((select json_agg(json_build_array(${utcIso(sql.ref('c.changed_at'))}, c.state)
      order by c.changed_at, c.state)
    from session_states c where c.session_id = ${sessionId}), '[]'::json)`;
}

/** A timestamptz as ISO 8601 in UTC with microseconds, whatever the connection's TimeZone (json would use it). */
function utcIso(column: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

export function stateChangesOfJson(value: unknown): StoredStateChange[] {
  return jsonArray(value).map((entry) => {
    const [at, state] = entry as [string, string];
    return { at: new Date(at), state: state as ChargingState };
  });
}

/** A json value as node-postgres and PGlite return it (parsed), or its text. */
function jsonArray(value: unknown): unknown[] {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  assert(Array.isArray(parsed), 'a json array');
  return parsed;
}

export async function loadStateChanges(db: Db, sessionId: string): Promise<StoredStateChange[]> {
  const rows = await db
    .selectFrom('session_states')
    .select(['changed_at', 'state'])
    .where('session_id', '=', sessionId)
    .orderBy('changed_at')
    .orderBy('state')
    .execute();
  return rows.map((row) => ({ at: row.changed_at, state: row.state as ChargingState }));
}
