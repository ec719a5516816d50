/**
 * The station's outgoing calls, one at a time and in order (OCPP-J allows one call awaiting a reply per
 * connection). Transaction-related messages (StartTransaction, MeterValues, StopTransaction) are durable: OCPP 1.6
 * says a station keeps them while it is offline and delivers them in order after it reconnects, retrying after a
 * timeout or a lost connection, and a bounded number of times after a CALLERROR. Every other call is sent only while
 * the connection is open and given up on its first failure.
 */
import { err, ok, type Result } from '../shared/result.ts';
import type { OutgoingMethod } from './ocpp16-types.ts';
import { countCallError, type RunStats } from './run-stats.ts';

/** Messages one station holds at most; beyond it the oldest queued MeterValues are dropped, as meters do. */
export const MAX_OUTBOX_LENGTH = 1000;
/** Attempts of a transaction message answered by a CALLERROR before it is given up (OCPP's TransactionMessageAttempts). */
export const MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR = 3;
/** Timeouts of one transaction message on an open connection before it is given up. */
export const MAX_TRANSACTION_TIMEOUTS = 5;
/** Real milliseconds before retrying after a CALLERROR, times the attempt number (TransactionMessageRetryInterval). */
export const TRANSACTION_RETRY_INTERVAL_MS = 200;

export type SendFailure =
  /** The CSMS answered with a CALLERROR (or its answer failed schema validation). */
  | { readonly code: 'CallError'; readonly rpcErrorCode: string }
  | { readonly code: 'Timeout' }
  | { readonly code: 'ConnectionLost' }
  /** The outbox was full, the message became obsolete, or the station closed before it could be sent. */
  | { readonly code: 'Dropped'; readonly why: 'QueueFull' | 'Obsolete' | 'Closed' };

export interface OutboxTransport {
  isOpen(): boolean;
  call(method: string, params: unknown): Promise<unknown>;
}

export interface OutboxMessage {
  readonly method: OutgoingMethod;
  readonly durable: boolean;
  /**
   * Builds the params when the message is sent, not when it is queued: a MeterValues queued while StartTransaction
   * is still unanswered learns its transactionId this way. Returns null when the message is obsolete.
   */
  readonly build: () => unknown | null;
  /**
   * Called synchronously when the message is settled, before the next message is built: StartTransaction's answer
   * must be known before the MeterValues behind it are built.
   */
  readonly onSettled?: (result: Result<unknown, SendFailure>) => void;
}

export interface Outbox {
  send(message: OutboxMessage): Promise<Result<unknown, SendFailure>>;
  /** The transport (re)opened: resume sending. */
  notifyOpen(): void;
  /** Waits until every queued message is settled; false when `timeoutMs` passed first. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Gives up every queued message; later sends fail immediately. */
  close(): void;
  readonly length: number;
}

interface Entry {
  readonly message: OutboxMessage;
  readonly settle: (result: Result<unknown, SendFailure>) => void;
  attempts: number;
  callErrors: number;
  timeouts: number;
}

export function createOutbox(transport: OutboxTransport, stats: RunStats): Outbox {
  const queue: Entry[] = [];
  let pumping = false;
  let closed = false;
  let wakePump: (() => void) | null = null;
  let idleWaiters: (() => void)[] = [];

  const pause = (ms: number | null): Promise<void> =>
    new Promise((resolve) => {
      const timer = ms === null ? null : setTimeout(done, ms);
      function done(): void {
        if (timer !== null) clearTimeout(timer);
        wakePump = null;
        resolve();
      }
      wakePump = done;
    });

  const settleFirst = (result: Result<unknown, SendFailure>): void => {
    const entry = queue.shift();
    if (entry === undefined) return;
    const obsolete = !result.ok && result.error.code === 'Dropped' && result.error.why === 'Obsolete';
    if (!result.ok && !obsolete) stats.dropped += 1;
    entry.message.onSettled?.(result);
    entry.settle(result);
  };

  const dropOffline = (): void => {
    // Offline, a station has no use for a status or a heartbeat from before the outage: only transaction messages wait.
    for (let index = queue.length - 1; index >= 0; index -= 1) {
      const entry = queue[index]!;
      if (entry.message.durable) continue;
      queue.splice(index, 1);
      stats.dropped += 1;
      const failure = err({ code: 'ConnectionLost' } as const);
      entry.message.onSettled?.(failure);
      entry.settle(failure);
    }
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (!closed && queue.length > 0) {
        const entry = queue[0]!;
        if (!transport.isOpen()) {
          dropOffline();
          if (queue.length > 0) await pause(null);
          continue;
        }
        const params = entry.message.build();
        if (params === null) {
          settleFirst(err({ code: 'Dropped', why: 'Obsolete' }));
          continue;
        }
        if (entry.attempts > 0) stats.retries += 1;
        entry.attempts += 1;
        stats.messagesSent += 1;
        const sentAtMs = performance.now();
        try {
          const response = await transport.call(entry.message.method, params);
          stats.ackLatency.record(performance.now() - sentAtMs);
          if (queue[0] === entry) settleFirst(ok(response));
        } catch (error) {
          if (queue[0] !== entry) continue;
          const failure = classifyCallFailure(error);
          const retryDelayMs = countAndDecide(entry, failure, stats);
          if (retryDelayMs === null) settleFirst(err(failure));
          else if (retryDelayMs > 0) await pause(retryDelayMs);
        }
      }
    } finally {
      pumping = false;
      if (queue.length === 0 || closed) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  };

  return {
    get length() {
      return queue.length;
    },
    send(message) {
      if (closed) return Promise.resolve(refuse(message, { code: 'Dropped', why: 'Closed' }, stats));
      if (!message.durable && !transport.isOpen()) {
        return Promise.resolve(refuse(message, { code: 'ConnectionLost' }, stats));
      }
      if (queue.length >= MAX_OUTBOX_LENGTH && !makeRoom(queue, stats)) {
        return Promise.resolve(refuse(message, { code: 'Dropped', why: 'QueueFull' }, stats));
      }
      return new Promise((settle) => {
        queue.push({ message, settle, attempts: 0, callErrors: 0, timeouts: 0 });
        // Starting the pump synchronously hands the call to the socket in the same tick when the queue was idle.
        void pump();
      });
    },
    notifyOpen() {
      wakePump?.();
    },
    drain(timeoutMs) {
      if (queue.length === 0 && !pumping) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          idleWaiters = idleWaiters.filter((waiter) => waiter !== onIdle);
          resolve(false);
        }, timeoutMs);
        const onIdle = (): void => {
          clearTimeout(timer);
          resolve(queue.length === 0);
        };
        idleWaiters.push(onIdle);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      while (queue.length > 0) settleFirst(err({ code: 'Dropped', why: 'Closed' }));
      wakePump?.();
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    },
  };
}

/** Counts the failure and returns the real delay before the next attempt, or null to give the message up. */
function countAndDecide(entry: Entry, failure: SendFailure, stats: RunStats): number | null {
  switch (failure.code) {
    case 'CallError':
      countCallError(stats, failure.rpcErrorCode);
      if (!entry.message.durable) return null;
      entry.callErrors += 1;
      return entry.callErrors >= MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR
        ? null
        : TRANSACTION_RETRY_INTERVAL_MS * entry.callErrors;
    case 'Timeout':
      stats.timeouts += 1;
      if (!entry.message.durable) return null;
      entry.timeouts += 1;
      return entry.timeouts >= MAX_TRANSACTION_TIMEOUTS ? null : 0;
    case 'ConnectionLost':
      stats.connectionFailures += 1;
      // A durable message waits for the reconnect (the pump sees the transport closed); the short pause only
      // guards against spinning if the socket still reads as open for a moment after the failure.
      return entry.message.durable ? TRANSACTION_RETRY_INTERVAL_MS / 4 : null;
    case 'Dropped':
      return null;
  }
}

/** Drops the oldest queued MeterValues behind the head (which may be in flight); false when there is none. */
function makeRoom(queue: Entry[], stats: RunStats): boolean {
  const index = queue.findIndex((entry, position) => position > 0 && entry.message.method === 'MeterValues');
  if (index < 0) return false;
  const [entry] = queue.splice(index, 1);
  stats.dropped += 1;
  const failure = err({ code: 'Dropped', why: 'QueueFull' } as const);
  entry?.message.onSettled?.(failure);
  entry?.settle(failure);
  return true;
}

/** A message that never entered the queue: counted as dropped and settled at once. */
function refuse(message: OutboxMessage, failure: SendFailure, stats: RunStats): Result<unknown, SendFailure> {
  stats.dropped += 1;
  const result = err(failure);
  message.onSettled?.(result);
  return result;
}

/** Tells a CALLERROR from a timeout from a lost connection, by the shape of what ocpp-rpc throws. */
export function classifyCallFailure(error: unknown): SendFailure {
  if (typeof error === 'object' && error !== null) {
    const rpcErrorCode = (error as { rpcErrorCode?: unknown }).rpcErrorCode;
    if (typeof rpcErrorCode === 'string') return { code: 'CallError', rpcErrorCode };
    if (error.constructor?.name === 'TimeoutError') return { code: 'Timeout' };
  }
  return { code: 'ConnectionLost' };
}
