/**
 * A minimal CSMS for tests of the simulator: a real ocpp-rpc RPCServer (OCPP 1.6J, strict schema validation) on a
 * free loopback port that records every call, assigns transaction ids and lets a test decide the answers to
 * BootNotification and Authorize, refuse connections for a while, or drop a station's connection.
 */
import type { AddressInfo } from 'node:net';
import { type IHandlersOption, RPCServer } from 'ocpp-rpc';

export interface RecordedCall {
  readonly stationId: string;
  /** The subprotocol of the station's connection. */
  readonly protocol?: string;
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** Real wall-clock time the call arrived, epoch ms. */
  readonly receivedAtMs: number;
  /** The stub's answer (set once answered). */
  response?: Record<string, unknown>;
}

export interface CsmsStubOptions {
  /** Answer to the n-th (1-based) BootNotification of a station; Accepted with interval 300 by default. */
  readonly bootAnswer?: (
    stationId: string,
    attempt: number,
  ) => { status: 'Accepted' | 'Pending' | 'Rejected'; interval: number };
  /** idTagInfo status answered to Authorize and StartTransaction; Accepted by default. */
  readonly idTagStatus?: (
    idTag: string,
    method: 'Authorize' | 'StartTransaction',
  ) => 'Accepted' | 'Blocked' | 'Invalid' | 'Expired';
  /** Runs after a call is recorded and before it is answered. */
  readonly onCall?: (call: RecordedCall, stub: CsmsStub) => void;
  /** Subprotocols offered; ['ocpp1.6'] by default. With 'ocpp2.0.1' the stub answers OCPP 2.0.1 calls too. */
  readonly protocols?: readonly ('ocpp1.6' | 'ocpp2.0.1')[];
}

/** The connected station as the stub sees it (ocpp-rpc's server-side client). */
export interface StubStationClient {
  readonly identity: string;
  call(method: string, params?: unknown): Promise<unknown>;
  close(options?: { code?: number; reason?: string; force?: boolean; awaitPending?: boolean }): Promise<unknown>;
}

export interface CsmsStub {
  /** ws://127.0.0.1:PORT/ocpp */
  readonly url: string;
  readonly calls: RecordedCall[];
  callsOf(stationId: string, method?: string): RecordedCall[];
  clientOf(stationId: string): StubStationClient | undefined;
  /** Connections are refused (HTTP 503) until this real epoch ms. */
  refuseConnectionsUntil(epochMs: number): void;
  /** How many WebSocket connections each station opened. */
  connectionsOf(stationId: string): number;
  close(): Promise<void>;
}

export async function startCsmsStub(options: CsmsStubOptions = {}): Promise<CsmsStub> {
  const server = new RPCServer({ protocols: [...(options.protocols ?? ['ocpp1.6'])], strictMode: true });
  const calls: RecordedCall[] = [];
  const clients = new Map<string, StubStationClient>();
  const bootAttempts = new Map<string, number>();
  const connections = new Map<string, number>();
  let refuseUntilMs = 0;
  let nextTransactionId = 1;

  server.auth((accept, reject, handshake) => {
    if (Date.now() < refuseUntilMs) return reject(503, 'Service unavailable');
    connections.set(handshake.identity, (connections.get(handshake.identity) ?? 0) + 1);
    accept({});
  });

  const httpServer = await server.listen(0, '127.0.0.1');
  const { port } = httpServer.address() as AddressInfo;

  const stub: CsmsStub = {
    url: `ws://127.0.0.1:${port}/ocpp`,
    calls,
    callsOf: (stationId, method) =>
      calls.filter((call) => call.stationId === stationId && (method === undefined || call.method === method)),
    clientOf: (stationId) => clients.get(stationId),
    refuseConnectionsUntil: (epochMs) => {
      refuseUntilMs = epochMs;
    },
    connectionsOf: (stationId) => connections.get(stationId) ?? 0,
    close: async () => {
      await server.close({ force: true });
    },
  };

  server.on('client', (client) => {
    const stationId = String(client.identity);
    clients.set(stationId, client as unknown as StubStationClient);
    const idTagInfo = (idTag: unknown, method: 'Authorize' | 'StartTransaction') => ({
      status: options.idTagStatus?.(String(idTag), method) ?? 'Accepted',
    });
    const answers: Record<string, (params: Record<string, unknown>) => unknown> = {
      BootNotification: () => {
        const attempt = (bootAttempts.get(stationId) ?? 0) + 1;
        bootAttempts.set(stationId, attempt);
        const answer = options.bootAnswer?.(stationId, attempt) ?? { status: 'Accepted', interval: 300 };
        return { ...answer, currentTime: new Date().toISOString() };
      },
      Heartbeat: () => ({ currentTime: new Date().toISOString() }),
      StatusNotification: () => ({}),
      Authorize: (params) => ({ idTagInfo: idTagInfo(params.idTag, 'Authorize') }),
      StartTransaction: (params) => ({
        idTagInfo: idTagInfo(params.idTag, 'StartTransaction'),
        transactionId: nextTransactionId++,
      }),
      MeterValues: () => ({}),
      StopTransaction: () => ({}),
      DiagnosticsStatusNotification: () => ({}),
      FirmwareStatusNotification: () => ({}),
    };
    if (client.protocol === 'ocpp2.0.1') {
      answers.Authorize = (params) => ({
        idTokenInfo: idTagInfo((params.idToken as { idToken?: unknown } | undefined)?.idToken, 'Authorize'),
      });
      answers.TransactionEvent = (params) =>
        params.idToken === undefined
          ? {}
          : { idTokenInfo: idTagInfo((params.idToken as { idToken?: unknown }).idToken, 'StartTransaction') };
      answers.NotifyEvent = () => ({});
      delete answers.StartTransaction;
      delete answers.StopTransaction;
    }
    client.handle(async ({ method, params }: IHandlersOption) => {
      const call: RecordedCall = {
        stationId,
        protocol: String(client.protocol),
        method: String(method),
        params: (params ?? {}) as Record<string, unknown>,
        receivedAtMs: Date.now(),
      };
      calls.push(call);
      options.onCall?.(call, stub);
      const answer = answers[call.method];
      if (answer === undefined) throw new Error(`the stub does not answer ${call.method}`);
      call.response = answer(call.params) as Record<string, unknown>;
      return call.response;
    });
  });

  return stub;
}
