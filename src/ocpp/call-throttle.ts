/**
 * A station's requests at its message rate: a request over the rate waits its turn instead of being refused.
 *
 * Why: a station that was offline for hours empties its queue as fast as it is answered (OCPP-J: one CALL at a
 * time, the next as soon as the previous one's answer arrives), far above a rate meant to stop floods. Refusing
 * those requests made it retry them, and counted each refusal as a bad message, so after a few it was disconnected
 * with transactions still queued. Delaying the answer slows such a station to the rate without an error: it simply
 * waits longer for each answer. Only a station with more than `maxWaiting` requests waiting at once (it does not
 * wait for answers, which OCPP-J forbids) is refused, as before, and that counts as a bad message.
 *
 * Requests are dispatched in the order they arrived, waiting or not.
 */
import { RateLimiter } from '../shared/rate-limiter.ts';

export type ThrottleOutcome = 'dispatched' | 'waiting' | 'refused';

export class CallThrottle {
  readonly #limiter: RateLimiter;
  readonly #waiting: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    perSecond: number,
    private readonly maxWaiting: number,
    /** A monotonic clock by default: a wall clock that NTP steps back would hold every station's tokens. */
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.#limiter = new RateLimiter(perSecond, nowMs());
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `dispatch` now, or once the rate allows (after the requests waiting before it), or never: 'refused'. */
  submit(dispatch: () => void): ThrottleOutcome {
    if (this.#closed) return 'refused';
    if (this.#waiting.length === 0 && this.#limiter.take(this.nowMs())) {
      dispatch();
      return 'dispatched';
    }
    if (this.#waiting.length >= this.maxWaiting) return 'refused';
    this.#waiting.push(dispatch);
    this.#schedule();
    return 'waiting';
  }

  /** The connection closed: what waits is dropped (the station sends it again on its next connection). */
  close(): void {
    this.#closed = true;
    this.#waiting.length = 0;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer || this.#waiting.length === 0 || this.#closed) return;
    // Rounded up to whole milliseconds, ignoring the floating-point dust of the bucket's arithmetic (99.000…01 ms).
    const delayMs = Math.max(1, Math.ceil(this.#limiter.msUntilToken(this.nowMs()) - 1e-6));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      while (this.#waiting.length > 0 && this.#limiter.take(this.nowMs())) this.#waiting.shift()?.();
      this.#schedule();
    }, delayMs);
    // A waiting request must not keep a stopping process alive; the connection's close drops it anyway.
    this.#timer.unref();
  }
}
