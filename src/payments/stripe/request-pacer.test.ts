import { describe, expect, it } from 'vitest';
import {
  createRequestPacer,
  defaultStripeRequestsPerSecond,
  PACER_MAX_WAIT_MS,
  type PacerTime,
  pacerMaxWaitMs,
  SEARCH_ENDPOINT,
  stripeCallBudgetMs,
  stripePacerRates,
} from './request-pacer.ts';

/**
 * Virtual time: sleeps wait on timers that `runUntil` fires in time order (the clock jumping to each), so the test
 * runs at once, concurrent sleeps overlap as real ones do, and every start time is exact.
 */
function virtualTime(): PacerTime & { runUntil(done: Promise<unknown>): Promise<void> } {
  let now = 1_000;
  const timers: { at: number; fire: () => void }[] = [];
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    nowMs: () => now,
    sleep: (ms) => new Promise<void>((fire) => timers.push({ at: now + ms, fire })),
    async runUntil(done) {
      let finished = false;
      void done.then(() => (finished = true));
      for (;;) {
        await settle();
        if (finished) return;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift();
        if (!next) throw new Error('nothing left to wake, and the callers are not done');
        now = next.at;
        next.fire();
      }
    },
  };
}

const CAPTURE = 'POST /v1/payment_intents/:id/capture';
const CANCEL = 'POST /v1/payment_intents/:id/cancel';
const flat = (perSecond: number) => ({ perSecond, endpointPerSecond: perSecond, searchPerSecond: perSecond });

/** Calls started in any window of `windowMs` from one of them, at most. */
function mostInWindow(startsMs: readonly number[], windowMs = 1_000): number {
  return Math.max(...startsMs.map((start) => startsMs.filter((t) => t >= start && t < start + windowMs).length));
}

describe('Stripe request pacer', () => {
  it('lets a fifth of a second’s worth through at once, then one call every 1/rate s', async () => {
    const time = virtualTime();
    const pace = createRequestPacer(flat(10), time);
    const startsMs: number[] = [];
    const one = async () => {
      for (let i = 0; i < 25; i++) {
        expect(await pace(CAPTURE)).toBe(true);
        startsMs.push(time.nowMs() - 1_000);
      }
    };
    await time.runUntil(one());
    // 2 at 0 ms, then 100 ms apart: the 25th at 2.3 s.
    expect(startsMs).toEqual([0, ...Array.from({ length: 24 }, (_, i) => i * 100)]);
  });

  it('many callers at once go in the order they came, never more than 1.2 × the rate in any second', async () => {
    const time = virtualTime();
    const pace = createRequestPacer(flat(10), time);
    const started: { caller: number; atMs: number }[] = [];
    // 60 callers waiting together, as 60 busy worker lanes would, on two endpoints.
    await time.runUntil(
      Promise.all(
        Array.from({ length: 60 }, async (_, caller) => {
          expect(await pace(caller % 2 === 0 ? CAPTURE : CANCEL)).toBe(true);
          started.push({ caller, atMs: time.nowMs() });
        }),
      ),
    );
    expect(started).toHaveLength(60);
    expect(mostInWindow(started.map((s) => s.atMs))).toBeLessThanOrEqual(12);
    // First come, first served: the callers start in the order they asked (on a shared bucket, no one jumps ahead).
    const order = started.map((s) => s.caller);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('holds a backlog on one endpoint to its own limit without holding back the other endpoints', async () => {
    const time = virtualTime();
    // Stripe live at 80 % of its limits: 80 a second to the account, 20 to one endpoint.
    const pace = createRequestPacer({ perSecond: 80, endpointPerSecond: 20, searchPerSecond: 16 }, time);
    const captures: number[] = [];
    const cancels: number[] = [];
    const searches: number[] = [];
    const calls = [
      ...Array.from({ length: 100 }, async () => (await pace(CAPTURE)) && captures.push(time.nowMs() - 1_000)),
      ...Array.from({ length: 20 }, async () => (await pace(CANCEL)) && cancels.push(time.nowMs() - 1_000)),
      ...Array.from({ length: 32 }, async () => (await pace(SEARCH_ENDPOINT)) && searches.push(time.nowMs() - 1_000)),
    ];
    await time.runUntil(Promise.all(calls));
    expect([captures.length, cancels.length, searches.length]).toEqual([100, 20, 32]);
    // Stripe's 25 per endpoint and 20 searches a second, with 1.2 × 20 and 1.2 × 16 at most.
    expect(mostInWindow(captures)).toBeLessThanOrEqual(24);
    expect(mostInWindow(cancels)).toBeLessThanOrEqual(24);
    expect(mostInWindow(searches)).toBeLessThanOrEqual(19);
    expect(mostInWindow([...captures, ...cancels, ...searches])).toBeLessThanOrEqual(96);
    // The 100 captures take about 5 s at 20 a second; the 20 cancels are all out within the first second.
    expect(Math.max(...captures)).toBe(4_800);
    expect(Math.max(...cancels)).toBe(800);
    expect(Math.max(...searches)).toBe(1_812.5);
  });

  it('holds an endpoint to its rate on the times its calls are sent, also after the account was saturated', async () => {
    const time = virtualTime();
    const pace = createRequestPacer({ perSecond: 80, endpointPerSecond: 20, searchPerSecond: 16 }, time);
    const sends = new Map<string, number[]>();
    const send = async (endpoint: string) => {
      if (!(await pace(endpoint))) return;
      const list = sends.get(endpoint) ?? [];
      list.push(time.nowMs() - 1_000);
      sends.set(endpoint, list);
    };
    // 32 lanes, as the worker's: for 4 s, five endpoints busy (100 calls a second asked of an 80 a second account),
    // then only the first. A lane's call takes 1 ms.
    const lane = async (n: number) => {
      while (time.nowMs() - 1_000 < 8_000) {
        const busy = time.nowMs() - 1_000 < 4_000;
        await send(busy ? `POST /v1/endpoint-${n % 5}` : 'POST /v1/endpoint-0');
        await time.sleep(1);
      }
    };
    await time.runUntil(Promise.all(Array.from({ length: 32 }, (_, n) => lane(n))));
    const first = sends.get('POST /v1/endpoint-0') ?? [];
    expect(first.length).toBeGreaterThan(100);
    // Stripe's 25 a second per endpoint; the pacer's 20 with its burst of 4.
    for (const [, times] of sends) expect(mostInWindow(times)).toBeLessThanOrEqual(24);
    expect(mostInWindow([...sends.values()].flat())).toBeLessThanOrEqual(96);
  });

  it(`refuses, unsent, a call that would wait more than ${PACER_MAX_WAIT_MS / 1000} s; the refused take no slot`, async () => {
    const time = virtualTime();
    const pace = createRequestPacer(flat(1), time);
    const answers = await (async () => {
      const all = Promise.all(Array.from({ length: 15 }, () => pace(CAPTURE)));
      await time.runUntil(all);
      return all;
    })();
    // One a second: the 11th waits exactly 10 s and goes; the 12th to 15th would wait longer.
    expect(answers).toEqual([...Array(11).fill(true), ...Array(4).fill(false)]);
    expect(time.nowMs() - 1_000).toBe(10_000);
    // The next slot is the 12th's, at 11 s: a caller now waits one second, not five.
    const next = pace(CAPTURE);
    await time.runUntil(next);
    expect(await next).toBe(true);
    expect(time.nowMs() - 1_000).toBe(11_000);
  });

  it('lets a call wait half its timeout for its slot, at most 10 s', () => {
    expect([2_000, 12_000, 20_000, 120_000].map(pacerMaxWaitMs)).toEqual([1_000, 6_000, 10_000, 10_000]);
    expect([2_000, 20_000].map(stripeCallBudgetMs)).toEqual([3_000, 30_000]);
    expect(() => createRequestPacer({ ...flat(10), maxWaitMs: 10_001 })).toThrow(RangeError);
    expect(() => createRequestPacer({ ...flat(10), maxWaitMs: -1 })).toThrow(RangeError);
  });

  it('refuses a rate outside 1 to 10,000 a second', () => {
    for (const bad of [0, 0.5, 10_001, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createRequestPacer(flat(bad))).toThrow(RangeError);
      expect(() => createRequestPacer({ ...flat(10), endpointPerSecond: bad })).toThrow(RangeError);
      expect(() => createRequestPacer({ ...flat(10), searchPerSecond: bad })).toThrow(RangeError);
    }
  });

  it('scales the endpoint and Search limits by the node’s share of the account’s limit', () => {
    expect(stripePacerRates(80, 'sk_live_abc')).toEqual({ perSecond: 80, endpointPerSecond: 20, searchPerSecond: 16 });
    // Two nodes on one live account, 40 each.
    expect(stripePacerRates(40, 'rk_live_abc')).toEqual({ perSecond: 40, endpointPerSecond: 10, searchPerSecond: 8 });
    // Test mode: the account's 25 is also an endpoint's, so the node's 20 binds first.
    expect(stripePacerRates(20, 'sk_test_abc')).toEqual({ perSecond: 20, endpointPerSecond: 20, searchPerSecond: 16 });
    expect(stripePacerRates(1, 'sk_live_abc')).toEqual({ perSecond: 1, endpointPerSecond: 1, searchPerSecond: 1 });
    // The benchmarks' "no limit a node reaches": 400 × the test account's limits, capped at the pacer's most.
    expect(stripePacerRates(10_000, 'sk_test_abc')).toEqual({
      perSecond: 10_000,
      endpointPerSecond: 10_000,
      searchPerSecond: 8_000,
    });
  });

  it('defaults to 80 % of the account limit of the key’s mode', () => {
    expect(defaultStripeRequestsPerSecond('sk_live_abc')).toBe(80);
    expect(defaultStripeRequestsPerSecond('rk_live_abc')).toBe(80);
    expect(defaultStripeRequestsPerSecond('sk_test_abc')).toBe(20);
  });
});
