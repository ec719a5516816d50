import { describe, expect, it } from 'vitest';
import { createLatencyHistogram } from './latency-histogram.ts';

describe('the latency histogram', () => {
  it('reports percentiles within 1 % and the exact extremes', () => {
    const histogram = createLatencyHistogram();
    for (let latencyMs = 1; latencyMs <= 1000; latencyMs += 1) histogram.record(latencyMs);
    expect(histogram.count).toBe(1000);
    expect(histogram.minMs).toBe(1);
    expect(histogram.maxMs).toBe(1000);
    for (const [percent, exactMs] of [
      [50, 500],
      [95, 950],
      [99, 990],
    ] as const) {
      const reported = histogram.percentileMs(percent)!;
      expect(Math.abs(reported - exactMs) / exactMs).toBeLessThan(0.01);
    }
    expect(histogram.percentileMs(100)).toBeCloseTo(1000, -1);
  });

  it('reports nothing before the first latency, and a single latency exactly', () => {
    const histogram = createLatencyHistogram();
    expect(histogram.percentileMs(50)).toBeNull();
    histogram.record(3.25);
    expect(histogram.percentileMs(50)).toBe(3.25);
    expect(histogram.percentileMs(99)).toBe(3.25);
  });

  it('keeps sub-floor and huge latencies', () => {
    const histogram = createLatencyHistogram();
    histogram.record(0);
    histogram.record(10_000_000);
    expect(histogram.percentileMs(50)).toBe(0);
    expect(histogram.percentileMs(100)).toBe(10_000_000);
  });
});
