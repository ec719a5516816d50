/**
 * The CPU of answering one CALL, ocpp-rpc's own `_onCall` (the baseline) against the gateway's lean answerer
 * (src/ocpp/answer-call.ts), alternated in one process: a client in the OPEN state whose socket is left out
 * (`sendRaw` discards the reply), an async handler as the gateway's, 100 calls in flight at a time.
 *
 *   npx tsx bench/answer-call.bench.ts [--calls 200000] [--rounds 4]
 */
import { RPCClient } from 'ocpp-rpc';
import { describeMachine, fmt, numberFlag } from '../src/load/bench-harness.ts';
import { leanCallAnswerer } from '../src/ocpp/answer-call.ts';

const calls = numberFlag('calls', 200_000);
const rounds = numberFlag('rounds', 4);
const IN_FLIGHT = 100;

type Answer = (messageId: string, method: string, params: unknown) => Promise<void> | void;

/** The client internals the benchmark sets: ocpp-rpc's typings keep them private. */
type OpenClient = { _onCall: Answer; _state: number; sendRaw(message: string): void; handle: RPCClient['handle'] };

function openClient(): OpenClient {
  const client = new RPCClient({ endpoint: 'ws://127.0.0.1:9', identity: 'CP-BENCH' } as ConstructorParameters<
    typeof RPCClient
  >[0]) as unknown as OpenClient;
  client._state = 1; // ws's OPEN: answered as on a connected socket
  client.sendRaw = () => {};
  client.handle('MeterValues', async () => ({}));
  return client;
}

const library = openClient();
const leanClient = openClient();
const lean = leanCallAnswerer(leanClient);
if (!lean) throw new Error('the lean answerer refused the client');
const params = { connectorId: 1, meterValue: [] };

async function cpuPerCallUs(answer: Answer): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i += IN_FLIGHT) {
    const inFlight: (Promise<void> | void)[] = [];
    for (let j = 0; j < IN_FLIGHT; j++) inFlight.push(answer(`m${i + j}`, 'MeterValues', params));
    await Promise.all(inFlight);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

console.log(`call answering benchmark — ${describeMachine()}`);
console.log(`${calls} calls per round and answerer, ${rounds} rounds alternated\n`);
const figures = { library: [] as number[], lean: [] as number[] };
await cpuPerCallUs((id, method, p) => library._onCall(id, method, p));
await cpuPerCallUs(lean);
for (let round = 1; round <= rounds; round++) {
  figures.library.push(await cpuPerCallUs((id, method, p) => library._onCall(id, method, p)));
  figures.lean.push(await cpuPerCallUs(lean));
  console.log(
    `round ${round}: ocpp-rpc _onCall ${fmt(figures.library.at(-1), 2)} µs, lean ${fmt(figures.lean.at(-1), 2)} µs of CPU per call`,
  );
}
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
console.log(
  `\nmean: ocpp-rpc _onCall (baseline) ${fmt(mean(figures.library), 2)} µs, lean ${fmt(mean(figures.lean), 2)} µs per call; ` +
    `ratio lean / baseline ${fmt((100 * mean(figures.lean)) / mean(figures.library))} %`,
);
