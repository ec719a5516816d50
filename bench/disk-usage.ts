/**
 * What a run leaves on PostgreSQL's disk, for an operator's capacity planning: the growth of every table (heap,
 * indexes and TOAST: `pg_total_relation_size`) and the WAL written (the LSN's advance, which is also what a replica
 * or a WAL archive receives), between two snapshots taken on the bench's own connection. The reference is the OCPP
 * frames themselves, as they travelled in both directions (the message log's text, counted in the database): what
 * storing the traffic could cost at the very least.
 *
 * Nothing is kept forever by a benchmark, but a network is: the message log and the meter samples are append-only
 * and have no retention in Voltbill (docs/operations.md), so these figures times the messages per day are the disk
 * an operator provisions.
 */
import pg from 'pg';

export interface DiskSnapshot {
  /** pg_current_wal_insert_lsn(): WAL inserted so far, in bytes (written or not: with asynchronous commit it may still be in WAL buffers). */
  readonly walBytes: number;
  /** Each table of the public schema: heap, indexes and TOAST, bytes. */
  readonly tableBytes: ReadonlyMap<string, number>;
  /** The message log's frames as travelled: the text of every logged frame (payload, or raw when unsplit), bytes. */
  readonly frameBytes: number;
  readonly loggedFrames: number;
}

export interface DiskGrowth {
  readonly walBytes: number;
  readonly tableBytes: number;
  /** The tables that grew, largest first. */
  readonly byTable: ReadonlyArray<readonly [table: string, bytes: number]>;
  readonly frameBytes: number;
  readonly loggedFrames: number;
}

/** "16/B374D848" → bytes. An LSN is 64 bits; a test cluster's stays far below 2^53. */
export function lsnToBytes(lsn: string): number {
  const match = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(lsn);
  if (!match) throw new Error(`not a WAL location: ${lsn}`);
  return Number.parseInt(match[1] as string, 16) * 2 ** 32 + Number.parseInt(match[2] as string, 16);
}

export async function takeDiskSnapshot(url: string): Promise<DiskSnapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const wal = await client.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
    const tables = await client.query<{ name: string; bytes: string }>(
      `select c.relname as name, pg_total_relation_size(c.oid)::text as bytes
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p')`,
    );
    // The frame's OCPP-J header (type, id, action) is a few tens of bytes beside the payload: counted from the
    // columns that hold it, so that the reference is the frame's length, not only its payload's.
    const frames = await client.query<{ bytes: string | null; n: string }>(
      `select sum(coalesce(octet_length(raw), octet_length(payload) + coalesce(octet_length(message_id), 0)
                 + coalesce(octet_length(action), 0) + 10))::text as bytes, count(*)::text as n
         from ocpp_messages`,
    );
    return {
      walBytes: lsnToBytes(wal.rows[0]?.lsn ?? ''),
      tableBytes: new Map(tables.rows.map((r) => [r.name, Number(r.bytes)])),
      frameBytes: Number(frames.rows[0]?.bytes ?? 0),
      loggedFrames: Number(frames.rows[0]?.n ?? 0),
    };
  } finally {
    await client.end();
  }
}

export function diskGrowth(before: DiskSnapshot, after: DiskSnapshot): DiskGrowth {
  const byTable = [...after.tableBytes]
    .map(([table, bytes]) => [table, bytes - (before.tableBytes.get(table) ?? 0)] as const)
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1]);
  return {
    walBytes: after.walBytes - before.walBytes,
    tableBytes: byTable.reduce((sum, [, bytes]) => sum + bytes, 0),
    byTable,
    frameBytes: after.frameBytes - before.frameBytes,
    loggedFrames: after.loggedFrames - before.loggedFrames,
  };
}

/**
 * The growth per unit (a message, a session) as one paragraph: tables, the largest of them, WAL, the frames' own
 * bytes and the ratio to them, and the disk per million units (the operator multiplies by its own traffic).
 */
export function describeDiskGrowth(growth: DiskGrowth, units: number, unitName: string): string {
  const per = (bytes: number) => Math.round(bytes / Math.max(1, units));
  const top = growth.byTable
    .slice(0, 4)
    .map(([table, bytes]) => `${table} ${per(bytes)}`)
    .join(', ');
  const gibPerMillion = (bytes: number) => ((per(bytes) * 1e6) / 1024 ** 3).toFixed(2);
  return (
    `disk per ${unitName} (${units} ${unitName}s): tables and indexes ${per(growth.tableBytes)} bytes (${top}), ` +
    `WAL ${per(growth.walBytes)} bytes; the frames as travelled ${per(growth.frameBytes)} bytes ` +
    `(${growth.loggedFrames} frames logged), tables ${(growth.tableBytes / Math.max(1, growth.frameBytes)).toFixed(1)}× the frames; ` +
    `a million ${unitName}s: ${gibPerMillion(growth.tableBytes)} GiB of tables and indexes, ` +
    `${gibPerMillion(growth.walBytes)} GiB of WAL`
  );
}
