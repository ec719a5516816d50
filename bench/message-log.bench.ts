/**
 * The message log's batch INSERT, the one write every OCPP frame makes: CPU per frame of node and of PostgreSQL,
 * each column joined into one text parameter (src/db/joined-text.ts, what the log does) against the baseline of
 * text[] parameters (what it did before: every value escaped by the driver and unescaped by the server), rounds
 * alternated in one run on one durable PostgreSQL. The frames are a station's OCPP 1.6 MeterValues and its answer,
 * as the gateway logs them (parsed inbound, cut out of their text).
 *
 *   npx tsx bench/message-log.bench.ts [--batches 60] [--rounds 4]
 */
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { describeMachine, fmt, numberFlag } from '../src/load/bench-harness.ts';
import { insertMessageRows, type LoggedRow, toRow } from '../src/ocpp/message-log.ts';
import { startPostgres } from '../test/support/postgres-server.ts';
import { postgresCpuS } from './process-cpu.ts';

const batches = numberFlag('batches', 60);
const rounds = numberFlag('rounds', 4);
/** The group commit's batches under load are hundreds of frames (its limit is 1,000). */
const FRAMES_PER_BATCH = 1000;

const call = JSON.stringify([
  2,
  'a1b2c3d4-0001',
  'MeterValues',
  {
    connectorId: 1,
    transactionId: 123456,
    meterValue: [
      {
        timestamp: '2026-11-27T23:59:59.000Z',
        sampledValue: [
          { value: '12345.6', context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          { value: '7200', context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
          { value: '32', context: 'Sample.Periodic', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
        ],
      },
    ],
  },
]);
const answer = '[3,"a1b2c3d4-0001",{}]';

function batchRows(): LoggedRow[] {
  const rows: LoggedRow[] = [];
  const at = new Date();
  for (let i = 0; i < FRAMES_PER_BATCH / 2; i++) {
    const stationId = `CP-${String(i % 200).padStart(4, '0')}`;
    rows.push(toRow({ stationId, direction: 'in', text: call, at, parsed: JSON.parse(call) }));
    rows.push(toRow({ stationId, direction: 'out', text: answer, at }));
  }
  return rows;
}

console.log(`message log benchmark — ${describeMachine()}`);
console.log(`${batches} batches of ${FRAMES_PER_BATCH} frames per round and form, ${rounds} rounds alternated\n`);

const postgres = await startPostgres({ durable: true });
const database = await openDatabase({ kind: 'postgres', url: postgres.url });
try {
  await migrateToLatest(database.db);
  type Cost = { nodeUs: number; postgresUs: number };
  const totals: Record<'joined' | 'arrays', Cost[]> = { joined: [], arrays: [] };
  const measure = async (form: 'joined' | 'arrays', count: number): Promise<Cost> => {
    // Rows are built outside the measured span: both forms start from the same rows.
    const prepared = Array.from({ length: count }, batchRows);
    const node0 = process.cpuUsage();
    const postgres0 = postgresCpuS(postgres.dataDir);
    for (const rows of prepared) await insertMessageRows(database.db, rows, form);
    const node = process.cpuUsage(node0);
    const frames = count * FRAMES_PER_BATCH;
    return {
      nodeUs: (node.user + node.system) / frames,
      postgresUs: ((postgresCpuS(postgres.dataDir) - postgres0) * 1e6) / frames,
    };
  };
  await measure('joined', 5);
  await measure('arrays', 5);
  for (let round = 1; round <= rounds; round++) {
    for (const form of ['joined', 'arrays'] as const) {
      const cost = await measure(form, batches);
      totals[form].push(cost);
      console.log(
        `round ${round} ${form.padEnd(6)}  node ${fmt(cost.nodeUs, 2)} µs + PostgreSQL ${fmt(cost.postgresUs, 2)} µs per frame`,
      );
    }
  }
  const mean = (costs: Cost[], key: keyof Cost) => costs.reduce((sum, cost) => sum + cost[key], 0) / costs.length;
  const joined = { node: mean(totals.joined, 'nodeUs'), pg: mean(totals.joined, 'postgresUs') };
  const arrays = { node: mean(totals.arrays, 'nodeUs'), pg: mean(totals.arrays, 'postgresUs') };
  console.log(
    `\nmean joined: node ${fmt(joined.node, 2)} + PostgreSQL ${fmt(joined.pg, 2)} = ${fmt(joined.node + joined.pg, 2)} µs per frame`,
  );
  console.log(
    `mean arrays (baseline): node ${fmt(arrays.node, 2)} + PostgreSQL ${fmt(arrays.pg, 2)} = ${fmt(arrays.node + arrays.pg, 2)} µs per frame`,
  );
  console.log(
    `ratio joined / arrays: node ${fmt((100 * joined.node) / arrays.node)} %, PostgreSQL ${fmt((100 * joined.pg) / arrays.pg)} %, ` +
      `both ${fmt((100 * (joined.node + joined.pg)) / (arrays.node + arrays.pg))} %`,
  );
} finally {
  await database.close();
  postgres.stop();
}
