/**
 * Daylight saving time: restrictions are evaluated on the local wall clock of each instant. On the autumn day the
 * repeated hour matches a window twice; on the spring day the skipped hour never matches; a local day lasts 25 or
 * 23 hours. Instants are written in UTC so that the test itself cannot be ambiguous.
 * Europe/Amsterdam: 2025-03-30 01:00Z clocks 02:00 -> 03:00; 2025-10-26 01:00Z clocks 03:00 -> 02:00.
 */
import { describe, expect, it } from 'vitest';
import type { PricingInput } from './pricing-input.ts';
import { lineSummary, priced, tariffWith } from './pricing-test-kit.test-support.ts';
import { buildWallClockSpans, WallClockCursor } from './wall-clock.ts';
import { zoneOffsetsFor } from './zone-offsets.ts';

const ZONE = 'Europe/Amsterdam';

function charging(fromUtc: string, toUtc: string): PricingInput {
  return {
    kind: 'timeline',
    timeline: {
      startedAt: new Date(fromUtc),
      endedAt: new Date(toUtc),
      samples: [{ at: new Date(fromUtc), energyWh: 0, state: 'Charging' }],
    },
  };
}

const windowTariff = (start: string, end: string) =>
  tariffWith([
    {
      price_components: [{ type: 'TIME', price: 10, step_size: 1 }],
      restrictions: { start_time: start, end_time: end },
    },
    { price_components: [{ type: 'TIME', price: 1, step_size: 1 }] },
  ]);

describe('autumn (fall back): the repeated hour', () => {
  it('matches a 02:00-03:00 window in both of its hours: 2 h at the window price', () => {
    // 00:00 CEST to 05:00 CET: six hours of physical time.
    const session = priced(
      charging('2025-10-25T22:00:00Z', '2025-10-26T04:00:00Z'),
      windowTariff('02:00', '03:00'),
      ZONE,
    );
    expect(lineSummary(session)).toEqual([
      ['TIME', 0, '7200', '20.00', '20.00'],
      ['TIME', 1, '14400', '4.00', '4.00'],
    ]);
    expect(session.periods.map((p) => [new Date(p.startMs).toISOString(), p.timeElementIndex])).toEqual([
      ['2025-10-25T22:00:00.000Z', 1],
      ['2025-10-26T00:00:00.000Z', 0],
      ['2025-10-26T02:00:00.000Z', 1],
    ]);
  });

  it('matches CDR periods that start at 02:30 CEST and at 02:30 CET alike', () => {
    const session = priced(
      {
        kind: 'cdr',
        startedAt: new Date('2025-10-26T00:30:00Z'),
        endedAt: new Date('2025-10-26T02:30:00Z'),
        periods: [
          { startedAt: new Date('2025-10-26T00:30:00Z'), dimensions: [{ type: 'TIME', volume: 0.5 }] },
          { startedAt: new Date('2025-10-26T01:00:00Z'), dimensions: [{ type: 'TIME', volume: 0.5 }] },
          { startedAt: new Date('2025-10-26T01:30:00Z'), dimensions: [{ type: 'TIME', volume: 0.5 }] },
          { startedAt: new Date('2025-10-26T02:00:00Z'), dimensions: [{ type: 'TIME', volume: 0.5 }] },
        ],
      },
      windowTariff('02:00', '03:00'),
      ZONE,
    );
    expect(session.periods.map((p) => p.timeElementIndex)).toEqual([0, 0, 0, 1]);
  });

  it('gives the Sunday of the change 25 hours', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'TIME', price: 1, step_size: 1 }], restrictions: { day_of_week: ['SUNDAY'] } },
    ]);
    const session = priced(charging('2025-10-25T21:00:00Z', '2025-10-26T23:30:00Z'), tariff, ZONE);
    expect(lineSummary(session)).toEqual([['TIME', 0, '90000', '25.00', '25.00']]);
  });
});

describe('spring (forward): the skipped hour', () => {
  it('never matches a 02:00-03:00 window', () => {
    const session = priced(
      charging('2025-03-29T23:00:00Z', '2025-03-30T03:00:00Z'),
      windowTariff('02:00', '03:00'),
      ZONE,
    );
    expect(lineSummary(session)).toEqual([['TIME', 1, '14400', '4.00', '4.00']]);
  });

  it('ends a 01:00-02:30 window when the clock jumps to 03:00', () => {
    const session = priced(
      charging('2025-03-29T23:00:00Z', '2025-03-30T03:00:00Z'),
      windowTariff('01:00', '02:30'),
      ZONE,
    );
    expect(lineSummary(session)).toEqual([
      ['TIME', 0, '3600', '10.00', '10.00'],
      ['TIME', 1, '10800', '3.00', '3.00'],
    ]);
  });

  it('starts a 02:30-04:00 window at 03:00, the first wall-clock time inside it', () => {
    const session = priced(
      charging('2025-03-29T23:00:00Z', '2025-03-30T03:00:00Z'),
      windowTariff('02:30', '04:00'),
      ZONE,
    );
    expect(session.periods.map((p) => [new Date(p.startMs).toISOString(), p.timeElementIndex])).toEqual([
      ['2025-03-29T23:00:00.000Z', 1],
      ['2025-03-30T01:00:00.000Z', 0],
      ['2025-03-30T02:00:00.000Z', 1],
    ]);
  });

  it('gives the Sunday of the change 23 hours', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'TIME', price: 1, step_size: 1 }], restrictions: { day_of_week: ['SUNDAY'] } },
    ]);
    const session = priced(charging('2025-03-29T20:00:00Z', '2025-03-31T02:00:00Z'), tariff, ZONE);
    expect(lineSummary(session)).toEqual([['TIME', 0, '82800', '23.00', '23.00']]);
  });
});

describe('wall-clock spans in unusual zones', () => {
  const spansOf = (zone: string, from: string, to: string) => {
    const offsets = zoneOffsetsFor(zone);
    if (offsets === null) throw new Error(zone);
    const spans = buildWallClockSpans(offsets, Date.parse(from), Date.parse(to));
    return spans.startMs.map((ms, i) => [
      new Date(ms).toISOString(),
      (spans.offsetMs[i] as number) / 60_000,
      new Date((spans.localDay[i] as number) * 86_400_000).toISOString().slice(0, 10),
    ]);
  };

  it('Pacific/Apia skipped 2011-12-30 entirely: local Dec 29 is followed by Dec 31', () => {
    expect(spansOf('Pacific/Apia', '2011-12-30T08:00:00Z', '2011-12-30T12:00:00Z')).toEqual([
      ['2011-12-30T08:00:00.000Z', -600, '2011-12-29'],
      ['2011-12-30T10:00:00.000Z', 840, '2011-12-31'],
    ]);
  });

  it('Australia/Lord_Howe moves its clocks by 30 minutes', () => {
    expect(spansOf('Australia/Lord_Howe', '2025-04-05T14:00:00Z', '2025-04-05T16:00:00Z')).toEqual([
      ['2025-04-05T14:00:00.000Z', 660, '2025-04-06'],
      ['2025-04-05T15:00:00.000Z', 630, '2025-04-06'],
    ]);
  });

  it('America/Sao_Paulo 2018-11-04 had no midnight: the day began at 01:00', () => {
    const offsets = zoneOffsetsFor('America/Sao_Paulo');
    if (offsets === null) throw new Error('zone');
    const spans = buildWallClockSpans(offsets, Date.parse('2018-11-04T02:00:00Z'), Date.parse('2018-11-04T04:00:00Z'));
    const cursor = new WallClockCursor(spans);
    const at = { timeOfDayMs: 0, localDay: 0, weekday: 0 };
    cursor.locate(Date.parse('2018-11-04T03:00:00Z'), at);
    expect([at.timeOfDayMs / 3_600_000, at.weekday]).toEqual([1, 6]);
  });

  it('canonicalizes zone names and refuses fixed offsets', () => {
    expect(zoneOffsetsFor('europe/amsterdam')?.name).toBe('Europe/Amsterdam');
    expect(zoneOffsetsFor('+01:00')).toBeNull();
    expect(zoneOffsetsFor('Nowhere/Special')).toBeNull();
  });
});
