/**
 * The gateway's lean call answerer (answer-call.ts) against ocpp-rpc's own `_onCall`, over real sockets:
 * one station sends the same frames to a server answering with the library's method and to one answering with the
 * lean one, and both must send the same replies, exactly the ones expected (results, each error code and message,
 * the OCPP 1.6 spellings, no reply for NOREPLY, a duplicate message id in flight refused) and emit the same events.
 * A handler that reads its signal still sees it aborted when the station goes away.
 */
import { createRPCError, NOREPLY, RPCClient, RPCServer } from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../../test/support/free-port.ts';
import { leanCallAnswerer } from './answer-call.ts';

type Mode = 'library' | 'lean';
type Server = { url: string; events: string[]; aborted: Promise<unknown>; close(): Promise<void> };

async function startServer(mode: Mode): Promise<Server> {
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  const events: string[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let noteAbort: (reason: unknown) => void = () => {};
  const aborted = new Promise<unknown>((resolve) => {
    noteAbort = resolve;
  });
  server.on('client', (client) => {
    if (mode === 'lean') {
      const answer = leanCallAnswerer(client);
      if (!answer) throw new Error('the lean answerer refused an ocpp-rpc client');
      (client as unknown as { _onCall: typeof answer })._onCall = answer;
    }
    for (const event of ['callResult', 'callError', 'response', 'strictValidationFailure']) {
      client.on(event, (e: { messageId?: string; outbound?: boolean }) => {
        events.push(`${event}:${e.messageId ?? ''}:${e.outbound}`);
      });
    }
    client.handle('Heartbeat', () => ({ currentTime: '2026-11-28T00:00:00.000Z' }));
    // Waits until released: a second call with its message id meanwhile is refused.
    client.handle('Authorize', async () => {
      await released;
      return { idTagInfo: { status: 'Accepted' } };
    });
    client.handle('BootNotification', () => ({ status: 'Maybe' }));
    client.handle('StatusNotification', () => {
      throw createRPCError('SecurityError', 'not on this connector', { connector: 9 });
    });
    client.handle('DataTransfer', async () => {
      throw new Error('the vendor is unknown');
    });
    client.handle('MeterValues', () => NOREPLY);
    client.handle('DiagnosticsStatusNotification', ({ reply }: { reply: (value: unknown) => void }) => {
      reply({});
      return { ignored: true };
    });
    client.handle('FirmwareStatusNotification', ({ signal }: { signal: AbortSignal }) => {
      signal.addEventListener('abort', () => noteAbort(signal.reason));
      return new Promise(() => {});
    });
    client.handle('StartTransaction', () => release() as never);
  });
  const port = await freePort();
  await server.listen(port, '127.0.0.1');
  return { url: `ws://127.0.0.1:${port}`, events, aborted, close: () => server.close({ force: true }) };
}

/** A station that sends frames and collects the replies by message id. */
async function connect(url: string): Promise<{
  send(frame: unknown[]): void;
  reply(id: string, withinMs?: number): Promise<unknown[] | undefined>;
  close(): void;
}> {
  const ws = new WebSocket(`${url}/CP-ANSWER`, ['ocpp1.6']);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const replies = new Map<string, unknown[]>();
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as unknown[];
    replies.set(String(frame[1]), frame);
  });
  return {
    send: (frame) => ws.send(JSON.stringify(frame)),
    async reply(id, withinMs = 2000) {
      const until = Date.now() + withinMs;
      while (!replies.has(id) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      return replies.get(id);
    },
    close: () => ws.terminate(),
  };
}

const EXPECTED: [string, unknown[], unknown[] | undefined][] = [
  ['a result', [2, 'h1', 'Heartbeat', {}], [3, 'h1', { currentTime: '2026-11-28T00:00:00.000Z' }]],
  [
    'an unknown action',
    [2, 'u1', 'FlyToTheMoon', {}],
    [4, 'u1', 'NotImplemented', "Unable to handle 'FlyToTheMoon' calls", {}],
  ],
  [
    'a property the schema does not know',
    [2, 'v1', 'Heartbeat', { extra: 1 }],
    [4, 'v1', 'PropertyConstraintViolation', expect.any(String), expect.any(Object)],
  ],
  [
    'a required property missing, in the 1.6 spelling',
    [2, 'v2', 'BootNotification', {}],
    [4, 'v2', 'OccurrenceConstraintViolation', expect.any(String), expect.any(Object)],
  ],
  [
    'a timestamp against its format, in the 1.6 spelling',
    [2, 'v3', 'StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: 'yesterday' }],
    [4, 'v3', 'FormationViolation', expect.any(String), expect.any(Object)],
  ],
  [
    'a response against the schema',
    [2, 'b1', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }],
    [
      4,
      'b1',
      'InternalError',
      'An internal error occurred and the receiver was not able to process the requested method successfully',
      {},
    ],
  ],
  [
    'an RPC error of the handler, with its details',
    [2, 's1', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }],
    [4, 's1', 'SecurityError', 'not on this connector', { connector: 9 }],
  ],
  [
    'another error of the handler',
    [2, 'd1', 'DataTransfer', { vendorId: 'X' }],
    [4, 'd1', 'GenericError', 'the vendor is unknown', {}],
  ],
  ['NOREPLY', [2, 'm1', 'MeterValues', { connectorId: 1, meterValue: [] }], undefined],
  ['an early reply', [2, 'r1', 'DiagnosticsStatusNotification', { status: 'Idle' }], [3, 'r1', {}]],
];

describe('the lean call answerer answers as ocpp-rpc does', () => {
  const servers = {} as Record<Mode, Server>;
  beforeAll(async () => {
    servers.library = await startServer('library');
    servers.lean = await startServer('lean');
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((server) => server.close()));
  });

  for (const mode of ['library', 'lean'] as const) {
    it(`${mode}: each reply exactly as expected, and the same events`, async () => {
      const station = await connect(servers[mode].url);
      try {
        for (const [what, frame, expected] of EXPECTED) {
          station.send(frame);
          const reply = await station.reply(String(frame[1]), expected === undefined ? 300 : 2000);
          expect(reply, what).toEqual(expected);
        }
        // A duplicate message id while the first is in flight: refused, the first still answered.
        station.send([2, 'a1', 'Authorize', { idTag: 'TAG' }]);
        station.send([2, 'a1', 'Authorize', { idTag: 'TAG' }]);
        expect(await station.reply('a1')).toEqual([
          4,
          'a1',
          'RpcFrameworkError',
          'Already processing a call with message ID: a1',
          {},
        ]);
        station.send([
          2,
          'go',
          'StartTransaction',
          { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: '2026-11-28T00:00:00Z' },
        ]);
        await new Promise((r) => setTimeout(r, 100));
        expect(await station.reply('a1')).toEqual([3, 'a1', { idTagInfo: { status: 'Accepted' } }]);
        // A handler that reads its signal sees it aborted when the station goes away.
        station.send([2, 'f1', 'FirmwareStatusNotification', { status: 'Idle' }]);
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        station.close();
      }
      expect(await servers[mode].aborted).toBe('Client disconnected');
    });
  }

  it('emits the same events in the same order through both', () => {
    expect(servers.lean.events).toEqual(servers.library.events);
    expect(servers.lean.events).toContain('strictValidationFailure:v1:false');
    expect(servers.lean.events).toContain('strictValidationFailure:b1:true');
  });

  it('keeps the library method for a client set to answer with detailed errors, or lacking an internal', () => {
    expect(leanCallAnswerer({})).toBeUndefined();
    // The library's typings ask for every option; it fills the ones not given itself.
    const client = (options: object) =>
      new RPCClient({ endpoint: 'ws://127.0.0.1:9', identity: 'CP-1', ...options } as ConstructorParameters<
        typeof RPCClient
      >[0]);
    expect(leanCallAnswerer(client({}))).toBeTypeOf('function');
    expect(leanCallAnswerer(client({ respondWithDetailedErrors: true }))).toBeUndefined();
  });
});
