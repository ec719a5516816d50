import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingMethod } from './ocpp16-types.ts';
import {
  classifyCallFailure,
  createOutbox,
  MAX_OUTBOX_LENGTH,
  MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR,
  MAX_TRANSACTION_TIMEOUTS,
  type OutboxMessage,
  TRANSACTION_RETRY_INTERVAL_MS,
} from './outbox.ts';
import { createRunStats } from './run-stats.ts';

class TimeoutError extends Error {}
const rpcError = (rpcErrorCode: string) => Object.assign(new Error(rpcErrorCode), { rpcErrorCode });

/** A socket stand-in: records every call and lets the test answer or fail the one in flight. */
function fakeTransport() {
  let open = true;
  const sent: string[] = [];
  let inFlight: { resolve: (value: unknown) => void; reject: (error: unknown) => void } | null = null;
  return {
    sent,
    transport: {
      isOpen: () => open,
      call: (method: string, params: unknown) => {
        if (inFlight !== null) throw new Error('two calls in flight');
        sent.push(`${method}:${JSON.stringify(params)}`);
        return new Promise((resolve, reject) => {
          inFlight = {
            resolve: (value) => {
              inFlight = null;
              resolve(value);
            },
            reject: (error) => {
              inFlight = null;
              reject(error);
            },
          };
        });
      },
    },
    setOpen: (value: boolean) => {
      open = value;
    },
    answer: async (value: unknown = {}) => {
      inFlight!.resolve(value);
      await flush();
    },
    fail: async (error: unknown) => {
      inFlight!.reject(error);
      await flush();
    },
    get busy() {
      return inFlight !== null;
    },
  };
}

async function flush(): Promise<void> {
  for (let round = 0; round < 10; round += 1) await Promise.resolve();
}

function message(method: OutgoingMethod, label: string, durable = method !== 'StatusNotification'): OutboxMessage {
  return { method, durable, build: () => ({ label }) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the outbox', () => {
  it('sends one call at a time, in order', async () => {
    const fake = fakeTransport();
    const outbox = createOutbox(fake.transport, createRunStats());
    const first = outbox.send(message('StartTransaction', 'a'));
    void outbox.send(message('MeterValues', 'b'));
    expect(fake.sent).toEqual(['StartTransaction:{"label":"a"}']);
    await fake.answer({ transactionId: 1 });
    expect(await first).toEqual({ ok: true, value: { transactionId: 1 } });
    expect(fake.sent).toEqual(['StartTransaction:{"label":"a"}', 'MeterValues:{"label":"b"}']);
    await fake.answer();
    expect(await outbox.drain(100)).toBe(true);
  });

  it('keeps transaction messages through an outage and delivers each once, in order, after the reconnect', async () => {
    const fake = fakeTransport();
    const stats = createRunStats();
    const outbox = createOutbox(fake.transport, stats);
    void outbox.send(message('MeterValues', 'm1'));
    void outbox.send(message('MeterValues', 'm2'));
    // The connection drops while m1 is in flight.
    fake.setOpen(false);
    await fake.fail(new Error('Client disconnected'));
    void outbox.send(message('MeterValues', 'm3'));
    const status = await outbox.send(message('StatusNotification', 's'));
    expect(status).toEqual({ ok: false, error: { code: 'ConnectionLost' } });
    await new Promise((resolve) => setTimeout(resolve, TRANSACTION_RETRY_INTERVAL_MS));
    expect(fake.busy).toBe(false);
    fake.setOpen(true);
    outbox.notifyOpen();
    await flush();
    for (let answered = 0; answered < 3; answered += 1) await fake.answer();
    expect(fake.sent).toEqual([
      'MeterValues:{"label":"m1"}',
      'MeterValues:{"label":"m1"}',
      'MeterValues:{"label":"m2"}',
      'MeterValues:{"label":"m3"}',
    ]);
    expect(stats).toMatchObject({ messagesSent: 4, retries: 1, connectionFailures: 1, dropped: 1 });
    expect(await outbox.drain(100)).toBe(true);
  });

  it('drops queued non-transaction messages when the connection is lost', async () => {
    const fake = fakeTransport();
    const outbox = createOutbox(fake.transport, createRunStats());
    void outbox.send(message('StartTransaction', 'start'));
    const status = outbox.send(message('StatusNotification', 'charging'));
    fake.setOpen(false);
    await fake.fail(new Error('Client disconnected'));
    await new Promise((resolve) => setTimeout(resolve, TRANSACTION_RETRY_INTERVAL_MS));
    expect(await status).toEqual({ ok: false, error: { code: 'ConnectionLost' } });
    fake.setOpen(true);
    outbox.notifyOpen();
    await flush();
    await fake.answer();
    expect(fake.sent).toEqual(['StartTransaction:{"label":"start"}', 'StartTransaction:{"label":"start"}']);
  });

  it('retries a transaction message answered by CALLERROR a bounded number of times', async () => {
    vi.useFakeTimers();
    const fake = fakeTransport();
    const stats = createRunStats();
    const outbox = createOutbox(fake.transport, stats);
    const stop = outbox.send(message('StopTransaction', 'stop'));
    for (let attempt = 1; attempt <= MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR; attempt += 1) {
      await fake.fail(rpcError('InternalError'));
      await vi.advanceTimersByTimeAsync(TRANSACTION_RETRY_INTERVAL_MS * attempt);
    }
    expect(await stop).toEqual({ ok: false, error: { code: 'CallError', rpcErrorCode: 'InternalError' } });
    expect(fake.sent).toHaveLength(MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR);
    expect(stats.callErrors.get('InternalError')).toBe(MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR);
    expect(stats).toMatchObject({ retries: MAX_TRANSACTION_ATTEMPTS_ON_CALL_ERROR - 1, dropped: 1 });
  });

  it('retries a timed-out transaction message at once, a bounded number of times', async () => {
    const fake = fakeTransport();
    const stats = createRunStats();
    const outbox = createOutbox(fake.transport, stats);
    const meter = outbox.send(message('MeterValues', 'm'));
    for (let attempt = 1; attempt <= MAX_TRANSACTION_TIMEOUTS; attempt += 1)
      await fake.fail(new TimeoutError('Call timeout'));
    expect(await meter).toEqual({ ok: false, error: { code: 'Timeout' } });
    expect(stats).toMatchObject({ timeouts: MAX_TRANSACTION_TIMEOUTS, retries: MAX_TRANSACTION_TIMEOUTS - 1 });
  });

  it('gives up a non-transaction message on its first failure and goes on', async () => {
    const fake = fakeTransport();
    const stats = createRunStats();
    const outbox = createOutbox(fake.transport, stats);
    const authorize = outbox.send(message('Authorize', 'a', false));
    void outbox.send(message('Heartbeat', 'h', false));
    await fake.fail(rpcError('NotImplemented'));
    expect(await authorize).toEqual({ ok: false, error: { code: 'CallError', rpcErrorCode: 'NotImplemented' } });
    expect(fake.sent).toEqual(['Authorize:{"label":"a"}', 'Heartbeat:{"label":"h"}']);
    expect(stats.retries).toBe(0);
  });

  it("settles a message before building the next, so StartTransaction's id reaches the MeterValues behind it", async () => {
    const fake = fakeTransport();
    const outbox = createOutbox(fake.transport, createRunStats());
    let transactionId: number | null = null;
    void outbox.send({
      method: 'StartTransaction',
      durable: true,
      build: () => ({}),
      onSettled: (result) => {
        if (result.ok) transactionId = (result.value as { transactionId: number }).transactionId;
      },
    });
    void outbox.send({ method: 'MeterValues', durable: true, build: () => ({ transactionId }) });
    void outbox.send({ method: 'StopTransaction', durable: true, build: () => null });
    void outbox.send(message('Heartbeat', 'after', false));
    await fake.answer({ transactionId: 99 });
    await fake.answer();
    expect(fake.sent).toEqual([
      'StartTransaction:{}',
      'MeterValues:{"transactionId":99}',
      'Heartbeat:{"label":"after"}',
    ]);
  });

  it('makes room by dropping the oldest queued MeterValues when full', async () => {
    const fake = fakeTransport();
    const stats = createRunStats();
    const outbox = createOutbox(fake.transport, stats);
    const results = [];
    for (let index = 0; index < MAX_OUTBOX_LENGTH; index += 1)
      results.push(outbox.send(message('MeterValues', `m${index}`)));
    const overflow = outbox.send(message('StopTransaction', 'stop'));
    expect(outbox.length).toBe(MAX_OUTBOX_LENGTH);
    // m0 is in flight and stays; m1 makes room.
    expect(await results[1]).toEqual({ ok: false, error: { code: 'Dropped', why: 'QueueFull' } });
    expect(stats.dropped).toBe(1);
    outbox.close();
    expect(await overflow).toEqual({ ok: false, error: { code: 'Dropped', why: 'Closed' } });
    expect(await outbox.send(message('MeterValues', 'late'))).toEqual({
      ok: false,
      error: { code: 'Dropped', why: 'Closed' },
    });
  });

  it('tells CALLERRORs, timeouts and lost connections apart', () => {
    expect(classifyCallFailure(rpcError('FormationViolation'))).toEqual({
      code: 'CallError',
      rpcErrorCode: 'FormationViolation',
    });
    expect(classifyCallFailure(new TimeoutError('Call timeout'))).toEqual({ code: 'Timeout' });
    expect(classifyCallFailure(new Error('Client disconnected'))).toEqual({ code: 'ConnectionLost' });
    expect(classifyCallFailure(undefined)).toEqual({ code: 'ConnectionLost' });
  });
});
