/** The only way code asks for the current time, so that tests and simulations can pass their own clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: for tests. */
export function fixedClock(start: Date): Clock & { advanceMs(ms: number): void; set(at: Date): void } {
  let nowMs = start.getTime();
  return {
    now: () => new Date(nowMs),
    advanceMs: (ms) => {
      nowMs += ms;
    },
    set: (at) => {
      nowMs = at.getTime();
    },
  };
}
