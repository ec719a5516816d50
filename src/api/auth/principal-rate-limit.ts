/**
 * Requests per minute per API key or signed-in user (the per-IP limit is @fastify/rate-limit's). A fixed window
 * in this node's memory: with N nodes a caller gets at most N times the limit, which is enough to stop a runaway
 * client or a stolen key from flooding the API; the window map is bounded so it cannot grow without end.
 */
const WINDOW_MS = 60_000;
const MAX_TRACKED = 100_000;

export type PrincipalRateLimiter = {
  /** Counts one request; the seconds to wait when over the limit, or 0. */
  hit(principalKey: string, now: Date): number;
};

export function createPrincipalRateLimiter(maxPerMinute: number): PrincipalRateLimiter {
  const windows = new Map<string, { startMs: number; count: number }>();
  return {
    hit(principalKey, now) {
      const nowMs = now.getTime();
      let window = windows.get(principalKey);
      if (!window || nowMs - window.startMs >= WINDOW_MS) {
        if (windows.size >= MAX_TRACKED) {
          for (const [key, w] of windows) if (nowMs - w.startMs >= WINDOW_MS) windows.delete(key);
          if (windows.size >= MAX_TRACKED) windows.clear();
        }
        window = { startMs: nowMs, count: 0 };
        windows.set(principalKey, window);
      }
      window.count += 1;
      if (window.count <= maxPerMinute) return 0;
      return Math.ceil((window.startMs + WINDOW_MS - nowMs) / 1000);
    },
  };
}
