import { describe, expect, it } from 'vitest';
import { createRequestPacer, defaultStripeRequestsPerSecond, type PacerTime } from './request-pacer.ts';

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

describe('Stripe request pacer', () => {
  it('lets a second’s worth through at once, then one call every 1/rate s', async () => {
    const time = virtualTime();
    const pace = createRequestPacer(10, time);
    const startsMs: number[] = [];
    const one = async () => {
      for (let i = 0; i < 25; i++) {
        await pace();
        startsMs.push(time.nowMs() - 1_000);
      }
    };
    await time.runUntil(one());
    // 10 in the first burst at 0 ms, then 100 ms apart: the 25th at 1.5 s.
    expect(startsMs).toEqual([...Array(10).fill(0), ...Array.from({ length: 15 }, (_, i) => (i + 1) * 100)]);
  });

  it('never lets more than rate + burst through in any second, with many callers at once', async () => {
    const time = virtualTime();
    const pace = createRequestPacer(4, time);
    const startsMs: number[] = [];
    // 20 callers waiting together, as 20 busy worker slots would.
    await time.runUntil(
      Promise.all(
        Array.from({ length: 20 }, async () => {
          await pace();
          startsMs.push(time.nowMs());
        }),
      ),
    );
    expect(startsMs).toHaveLength(20);
    // 4 at once, then one every 250 ms: the last of 20 at 4 s.
    expect(Math.max(...startsMs) - 1_000).toBe(4_000);
    for (const start of startsMs) {
      const inWindow = startsMs.filter((t) => t >= start && t < start + 1_000).length;
      expect(inWindow).toBeLessThanOrEqual(8);
      if (start >= 2_000) expect(inWindow).toBeLessThanOrEqual(4);
    }
  });

  it('refuses a rate outside 1 to 10,000 a second', () => {
    for (const bad of [0, 0.5, 10_001, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createRequestPacer(bad)).toThrow(RangeError);
    }
  });

  it('defaults to 80 % of the account limit of the key’s mode', () => {
    expect(defaultStripeRequestsPerSecond('sk_live_abc')).toBe(80);
    expect(defaultStripeRequestsPerSecond('rk_live_abc')).toBe(80);
    expect(defaultStripeRequestsPerSecond('sk_test_abc')).toBe(20);
  });
});
