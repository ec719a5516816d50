/**
 * One simulated station's WebSocket: an ocpp-rpc RPCClient speaking OCPP 1.6J in strict mode (every message checked
 * against the official JSON schemas in both directions), with HTTP Basic auth when a password is given (security
 * profile 1, or 2 over wss). ocpp-rpc reconnects with exponential backoff once a first connection succeeded; the
 * first connection is retried here.
 */
import { RPCClient } from 'ocpp-rpc';

/** Attempts of the first connection before the station gives up. */
export const MAX_CONNECT_ATTEMPTS = 5;
/** Real milliseconds before the second connection attempt; doubled for each one after. */
export const CONNECT_RETRY_BASE_MS = 500;
/** Reconnects ocpp-rpc tries after a lost connection before the station gives up. */
export const MAX_RECONNECTS = 30;
/** The longest pause between reconnects, in real ms. */
export const MAX_RECONNECT_DELAY_MS = 10_000;
/** Malformed messages from the CSMS tolerated in a row before the connection is closed. */
export const MAX_BAD_MESSAGES = 10;
/** HTTP answers to the upgrade that no retry will change. */
const FATAL_UPGRADE_STATUSES = new Set([401, 403, 404]);

/** TLS material for wss:// (PEM): the CA of the server's certificate, and a client certificate for profile 3. */
export interface SimTlsOptions {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface ConnectionOptions {
  readonly url: string;
  readonly stationId: string;
  /** The OCPP subprotocol offered; 'ocpp1.6' when absent. */
  readonly protocol?: 'ocpp1.6' | 'ocpp2.0.1';
  readonly tls?: SimTlsOptions | undefined;
  readonly password: string | undefined;
  readonly callTimeoutMs: number;
  readonly reconnectDelayMs: number;
}

export function createStationClient(options: ConnectionOptions): RPCClient {
  const clientOptions = {
    endpoint: options.url,
    identity: options.stationId,
    protocols: [options.protocol ?? 'ocpp1.6'],
    strictMode: true,
    ...(options.tls && {
      wsOpts: {
        ...(options.tls.ca && { ca: options.tls.ca }),
        ...(options.tls.cert && { cert: options.tls.cert }),
        ...(options.tls.key && { key: options.tls.key }),
      },
    }),
    ...(options.password !== undefined && { password: options.password }),
    callTimeoutMs: options.callTimeoutMs,
    // Exactly one call awaiting its answer per connection, as OCPP-J requires.
    callConcurrency: 1,
    reconnect: true,
    maxReconnects: MAX_RECONNECTS,
    maxBadMessages: MAX_BAD_MESSAGES,
    backoff: {
      initialDelay: options.reconnectDelayMs,
      maxDelay: Math.max(options.reconnectDelayMs, MAX_RECONNECT_DELAY_MS),
      factor: 2,
      randomisationFactor: 0.25,
    },
  };
  // ocpp-rpc's typings mark every option as required although the library fills in defaults for the rest.
  return new RPCClient(clientOptions as unknown as ConstructorParameters<typeof RPCClient>[0]);
}

export type ConnectOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Connects, retrying with a doubling pause; gives up at once when the server refuses the station outright. */
export async function connectWithRetry(client: RPCClient, signal: AbortSignal): Promise<ConnectOutcome> {
  let reason = 'not attempted';
  for (let attempt = 1; attempt <= MAX_CONNECT_ATTEMPTS; attempt += 1) {
    if (signal.aborted) return { ok: false, reason: 'run stopped' };
    try {
      await client.connect();
      return { ok: true };
    } catch (error) {
      const status = (error as { code?: unknown }).code;
      reason = error instanceof Error ? error.message || String(status) : String(error);
      if (typeof status === 'number' && FATAL_UPGRADE_STATUSES.has(status)) {
        return { ok: false, reason: `the server answered HTTP ${status} ${reason}`.trim() };
      }
      if (attempt < MAX_CONNECT_ATTEMPTS) await abortableDelay(CONNECT_RETRY_BASE_MS * 2 ** (attempt - 1), signal);
    }
  }
  return { ok: false, reason: `${MAX_CONNECT_ATTEMPTS} connection attempts failed, the last with: ${reason}` };
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
