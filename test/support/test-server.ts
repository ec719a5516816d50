/**
 * Starts a real Voltbill server (gateway + API) on free loopback ports, on the test backend's database, with the
 * demo data seeded; and connects real OCPP 1.6J clients to it over real sockets.
 */
import { RPCClient } from 'ocpp-rpc';
import pino from 'pino';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import type { PaymentProvider } from '../../src/payments/provider.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { createTestDatabaseUrl } from './test-database.ts';

export async function startTestServer(
  env: Record<string, string> = {},
  options: {
    clock?: Clock;
    dataDir?: string;
    /** A provider built by the test (a SANDBOX with faults or a wrapper); the worker then runs only when told. */
    paymentProvider?: PaymentProvider;
  } = {},
): Promise<RunningServer> {
  const config = loadConfig({
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: '0',
    VOLTBILL_HTTP_PORT: '0',
    VOLTBILL_LOG_LEVEL: 'silent',
    ...env,
  });
  const url = options.dataDir ? options.dataDir : await createTestDatabaseUrl();
  return startServer({
    config,
    seed: true,
    logger: pino({ level: process.env.VOLTBILL_TEST_LOG ?? 'silent' }),
    ...(options.clock && { clock: options.clock }),
    ...(options.paymentProvider && { paymentProvider: options.paymentProvider, startPaymentWorker: false }),
    database: url === 'memory' || options.dataDir ? { kind: 'pglite', dataDir: url } : { kind: 'postgres', url },
    command: 'test',
  });
}

/** The part of an OCPP client the tests use; replies are loosely typed because tests assert them exactly. */
export type Station = {
  // biome-ignore lint/suspicious/noExplicitAny: replies are checked by the assertions, not by the compiler.
  call<T = Record<string, any>>(method: string, params?: unknown): Promise<T>;
  close(options?: { force?: boolean; code?: number; reason?: string }): Promise<unknown>;
};

/** A real OCPP 1.6J client. Strict mode off, so that tests can also send what a broken station would. */
export async function connectStation(server: RunningServer, stationId: string, options: { strict?: boolean } = {}) {
  const client = new RPCClient({
    endpoint: server.ocppUrl,
    identity: stationId,
    protocols: ['ocpp1.6'],
    strictMode: options.strict ?? false,
    reconnect: false,
    callTimeoutMs: 10_000,
  } as ConstructorParameters<typeof RPCClient>[0]);
  await client.connect();
  return client as unknown as Station;
}

/** A raw WebSocket speaking the ocpp1.6 subprotocol, for frames no OCPP library would send. */
export async function connectRaw(server: RunningServer, stationId: string): Promise<RawStation> {
  const socket = new WebSocket(`${server.ocppUrl}/${stationId}`, ['ocpp1.6']);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return new RawStation(socket);
}

export class RawStation {
  readonly #inbox: unknown[] = [];
  readonly #waiters: ((frame: unknown) => void)[] = [];
  closed: Promise<{ code: number }>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data));
      const waiter = this.#waiters.shift();
      if (waiter) waiter(frame);
      else this.#inbox.push(frame);
    });
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve({ code })));
  }

  send(text: string): void {
    this.socket.send(text);
  }

  next(timeoutMs = 5000): Promise<unknown> {
    const queued = this.#inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame received')), timeoutMs);
      this.#waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  async request(frameText: string): Promise<unknown> {
    this.send(frameText);
    return this.next();
  }

  close(): void {
    this.socket.close();
  }
}
