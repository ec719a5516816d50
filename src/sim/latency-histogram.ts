/**
 * Acknowledgement latencies in a fixed-size log-scale histogram: a load run sends millions of calls, and keeping
 * every latency to sort at the end would grow without bound. Buckets are 2 % wide, so a percentile is within 1 %
 * of the exact value (and exact at the extremes, which are tracked separately).
 */
export interface LatencyHistogram {
  record(latencyMs: number): void;
  readonly count: number;
  /** The latency at or below which `percent` % of the recorded latencies fall, in ms; null when nothing recorded. */
  percentileMs(percent: number): number | null;
  readonly minMs: number | null;
  readonly maxMs: number | null;
}

/** The lowest latency told apart from zero, in ms. */
export const HISTOGRAM_FLOOR_MS = 0.01;
/** Each bucket's upper bound is this factor times its lower bound. */
export const HISTOGRAM_BUCKET_RATIO = 1.02;
/** Latencies above this (ms) land in the last bucket: ten minutes is far beyond any call timeout. */
export const HISTOGRAM_CEILING_MS = 600_000;

const BUCKET_COUNT =
  Math.ceil(Math.log(HISTOGRAM_CEILING_MS / HISTOGRAM_FLOOR_MS) / Math.log(HISTOGRAM_BUCKET_RATIO)) + 1;

export function createLatencyHistogram(): LatencyHistogram {
  const buckets = new Uint32Array(BUCKET_COUNT);
  let count = 0;
  let minMs: number | null = null;
  let maxMs: number | null = null;
  return {
    record(latencyMs) {
      const value = Math.max(0, latencyMs);
      buckets[bucketIndex(value)]! += 1;
      count += 1;
      minMs = minMs === null ? value : Math.min(minMs, value);
      maxMs = maxMs === null ? value : Math.max(maxMs, value);
    },
    get count() {
      return count;
    },
    get minMs() {
      return minMs;
    },
    get maxMs() {
      return maxMs;
    },
    percentileMs(percent) {
      if (count === 0 || minMs === null || maxMs === null) return null;
      const rank = Math.max(1, Math.ceil((percent / 100) * count));
      if (rank >= count) return maxMs;
      let seen = 0;
      // The last bucket holds everything above the ceiling: only the maximum describes it.
      for (let index = 0; index < BUCKET_COUNT - 1; index += 1) {
        seen += buckets[index]!;
        if (seen >= rank) return Math.min(maxMs, Math.max(minMs, bucketMidpointMs(index)));
      }
      return maxMs;
    },
  };
}

function bucketIndex(latencyMs: number): number {
  if (latencyMs < HISTOGRAM_FLOOR_MS) return 0;
  const index = Math.floor(Math.log(latencyMs / HISTOGRAM_FLOOR_MS) / Math.log(HISTOGRAM_BUCKET_RATIO)) + 1;
  return Math.min(BUCKET_COUNT - 1, index);
}

/** The geometric middle of a bucket: within 1 % of any value in it. */
function bucketMidpointMs(index: number): number {
  if (index === 0) return 0;
  return HISTOGRAM_FLOOR_MS * HISTOGRAM_BUCKET_RATIO ** (index - 1) * Math.sqrt(HISTOGRAM_BUCKET_RATIO);
}
