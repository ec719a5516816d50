import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallThrottle } from './call-throttle.ts';

describe('CallThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-11-27T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a burst up to the rate at once, makes the next ones wait their turn in order, refuses beyond the limit', () => {
    const throttle = new CallThrottle(2, 3, Date.now);
    const ran: number[] = [];
    const outcomes = [1, 2, 3, 4, 5, 6].map((n) => throttle.submit(() => ran.push(n)));
    expect(outcomes).toEqual(['dispatched', 'dispatched', 'waiting', 'waiting', 'waiting', 'refused']);
    expect(ran).toEqual([1, 2]);
    expect(throttle.waiting).toBe(3);
    vi.advanceTimersByTime(499);
    expect(ran).toEqual([1, 2]);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual([1, 2, 3]);
    vi.advanceTimersByTime(500);
    expect(ran).toEqual([1, 2, 3, 4]);
    vi.advanceTimersByTime(500);
    expect(ran).toEqual([1, 2, 3, 4, 5]);
    expect(throttle.waiting).toBe(0);
  });

  it('never lets a new request pass the ones waiting, even when a token is there', () => {
    const throttle = new CallThrottle(1, 5, Date.now);
    const ran: string[] = [];
    expect(throttle.submit(() => ran.push('a'))).toBe('dispatched');
    expect(throttle.submit(() => ran.push('b'))).toBe('waiting');
    // Time passes without the timer having run yet (a busy event loop): a token is there, but b came first.
    vi.setSystemTime(Date.now() + 5000);
    expect(throttle.submit(() => ran.push('c'))).toBe('waiting');
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual(['a', 'b']);
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('a station that waits for each answer is never refused: one request a turn, at the rate', () => {
    const throttle = new CallThrottle(10, 1, Date.now);
    let answered = 0;
    const send = (): void => {
      const outcome = throttle.submit(() => {
        answered++;
        // The station sends its next request when the answer arrives (a timer of 0 ms: after this turn).
        if (answered < 50) setTimeout(send, 0);
      });
      expect(outcome).not.toBe('refused');
    };
    send();
    vi.advanceTimersByTime(3950);
    // 10 at once (the burst), then one every 100 ms (the fake 0 ms timers of the answers add 1 ms each): the 49th at
    // 3.901 s, the 50th at 4.001 s.
    expect(answered).toBe(49);
    vi.advanceTimersByTime(100);
    expect(answered).toBe(50);
  });

  it('keeps the rate when the clock steps back, instead of stalling until it catches up', () => {
    let nowMs = 1_000_000;
    const throttle = new CallThrottle(10, 16, () => nowMs);
    const ran: number[] = [];
    for (let i = 0; i < 10; i++) throttle.submit(() => ran.push(i));
    nowMs -= 60_000;
    expect(throttle.submit(() => ran.push(10))).toBe('waiting');
    nowMs += 100;
    vi.advanceTimersByTime(100);
    expect(ran).toHaveLength(11);
  });

  it('drops what waits when the connection closes, and refuses after', () => {
    const throttle = new CallThrottle(1, 5, Date.now);
    const ran: string[] = [];
    throttle.submit(() => ran.push('a'));
    throttle.submit(() => ran.push('b'));
    throttle.close();
    vi.advanceTimersByTime(10_000);
    expect(ran).toEqual(['a']);
    expect(throttle.waiting).toBe(0);
    expect(throttle.submit(() => ran.push('c'))).toBe('refused');
  });
});
