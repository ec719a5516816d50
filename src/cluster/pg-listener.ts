/**
 * A dedicated PostgreSQL connection for LISTEN. A pooled connection cannot listen (the pool hands it to other
 * queries and may close it), and a connection through pgbouncer in transaction mode never receives notifications,
 * so the listener opens its own direct connection and keeps it: on an error or a lost connection it reconnects
 * with backoff, listens again and tells its owner (notifications sent while it was away are lost; callers that
 * wait for a reply time out, and presence is re-read on the next heartbeat).
 */
import pg from 'pg';
import type { Logger } from 'pino';

export type Notification = { readonly channel: string; readonly payload: string };

export type PgListener = {
  /** Resolves once the first connection listens on every channel. */
  readonly ready: Promise<void>;
  isListening(): boolean;
  /** A round trip on the listening connection; a dead one is replaced (heartbeats call this). */
  ping(): Promise<void>;
  close(): Promise<void>;
};

export type PgListenerOptions = {
  readonly url: string;
  readonly channels: readonly string[];
  readonly logger: Logger;
  readonly onNotification: (notification: Notification) => void;
  /** Called after a reconnect (not after the first connect): state that relied on notifications is stale. */
  readonly onReconnect?: () => void;
};

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;

export function startPgListener(options: PgListenerOptions): PgListener {
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  let connectedOnce = false;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  const drop = (current: pg.Client, reason: unknown) => {
    if (client !== current) return;
    client = undefined;
    listening = false;
    current.removeAllListeners('notification');
    current.end().catch(() => undefined);
    if (closed) return;
    options.logger.warn({ err: reason, retryMs }, 'cluster listener lost its PostgreSQL connection; reconnecting');
    schedule();
  };

  const schedule = () => {
    retryTimer = setTimeout(() => void connect(), retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    const current = new pg.Client({ connectionString: options.url, keepAlive: true });
    client = current;
    current.on('error', (error) => drop(current, error));
    current.on('end', () => drop(current, new Error('connection ended')));
    current.on('notification', (message) => {
      if (message.payload !== undefined) options.onNotification({ channel: message.channel, payload: message.payload });
    });
    try {
      await current.connect();
      for (const channel of options.channels) await current.query(`LISTEN ${current.escapeIdentifier(channel)}`);
    } catch (error) {
      drop(current, error);
      return;
    }
    if (client !== current || closed) return;
    listening = true;
    retryMs = FIRST_RETRY_MS;
    if (connectedOnce) options.onReconnect?.();
    connectedOnce = true;
    resolveReady();
  }

  void connect();
  return {
    ready,
    isListening: () => listening,
    async ping() {
      const current = client;
      if (!current || !listening) return;
      try {
        await current.query('select 1');
      } catch (error) {
        drop(current, error);
      }
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      listening = false;
      resolveReady();
      await current?.end().catch(() => undefined);
    },
  };
}
