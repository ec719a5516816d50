import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimClock, simulatedStartMs } from './sim-clock.ts';

const wallStartMs = Date.UTC(2024, 4, 1, 12, 0, 0, 500);

function clockAt(speedFactor: number, plannedSpanS: number) {
  let elapsedMs = 0;
  const clock = createSimClock({ wallStartMs, speedFactor, plannedSpanS, elapsedRealMs: () => elapsedMs });
  return { clock, advance: (ms: number) => (elapsedMs += ms) };
}

describe('the simulated clock', () => {
  it('starts far enough in the past for the planned span to end at the real time', () => {
    // One simulated hour at 3600×: it lasts one real second, so the clock starts 3599 s before the wall clock.
    expect(simulatedStartMs(wallStartMs, 3600, 3600)).toBe(Date.UTC(2024, 4, 1, 11, 0, 1, 0));
    expect(simulatedStartMs(wallStartMs, 0, 3600)).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 0));
  });

  it('runs compressed, then no faster than the wall clock', () => {
    const { clock, advance } = clockAt(3600, 3600);
    expect(clock.nowMs()).toBe(Date.UTC(2024, 4, 1, 11, 0, 1));
    advance(500);
    expect(clock.nowMs()).toBe(Date.UTC(2024, 4, 1, 11, 30, 1));
    advance(500);
    // The plan's end: the compressed clock (12:00:01.000) is still behind the wall (12:00:01.500).
    expect(clock.nowMs()).toBe(Date.UTC(2024, 4, 1, 12, 0, 1));
    advance(1000);
    expect(clock.nowMs()).toBe(wallStartMs + 2000);
  });

  it('tells how long to wait for a simulated time, through the compressed and the wall clock', () => {
    const { clock, advance } = clockAt(3600, 3600);
    expect(clock.realDelayUntilMs(clock.simStartMs + 3_600_000)).toBe(1000);
    expect(clock.realDelayUntilMs(clock.simStartMs)).toBe(0);
    advance(2000);
    // Beyond the plan a simulated second takes a real second.
    expect(clock.realDelayUntilMs(wallStartMs + 5000)).toBe(3000);
  });

  it('never reads later than the wall clock, and a planned time is reached no later than planned', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (speedFactor, plannedSpanS, fraction) => {
          const { clock, advance } = clockAt(speedFactor, plannedSpanS);
          const eventMs = clock.simStartMs + Math.floor(plannedSpanS * fraction) * 1000;
          const waitMs = clock.realDelayUntilMs(eventMs);
          expect(waitMs).toBeLessThanOrEqual((eventMs - clock.simStartMs) / speedFactor + 1e-6);
          advance(waitMs);
          expect(clock.nowMs()).toBeGreaterThanOrEqual(eventMs - 1e-3);
          expect(clock.nowMs()).toBeLessThanOrEqual(wallStartMs + waitMs);
        },
      ),
    );
  });
});
