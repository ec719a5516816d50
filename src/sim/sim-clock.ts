/**
 * Time compression: one simulated clock for the whole run. It runs `speedFactor` times faster than real time and
 * starts in the past, far enough that the planned run ends at about the real time it really ends; and it never
 * passes the real wall clock, so no message ever carries a timestamp later than the moment it is sent. (Past the
 * planned span, for example in a session the CSMS started remotely after the plan, it runs at real speed.)
 */
export interface SimClock {
  readonly simStartMs: number;
  readonly speedFactor: number;
  /** The simulated time now, in epoch milliseconds. */
  nowMs(): number;
  /** Real milliseconds to wait until the simulated clock reads at least `simMs` (0 when it already does). */
  realDelayUntilMs(simMs: number): number;
  /** Simulated milliseconds that pass in `realMs` real milliseconds (while the clock runs compressed). */
  simMsForRealMs(realMs: number): number;
}

export interface SimClockInput {
  /** The real wall-clock time at the start of the run, epoch ms. */
  readonly wallStartMs: number;
  /** Simulated seconds per real second. */
  readonly speedFactor: number;
  /** Simulated seconds the plan needs from the start of the run to its last message. */
  readonly plannedSpanS: number;
  /** Real milliseconds elapsed since the run started: a monotonic source (performance.now() based). */
  readonly elapsedRealMs: () => number;
}

/**
 * Where the simulated clock starts: a message planned τ simulated ms after the start is sent at least τ / speed real
 * ms after the start, so its timestamp simStart + τ is not later than the wall clock then if simStart ≤ wallStart −
 * τ·(1 − 1/speed) for every τ up to the span. Rounded down to a whole second so that planned times stay whole.
 */
export function simulatedStartMs(wallStartMs: number, plannedSpanS: number, speedFactor: number): number {
  const leadMs = plannedSpanS * 1000 * (1 - 1 / speedFactor);
  return Math.floor((wallStartMs - Math.max(0, leadMs)) / 1000) * 1000;
}

export function createSimClock(input: SimClockInput): SimClock {
  const simStartMs = simulatedStartMs(input.wallStartMs, input.plannedSpanS, input.speedFactor);
  const { speedFactor, wallStartMs, elapsedRealMs } = input;
  return {
    simStartMs,
    speedFactor,
    nowMs() {
      const elapsedMs = elapsedRealMs();
      return Math.min(simStartMs + elapsedMs * speedFactor, wallStartMs + elapsedMs);
    },
    realDelayUntilMs(simMs) {
      const elapsedMs = elapsedRealMs();
      // The clock is the smaller of the compressed and the wall clock, so both must have reached simMs.
      const viaCompressedMs = (simMs - simStartMs) / speedFactor - elapsedMs;
      const viaWallMs = simMs - wallStartMs - elapsedMs;
      return Math.max(0, viaCompressedMs, viaWallMs);
    },
    simMsForRealMs(realMs) {
      return realMs * speedFactor;
    },
  };
}
