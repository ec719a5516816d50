/**
 * A station's view of the simulated clock: one interruptible sleep at a time (the next event, or the next heartbeat
 * when that comes first), and timestamps that strictly increase. Keeps one timer per station, so that one process
 * can run thousands.
 */
import type { SimClock } from './sim-clock.ts';

/** setTimeout cannot wait longer than this many ms. */
const MAX_TIMER_MS = 2_147_483_647;

export interface HeartbeatSchedule {
  /** Real ms until a heartbeat is due (Infinity when none is). */
  dueInMs(): number;
  send(): void;
}

export class StationClock {
  private lastStampMs = Number.NEGATIVE_INFINITY;
  private wakePending = false;
  private wakeSleeper: (() => void) | null = null;

  constructor(
    private readonly clock: SimClock,
    private readonly heartbeat: HeartbeatSchedule,
  ) {}

  /** The simulated time now, rounded down to a whole second: the timestamp of an unplanned event. */
  nowFloorMs(): number {
    return Math.floor(this.clock.nowMs() / 1000) * 1000;
  }

  /** The station's latest timestamp, in simulated epoch ms. */
  get latestStampMs(): number {
    return this.lastStampMs;
  }

  /**
   * Sleeps until the simulated clock reaches `simMs`, sending heartbeats on the way. Returns false when woken
   * early (the caller looks at what changed), true when the time has come.
   */
  async sleepUntil(simMs: number): Promise<boolean> {
    for (;;) {
      if (this.wakePending) {
        this.wakePending = false;
        return false;
      }
      const eventDelayMs = this.clock.realDelayUntilMs(simMs);
      if (eventDelayMs <= 0) return true;
      const heartbeatDelayMs = this.heartbeat.dueInMs();
      if (heartbeatDelayMs <= 0) {
        this.heartbeat.send();
        continue;
      }
      await this.pause(Math.min(eventDelayMs, heartbeatDelayMs));
    }
  }

  /**
   * The timestamp for an event wanted at `desiredMs`: at least a second after the station's previous one, so that
   * its timestamps strictly increase. Resolves once the simulated clock has reached it, so that no message carries
   * a time later than the moment it is sent. Not interruptible: the wait is a second of simulated time at most.
   */
  async reach(desiredMs: number): Promise<number> {
    const atMs = Math.max(desiredMs, this.lastStampMs + 1000);
    // Reserved before waiting, so that concurrent events (a triggered message during a charge) stay in order.
    this.lastStampMs = atMs;
    for (;;) {
      const delayMs = this.clock.realDelayUntilMs(atMs);
      if (delayMs <= 0) return atMs;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, MAX_TIMER_MS)));
    }
  }

  /** Ends the current sleep now, or the next one at once if none is running. */
  readonly wake = (): void => {
    this.wakePending = true;
    this.wakeSleeper?.();
  };

  /** Waits `ms` real milliseconds (until woken when not finite). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const done = (): void => {
        if (timer !== null) clearTimeout(timer);
        this.wakeSleeper = null;
        resolve();
      };
      if (Number.isFinite(ms)) timer = setTimeout(done, Math.min(Math.max(ms, 1), MAX_TIMER_MS));
      this.wakeSleeper = done;
    });
  }
}
