/**
 * How a timeline is cut: at energy thresholds (the instant rounded up to the ms, the energy exact), at time
 * boundaries (the energy rounded down to the mWh), with pieces of equal choices merged into one period.
 */
import { describe, expect, it } from 'vitest';
import { priced, tariffWith, timelineAt } from './pricing-test-kit.test-support.ts';

const ZONE = 'UTC';

describe('cutting a timeline', () => {
  it('cuts at the first ms at which the linear energy reaches a kWh threshold; the energy split is exact', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'ENERGY', price: 1, step_size: 0 }], restrictions: { max_kwh: 1 } },
      { price_components: [{ type: 'ENERGY', price: 2, step_size: 0 }] },
    ]);
    // 3 kWh in 7 minutes: 1 kWh is reached after 140 000 ms exactly; 2 kWh in 7 ms would not be a whole ms.
    const session = priced(
      timelineAt('2025-06-03T10:00', ZONE, 7, [
        [0, 0, 'Charging'],
        [7, 3_000, 'Charging'],
      ]),
      tariff,
      ZONE,
    );
    const startMs = Date.parse('2025-06-03T10:00:00Z');
    expect(session.periods.map((p) => [p.startMs - startMs, p.energyMilliWh, p.energyElementIndex])).toEqual([
      [0, 1_000_000, 0],
      [140_000, 2_000_000, 1],
    ]);
    const odd = priced(
      timelineAt('2025-06-03T10:00', ZONE, 1, [
        [0, 0, 'Charging'],
        [1, 3, 'Charging'],
      ]),
      tariffWith([
        { price_components: [{ type: 'ENERGY', price: 1, step_size: 0 }], restrictions: { max_kwh: 0.001 } },
        { price_components: [{ type: 'ENERGY', price: 2, step_size: 0 }] },
      ]),
      ZONE,
    );
    // 1 Wh of 3 Wh in 60 000 ms: reached at 20 000 ms.
    expect(odd.periods.map((p) => [p.startMs - startMs, p.energyMilliWh])).toEqual([
      [0, 1_000],
      [20_000, 2_000],
    ]);
  });

  it('splits the energy at a time boundary rounded down to the mWh, keeping the total exact', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'ENERGY', price: 1, step_size: 0 }], restrictions: { end_time: '10:01' } },
      { price_components: [{ type: 'ENERGY', price: 2, step_size: 0 }] },
    ]);
    // 1 Wh over 3 minutes: at 10:01 the line is at 333.33 mWh, so the first period gets 333 mWh.
    const session = priced(
      timelineAt('2025-06-03T10:00', ZONE, 3, [
        [0, 0, 'Charging'],
        [3, 1, 'Charging'],
      ]),
      tariff,
      ZONE,
    );
    expect(session.periods.map((p) => p.energyMilliWh)).toEqual([333, 667]);
  });

  it('merges neighbouring pieces with the same elements into one period', () => {
    const tariff = tariffWith([
      {
        price_components: [
          { type: 'ENERGY', price: 1, step_size: 0 },
          { type: 'TIME', price: 1, step_size: 0 },
        ],
      },
    ]);
    const samples: [number, number, 'Charging'][] = Array.from({ length: 31 }, (_, i) => [i * 2, i * 100, 'Charging']);
    const session = priced(timelineAt('2025-06-03T10:00', ZONE, 60, samples), tariff, ZONE);
    expect(session.periods.map((p) => [p.timeMs, p.energyMilliWh])).toEqual([[3_600_000, 3_000_000]]);
  });

  it('keeps a stretch without energy apart from one with energy (an element is only chosen for a volume)', () => {
    const tariff = tariffWith([
      {
        price_components: [
          { type: 'ENERGY', price: 1, step_size: 0 },
          { type: 'TIME', price: 1, step_size: 0 },
        ],
      },
    ]);
    const session = priced(
      timelineAt('2025-06-03T10:00', ZONE, 60, [
        [0, 0, 'Charging'],
        [58, 2_900, 'Charging'],
      ]),
      tariff,
      ZONE,
    );
    expect(session.periods.map((p) => [p.timeMs, p.energyMilliWh, p.energyElementIndex])).toEqual([
      [3_480_000, 2_900_000, 0],
      [120_000, 0, null],
    ]);
  });

  it('keeps energy delivered in zero time (two samples at one instant) as a period of its own', () => {
    const tariff = tariffWith([
      {
        price_components: [
          { type: 'ENERGY', price: 1, step_size: 0 },
          { type: 'TIME', price: 1, step_size: 0 },
        ],
      },
    ]);
    const session = priced(
      timelineAt('2025-06-03T10:00', ZONE, 10, [
        [0, 0, 'Charging'],
        [5, 0, 'Charging'],
        [5, 500, 'Charging'],
      ]),
      tariff,
      ZONE,
    );
    expect(session.periods.map((p) => [p.timeMs, p.energyMilliWh])).toEqual([
      [300_000, 0],
      [0, 500_000],
      [300_000, 0],
    ]);
    expect(session.lines.map((l) => [l.dimension, l.volume])).toEqual([
      ['ENERGY', '0.5'],
      ['TIME', '600'],
    ]);
  });
});
