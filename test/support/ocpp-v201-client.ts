/**
 * Real OCPP 2.0.1 clients for the integration tests: ocpp-rpc over a real socket (ws:// or wss://, with Basic
 * auth and client certificates when a test needs them), strict by default so that every reply of Voltbill is
 * checked against the official 2.0.1 schemas. Requests the server sends (CostUpdated, commands) are recorded.
 */
import { RPCClient } from 'ocpp-rpc';
import type { RunningServer } from '../../src/main.ts';

export type ReceivedCall = { method: string; params: Record<string, unknown> };

export type V201Station = {
  // biome-ignore lint/suspicious/noExplicitAny: replies are checked by the assertions, not by the compiler.
  call<T = Record<string, any>>(method: string, params?: unknown): Promise<T>;
  close(options?: { force?: boolean; code?: number; reason?: string }): Promise<unknown>;
  /** Requests the server sent to this station, in arrival order. */
  readonly received: ReceivedCall[];
  /** Resolves with the next request of that method the server sends (or one that arrived already, unread). */
  nextReceived(method: string, timeoutMs?: number): Promise<ReceivedCall>;
  /** How the station answers a server request (default: the minimal accepted reply for the method). */
  answer(method: string, reply: (params: Record<string, unknown>) => Record<string, unknown>): void;
  readonly protocol: string;
  on(event: string, listener: (...args: never[]) => void): void;
};

export type ConnectOptions = {
  /** Default ['ocpp2.0.1']. */
  protocols?: string[];
  password?: string;
  strict?: boolean;
  /** wss:// endpoint instead of ws:// (server.ocppTlsUrl). */
  endpoint?: string;
  /** TLS options for wss:// (ca to trust the server, cert/key for profile 3). */
  tls?: { ca?: string; cert?: string; key?: string };
};

const DEFAULT_REPLIES: Record<string, (params: Record<string, unknown>) => Record<string, unknown>> = {
  CostUpdated: () => ({}),
};

export async function connectV201Station(
  server: RunningServer,
  stationId: string,
  options: ConnectOptions = {},
): Promise<V201Station> {
  const client = new RPCClient({
    endpoint: options.endpoint ?? server.ocppUrl,
    identity: stationId,
    protocols: options.protocols ?? ['ocpp2.0.1'],
    strictMode: options.strict ?? true,
    reconnect: false,
    callTimeoutMs: 10_000,
    ...(options.password !== undefined && { password: options.password }),
    ...(options.tls && { wsOpts: { ...options.tls } }),
  } as ConstructorParameters<typeof RPCClient>[0]);
  const received: ReceivedCall[] = [];
  const unread: ReceivedCall[] = [];
  const waiters: { method: string; resolve: (call: ReceivedCall) => void }[] = [];
  const replies = new Map(Object.entries(DEFAULT_REPLIES));
  const record = (method: string, params: Record<string, unknown>) => {
    const call = { method, params };
    received.push(call);
    const waiter = waiters.findIndex((w) => w.method === method);
    if (waiter >= 0) waiters.splice(waiter, 1)[0]?.resolve(call);
    else unread.push(call);
  };
  client.handle(async ({ method, params }) => {
    const name = String(method);
    const body = (params ?? {}) as Record<string, unknown>;
    record(name, body);
    const reply = replies.get(name);
    return reply ? reply(body) : {};
  });
  await client.connect();
  const station = client as unknown as V201Station & { protocol: string };
  return Object.assign(station, {
    received,
    nextReceived(method: string, timeoutMs = 5000) {
      const index = unread.findIndex((c) => c.method === method);
      if (index >= 0) return Promise.resolve(unread.splice(index, 1)[0] as ReceivedCall);
      return new Promise<ReceivedCall>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${method} received`)), timeoutMs);
        waiters.push({
          method,
          resolve: (call) => {
            clearTimeout(timer);
            resolve(call);
          },
        });
      });
    },
    answer(method: string, reply: (params: Record<string, unknown>) => Record<string, unknown>) {
      replies.set(method, reply);
    },
  });
}

type Sv = {
  value: number;
  measurand?: string;
  context?: string;
  unitOfMeasure?: { unit?: string; multiplier?: number };
};

/** A 2.0.1 MeterValue with the energy register (Wh) and optionally power (W). */
export function meterValue(timestamp: string, energyWh: number, powerW?: number, context?: string) {
  const sampledValue: Sv[] = [
    {
      value: energyWh,
      measurand: 'Energy.Active.Import.Register',
      unitOfMeasure: { unit: 'Wh' },
      ...(context && { context }),
    },
  ];
  if (powerW !== undefined) {
    sampledValue.push({
      value: powerW,
      measurand: 'Power.Active.Import',
      unitOfMeasure: { unit: 'W' },
      ...(context && { context }),
    });
  }
  return { timestamp, sampledValue };
}

export type TxEventInput = {
  eventType: 'Started' | 'Updated' | 'Ended';
  seqNo: number;
  transactionId: string;
  timestamp: string;
  triggerReason?: string;
  chargingState?: string;
  stoppedReason?: string;
  idToken?: { idToken: string; type: string };
  evseId?: number;
  offline?: boolean;
  meterValue?: ReturnType<typeof meterValue>[];
};

/** A TransactionEventRequest as a station sends it. */
export function transactionEvent(input: TxEventInput): Record<string, unknown> {
  return {
    eventType: input.eventType,
    timestamp: input.timestamp,
    triggerReason:
      input.triggerReason ??
      (input.eventType === 'Started'
        ? 'Authorized'
        : input.eventType === 'Ended'
          ? 'EVCommunicationLost'
          : 'MeterValuePeriodic'),
    seqNo: input.seqNo,
    ...(input.offline !== undefined && { offline: input.offline }),
    transactionInfo: {
      transactionId: input.transactionId,
      ...(input.chargingState && { chargingState: input.chargingState }),
      ...(input.stoppedReason && { stoppedReason: input.stoppedReason }),
    },
    ...(input.idToken && { idToken: input.idToken }),
    ...(input.evseId !== undefined && { evse: { id: input.evseId, connectorId: 1 } }),
    ...(input.meterValue && { meterValue: input.meterValue }),
  };
}
