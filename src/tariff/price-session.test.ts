/**
 * One test (or a few) per decision of docs/specs/tariffs.md and docs/tariffs.md, with exact expected values.
 * Times are local wall-clock times in Europe/Amsterdam; 2025-06-03 is a Tuesday, 2025-06-06 a Friday.
 */
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../shared/money.ts';
import type { CdrChargingPeriod, PricingInput } from './pricing-input.ts';
import {
  lineSummary,
  localTime,
  priced,
  refused,
  tariffOf,
  tariffWith,
  timelineAt,
  totalsOf,
} from './pricing-test-kit.test-support.ts';

const ZONE = 'Europe/Amsterdam';

/** A CDR input from local start times and OCPI dimensions. */
function cdrAt(start: string, end: string, periods: [string, [string, number | string][]][]): PricingInput {
  return {
    kind: 'cdr',
    startedAt: localTime(start, ZONE),
    endedAt: localTime(end, ZONE),
    periods: periods.map(
      ([at, dimensions]): CdrChargingPeriod => ({
        startedAt: localTime(at, ZONE),
        dimensions: dimensions.map(([type, volume]) => ({ type, volume })),
      }),
    ),
  };
}

/** Charging at a steady rate: a sample at the start and one at the end with the total energy. */
const steady = (startLocal: string, minutes: number, energyWh: number, zone = ZONE) =>
  timelineAt(startLocal, zone, minutes, [
    [0, 0, 'Charging'],
    [minutes, energyWh, 'Charging'],
  ]);

describe('selection per dimension', () => {
  it('uses the first element in list order whose restrictions hold; later matches are ignored', () => {
    const tariff = tariffWith([
      {
        price_components: [{ type: 'ENERGY', price: 0.4, step_size: 1 }],
        restrictions: { start_time: '08:00', end_time: '20:00' },
      },
      { price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1 }] },
      { price_components: [{ type: 'ENERGY', price: 0.1, step_size: 1 }] },
    ]);
    const session = priced(steady('2025-06-03T19:00', 120, 20_000), tariff, ZONE);
    expect(lineSummary(session)).toEqual([
      ['ENERGY', 0, '10', '4.00', '4.00'],
      ['ENERGY', 1, '10', '3.00', '3.00'],
    ]);
    expect(session.periods.map((p) => [p.energyElementIndex, p.energyMilliWh])).toEqual([
      [0, 10_000_000],
      [1, 10_000_000],
    ]);
  });

  it('leaves a dimension free when no element applies (no line at all)', () => {
    const tariff = tariffWith([
      {
        price_components: [{ type: 'TIME', price: 1, step_size: 1 }],
        restrictions: { start_time: '08:00', end_time: '09:00' },
      },
    ]);
    const session = priced(steady('2025-06-03T10:00', 60, 5_000), tariff, ZONE);
    expect(session.lines).toEqual([]);
    expect(totalsOf(session)).toEqual(['0.00', '0.00']);
  });

  it('prices dimensions independently: an element without ENERGY does not stop an ENERGY element below it', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'TIME', price: 2, step_size: 1 }] },
      { price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1 }] },
    ]);
    expect(lineSummary(priced(steady('2025-06-03T10:00', 30, 5_000), tariff, ZONE))).toEqual([
      ['ENERGY', 1, '5', '1.50', '1.50'],
      ['TIME', 0, '1800', '1.00', '1.00'],
    ]);
  });
});

describe('VAT', () => {
  it('distinguishes "no VAT applicable" (omitted) from 0 %', () => {
    const tariff = tariffWith([
      {
        price_components: [
          { type: 'FLAT', price: 1, step_size: 0 },
          { type: 'ENERGY', price: 0.3, vat: 0, step_size: 1 },
          { type: 'TIME', price: 1.2, vat: 21, step_size: 1 },
        ],
      },
    ]);
    const session = priced(steady('2025-06-03T10:00', 60, 10_000), tariff, ZONE);
    expect(
      session.lines.map((l) => [l.dimension, l.vat, l.vatPercent, l.unroundedExclVat, l.unroundedInclVat]),
    ).toEqual([
      ['FLAT', 'not_applicable', null, '1.00', '1.00'],
      ['ENERGY', 'rate', '0', '3.00', '3.00'],
      ['TIME', 'rate', '21', '1.20', '1.452'],
    ]);
    expect(totalsOf(session)).toEqual(['5.20', '5.45']);
  });
});

describe('time-of-day, date and weekday restrictions (local wall clock)', () => {
  const two = (restrictions: unknown, inside = 2, outside = 1) =>
    tariffWith([
      { price_components: [{ type: 'TIME', price: inside, step_size: 1 }], restrictions },
      { price_components: [{ type: 'TIME', price: outside, step_size: 1 }] },
    ]);

  it('wraps a window whose end is before its start past midnight (22:00-06:00)', () => {
    const session = priced(steady('2025-06-03T21:00', 600, 0), two({ start_time: '22:00', end_time: '06:00' }), ZONE);
    expect(lineSummary(session)).toEqual([
      ['TIME', 0, '28800', '16.00', '16.00'],
      ['TIME', 1, '7200', '2.00', '2.00'],
    ]);
  });

  it('reads end_time 00:00 as the end of the day', () => {
    const session = priced(
      steady('2025-06-03T23:00', 120, 0),
      two({ start_time: '20:00', end_time: '00:00' }, 3),
      ZONE,
    );
    expect(lineSummary(session)).toEqual([
      ['TIME', 0, '3600', '3.00', '3.00'],
      ['TIME', 1, '3600', '1.00', '1.00'],
    ]);
  });

  it('never applies a window whose start equals its end (10:00-10:00)', () => {
    const session = priced(steady('2025-06-03T09:00', 120, 0), two({ start_time: '10:00', end_time: '10:00' }), ZONE);
    expect(lineSummary(session)).toEqual([['TIME', 1, '7200', '2.00', '2.00']]);
  });

  it('applies a start_time alone until the end of the day and an end_time alone from midnight', () => {
    expect(
      priced(steady('2025-06-03T22:00', 180, 0), two({ start_time: '23:00' }), ZONE).periods.map(
        (p) => p.timeElementIndex,
      ),
    ).toEqual([1, 0, 1]);
    expect(
      priced(steady('2025-06-03T22:00', 180, 0), two({ end_time: '00:30' }), ZONE).periods.map(
        (p) => p.timeElementIndex,
      ),
    ).toEqual([1, 0, 1]);
  });

  it('makes dates and times a daily window: start_date inclusive, end_date exclusive', () => {
    const tariff = tariffWith([
      {
        price_components: [{ type: 'ENERGY', price: 0.5, step_size: 1 }],
        restrictions: { start_date: '2025-06-03', end_date: '2025-06-05', start_time: '08:00', end_time: '10:00' },
      },
      { price_components: [{ type: 'ENERGY', price: 0.1, step_size: 1 }] },
    ]);
    const session = priced(
      cdrAt('2025-06-02T09:00', '2025-06-05T10:00', [
        ['2025-06-02T09:00', [['ENERGY', 1]]],
        ['2025-06-03T07:00', [['ENERGY', 1]]],
        ['2025-06-03T09:00', [['ENERGY', 1]]],
        ['2025-06-04T09:30', [['ENERGY', 1]]],
        ['2025-06-05T09:00', [['ENERGY', 1]]],
      ]),
      tariff,
      ZONE,
    );
    expect(session.periods.map((p) => p.energyElementIndex)).toEqual([1, 1, 0, 0, 1]);
  });

  it('checks day_of_week on the local date of the instant, also inside a window past midnight', () => {
    const tariff = two({ day_of_week: ['FRIDAY'], start_time: '22:00', end_time: '06:00' });
    const session = priced(
      cdrAt('2025-06-06T05:00', '2025-06-07T02:00', [
        ['2025-06-06T05:00', [['TIME', 1]]],
        ['2025-06-06T23:00', [['TIME', 1]]],
        ['2025-06-07T01:00', [['TIME', 1]]],
      ]),
      tariff,
      ZONE,
    );
    // Friday 05:00 and 23:00 are Friday; Saturday 01:00 is Saturday, although the window started on Friday.
    expect(session.periods.map((p) => p.timeElementIndex)).toEqual([0, 0, 1]);
  });
});

describe('energy, power, current and duration restrictions', () => {
  it('splits a timeline period where the cumulative energy reaches max_kwh (exclusive) / min_kwh (inclusive)', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'ENERGY', price: 0.2, step_size: 1 }], restrictions: { max_kwh: 10 } },
      { price_components: [{ type: 'ENERGY', price: 0.4, step_size: 1 }], restrictions: { min_kwh: 10 } },
    ]);
    const input = steady('2025-06-03T10:00', 120, 20_000);
    const session = priced(input, tariff, ZONE);
    expect(lineSummary(session)).toEqual([
      ['ENERGY', 0, '10', '2.00', '2.00'],
      ['ENERGY', 1, '10', '4.00', '4.00'],
    ]);
    const startMs = localTime('2025-06-03T10:00', ZONE).getTime();
    expect(session.periods.map((p) => [p.startMs - startMs, p.endMs - startMs])).toEqual([
      [0, 3_600_000],
      [3_600_000, 7_200_000],
    ]);
  });

  it('checks power as >= min_power and < max_power on the sample in force', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'ENERGY', price: 0.5, step_size: 1 }], restrictions: { min_power: 22 } },
      { price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1 }], restrictions: { max_power: 11 } },
      { price_components: [{ type: 'ENERGY', price: 0.4, step_size: 1 }] },
    ]);
    const input = timelineAt('2025-06-03T10:00', ZONE, 180, [
      [0, 0, 'Charging', 11_000],
      [60, 11_000, 'Charging', 22_000],
      [120, 33_000, 'Charging', 10_999],
      [180, 43_999, 'Charging', 10_999],
    ]);
    expect(lineSummary(priced(input, tariff, ZONE))).toEqual([
      ['ENERGY', 0, '22', '11.00', '11.00'],
      ['ENERGY', 1, '10.999', '3.30', '3.30'],
      ['ENERGY', 2, '11', '4.40', '4.40'],
    ]);
  });

  it('checks current as >= min_current and < max_current', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'TIME', price: 2, step_size: 1 }], restrictions: { min_current: 32 } },
      { price_components: [{ type: 'TIME', price: 1, step_size: 1 }] },
    ]);
    const input = timelineAt('2025-06-03T10:00', ZONE, 60, [
      [0, 0, 'Charging', undefined, 31.9],
      [30, 3_000, 'Charging', undefined, 32],
    ]);
    expect(lineSummary(priced(input, tariff, ZONE))).toEqual([
      ['TIME', 0, '1800', '1.00', '1.00'],
      ['TIME', 1, '1800', '0.50', '0.50'],
    ]);
  });

  it('counts durations from the session start: max_duration exclusive, min_duration inclusive', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'PARKING_TIME', price: 0, step_size: 1 }], restrictions: { max_duration: 1800 } },
      { price_components: [{ type: 'PARKING_TIME', price: 3, step_size: 1 }], restrictions: { min_duration: 1800 } },
    ]);
    const input = timelineAt('2025-06-03T10:00', ZONE, 60, [
      [0, 0, 'Charging'],
      [20, 4_000, 'SuspendedEV'],
    ]);
    expect(lineSummary(priced(input, tariff, ZONE))).toEqual([
      ['PARKING_TIME', 0, '600', '0.00', '0.00'],
      ['PARKING_TIME', 1, '1800', '1.50', '1.50'],
    ]);
  });

  it('refuses to guess a power that no sample gives (MeasurementMissing, with the sample path)', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'ENERGY', price: 0.5, step_size: 1 }], restrictions: { max_power: 11 } },
    ]);
    const input = timelineAt('2025-06-03T10:00', ZONE, 60, [
      [0, 0, 'Charging', 7_000],
      [30, 3_500, 'Charging'],
      [60, 7_000, 'Charging'],
    ]);
    expect(refused(input, tariff, { timeZone: ZONE, rounding: 'half-up' })).toEqual({
      code: 'MeasurementMissing',
      path: '$.samples[1]',
      message:
        'the tariff has a power restriction, but no power is known here; provide powerW (timeline) or POWER/MIN_POWER/MAX_POWER (CDR)',
    });
  });

  it('decides a CDR power restriction from MIN_/MAX_POWER, falling back to POWER', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'ENERGY', price: 0.2, step_size: 1 }], restrictions: { max_power: 16 } },
      { price_components: [{ type: 'ENERGY', price: 0.5, step_size: 1 }] },
    ]);
    const session = priced(
      cdrAt('2025-06-03T10:00', '2025-06-03T13:00', [
        [
          '2025-06-03T10:00',
          [
            ['ENERGY', 1],
            ['MIN_POWER', 3],
            ['MAX_POWER', 15.999],
          ],
        ],
        [
          '2025-06-03T11:00',
          [
            ['ENERGY', 1],
            ['MIN_POWER', 3],
            ['MAX_POWER', 16],
          ],
        ],
        [
          '2025-06-03T12:00',
          [
            ['ENERGY', 1],
            ['POWER', 12],
          ],
        ],
      ]),
      tariff,
      ZONE,
    );
    expect(session.periods.map((p) => p.energyElementIndex)).toEqual([0, 1, 0]);
  });
});

describe('TIME versus PARKING_TIME from the charging state', () => {
  const tariff = tariffWith([
    {
      price_components: [
        { type: 'TIME', price: 6, step_size: 0 },
        { type: 'PARKING_TIME', price: 12, step_size: 0 },
      ],
    },
  ]);
  const input = timelineAt('2025-06-03T10:00', ZONE, 60, [
    [0, 0, 'EVConnected'],
    [10, 0, 'Charging'],
    [20, 1_000, 'SuspendedEVSE'],
    [30, 1_000, 'Charging'],
    [40, 2_000, 'SuspendedEV'],
    [45, 2_000, 'EVConnected'],
    [50, 2_000, 'Idle'],
  ]);

  it('bills Charging as TIME; SuspendedEV and EVConnected after charging as PARKING_TIME; the rest not at all', () => {
    const session = priced(input, tariff, ZONE);
    expect(lineSummary(session)).toEqual([
      ['TIME', 0, '1200', '2.00', '2.00'],
      ['PARKING_TIME', 0, '600', '2.00', '2.00'],
    ]);
    expect(session.ocpi.total_time).toBe(1);
    expect(session.ocpi.total_parking_time).toBe(0.166666667);
  });

  it('bills SuspendedEVSE as TIME only when billSuspendedEvseAsTime is set', () => {
    const session = priced(input, tariff, ZONE, 'half-up', { billSuspendedEvseAsTime: true });
    expect(lineSummary(session)).toEqual([
      ['TIME', 0, '1800', '3.00', '3.00'],
      ['PARKING_TIME', 0, '600', '2.00', '2.00'],
    ]);
  });

  it('takes a timeline without samples as one Charging period without energy', () => {
    const session = priced(timelineAt('2025-06-03T10:00', ZONE, 30, []), tariff, ZONE);
    expect(lineSummary(session)).toEqual([['TIME', 0, '1800', '3.00', '3.00']]);
    expect(session.ocpi.charging_periods).toEqual([
      { start_date_time: '2025-06-03T08:00:00.000Z', dimensions: [{ type: 'TIME', volume: 0.5 }], tariff_id: 'test' },
    ]);
  });

  it('takes the time before the first sample as Charging, with energy rising from 0 Wh', () => {
    const session = priced(timelineAt('2025-06-03T10:00', ZONE, 30, [[10, 1_000, 'SuspendedEV']]), tariff, ZONE);
    expect(lineSummary(session)).toEqual([
      ['TIME', 0, '600', '1.00', '1.00'],
      ['PARKING_TIME', 0, '1200', '4.00', '4.00'],
    ]);
    expect(session.ocpi.total_energy).toBe(1);
  });
});

describe('step_size', () => {
  it('rounds the ENERGY total with the step of the last period priced by ENERGY; the extra goes there', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'ENERGY', price: 1, step_size: 500 }], restrictions: { end_time: '12:00' } },
      { price_components: [{ type: 'ENERGY', price: 2, step_size: 1000 }] },
    ]);
    const session = priced(
      cdrAt('2025-06-03T11:00', '2025-06-03T13:00', [
        ['2025-06-03T11:00', [['ENERGY', 1.2]]],
        ['2025-06-03T12:00', [['ENERGY', 0.3]]],
      ]),
      tariff,
      ZONE,
    );
    expect(session.lines.map((l) => [l.elementIndex, l.measuredVolume, l.volume, l.unroundedExclVat])).toEqual([
      [0, '1.2', '1.2', '1.20'],
      [1, '0.3', '0.8', '1.60'],
    ]);
  });

  it('leaves an exact multiple as it is, and bills the exact volume with step_size 0', () => {
    const stepped = tariffWith([{ price_components: [{ type: 'ENERGY', price: 1, step_size: 1000 }] }]);
    const exact = tariffWith([{ price_components: [{ type: 'ENERGY', price: 1, step_size: 0 }] }]);
    expect(priced(steady('2025-06-03T10:00', 60, 2_000), stepped, ZONE).lines[0]?.volume).toBe('2');
    expect(priced(steady('2025-06-03T10:00', 60, 1_234.567), exact, ZONE).lines[0]?.volume).toBe('1.234567');
  });

  it('rounds the dimension of the last timed period only: parking after charging leaves TIME unrounded', () => {
    const tariff = tariffWith([
      {
        price_components: [
          { type: 'TIME', price: 6, step_size: 900 },
          { type: 'PARKING_TIME', price: 6, step_size: 600 },
        ],
      },
    ]);
    const withParking = timelineAt('2025-06-03T10:00', ZONE, 17, [
      [0, 0, 'Charging'],
      [10, 1_000, 'SuspendedEV'],
    ]);
    expect(lineSummary(priced(withParking, tariff, ZONE))).toEqual([
      ['TIME', 0, '600', '1.00', '1.00'],
      ['PARKING_TIME', 0, '600', '1.00', '1.00'],
    ]);
    const chargingOnly = steady('2025-06-03T10:00', 10, 1_000);
    expect(lineSummary(priced(chargingOnly, tariff, ZONE))).toEqual([['TIME', 0, '900', '1.50', '1.50']]);
  });
  it('is not monotone, as OCPI defines it: one more minute parked makes this session cheaper (docs/tariffs.md)', () => {
    const tariff = tariffWith([
      {
        price_components: [
          { type: 'TIME', price: 6, step_size: 900 },
          { type: 'PARKING_TIME', price: 0.6, step_size: 60 },
        ],
      },
    ]);
    const charged = priced(steady('2025-06-03T10:00', 10, 1_000), tariff, ZONE);
    const parkedAMinute = priced(
      timelineAt('2025-06-03T10:00', ZONE, 11, [
        [0, 0, 'Charging'],
        [10, 1_000, 'SuspendedEV'],
      ]),
      tariff,
      ZONE,
    );
    expect([totalsOf(charged)[0], totalsOf(parkedAMinute)[0]]).toEqual(['1.50', '1.01']);
  });
});

describe('FLAT', () => {
  it('charges a FLAT component once, however many periods it applies in', () => {
    const tariff = tariffWith([
      {
        price_components: [
          { type: 'FLAT', price: 1, step_size: 0 },
          { type: 'TIME', price: 1, step_size: 1 },
        ],
      },
    ]);
    const session = priced(
      timelineAt('2025-06-03T10:00', ZONE, 60, [
        [0, 0, 'Charging'],
        [20, 1_000, 'SuspendedEV'],
        [40, 1_000, 'Charging'],
      ]),
      tariff,
      ZONE,
    );
    expect(lineSummary(session).filter(([d]) => d === 'FLAT')).toEqual([['FLAT', 0, '1', '1.00', '1.00']]);
  });

  it('charges each distinct FLAT component that applies at some time of the session', () => {
    const tariff = tariffWith([
      { price_components: [{ type: 'FLAT', price: 1, step_size: 0 }], restrictions: { end_time: '12:00' } },
      { price_components: [{ type: 'FLAT', price: 2, step_size: 0 }] },
    ]);
    expect(lineSummary(priced(steady('2025-06-03T11:00', 120, 0), tariff, ZONE))).toEqual([
      ['FLAT', 0, '1', '1.00', '1.00'],
      ['FLAT', 1, '1', '2.00', '2.00'],
    ]);
  });

  it('charges a zero-length session its FLAT fee and nothing else', () => {
    const tariff = tariffWith([
      {
        price_components: [
          { type: 'FLAT', price: 0.5, step_size: 0 },
          { type: 'TIME', price: 3, step_size: 60 },
        ],
      },
    ]);
    expect(lineSummary(priced(timelineAt('2025-06-03T10:00', ZONE, 0, []), tariff, ZONE))).toEqual([
      ['FLAT', 0, '1', '0.50', '0.50'],
    ]);
  });
});

describe('min_price / max_price', () => {
  const minTariff = tariffOf({
    id: 'min',
    currency: 'EUR',
    min_price: { excl_vat: 0.5, incl_vat: 0.55 },
    elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 }] }],
  });

  it('adds a MIN_PRICE line that brings both totals to the minimum', () => {
    const session = priced(steady('2025-06-03T10:00', 60, 1_200), minTariff, ZONE);
    expect(
      session.lines.map((l) => [
        l.dimension,
        l.vat,
        l.unroundedExclVat,
        l.unroundedInclVat,
        formatMoney(l.exclVat),
        formatMoney(l.inclVat),
      ]),
    ).toEqual([
      ['ENERGY', 'rate', '0.30', '0.33', '0.30', '0.33'],
      ['MIN_PRICE', 'implied', '0.20', '0.22', '0.20', '0.22'],
    ]);
    expect(totalsOf(session)).toEqual(['0.50', '0.55']);
    expect(session.ocpi.total_cost).toEqual({ excl_vat: 0.5, incl_vat: 0.55 });
    expect(session.ocpi.total_energy_cost).toEqual({ excl_vat: 0.3, incl_vat: 0.33 });
  });

  it('adds a negative MAX_PRICE line above the maximum', () => {
    const tariff = tariffOf({
      id: 'max',
      currency: 'EUR',
      max_price: { excl_vat: 10, incl_vat: 11 },
      elements: [
        {
          price_components: [
            { type: 'FLAT', price: 0.5, vat: 20, step_size: 1 },
            { type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 },
          ],
        },
      ],
    });
    const session = priced(steady('2025-06-03T10:00', 120, 50_000), tariff, ZONE);
    expect(lineSummary(session)).toEqual([
      ['FLAT', 0, '1', '0.50', '0.60'],
      ['ENERGY', 0, '50', '12.50', '13.75'],
      ['MAX_PRICE', null, '1', '-3.00', '-3.35'],
    ]);
    expect(totalsOf(session)).toEqual(['10.00', '11.00']);
  });

  it('clamps exact and rounded totals each: a line whose rounded side is 0 when only the exact total is short', () => {
    const tariff = tariffOf({
      id: 'edge',
      currency: 'EUR',
      min_price: { excl_vat: 0.5 },
      elements: [
        { price_components: [{ type: 'FLAT', price: 0.2496, step_size: 0 }], restrictions: { end_time: '12:00' } },
        { price_components: [{ type: 'FLAT', price: 0.2496, step_size: 0 }] },
      ],
    });
    const session = priced(steady('2025-06-03T11:00', 120, 0), tariff, ZONE);
    expect(session.lines.map((l) => [l.dimension, l.unroundedExclVat, formatMoney(l.exclVat)])).toEqual([
      ['FLAT', '0.2496', '0.25'],
      ['FLAT', '0.2496', '0.25'],
      ['MIN_PRICE', '0.0008', '0.00'],
    ]);
    expect(totalsOf(session)).toEqual(['0.50', '0.50']);
    expect(session.unroundedTotals).toEqual({ exclVat: '0.50', inclVat: '0.50' });
  });
});

describe('rounding and currencies', () => {
  it('rounds each line half-up or half-even as the operator chose', () => {
    const tariff = tariffWith([{ price_components: [{ type: 'ENERGY', price: 0.25, step_size: 1 }] }]);
    const input = steady('2025-06-03T10:00', 60, 500);
    expect(totalsOf(priced(input, tariff, ZONE, 'half-up'))).toEqual(['0.13', '0.13']);
    expect(totalsOf(priced(input, tariff, ZONE, 'half-even'))).toEqual(['0.12', '0.12']);
  });

  it('rounds to the ISO 4217 minor unit: JPY 0, KWD 3, CLF 4 decimals', () => {
    const energy = (currency: string, price: number) =>
      tariffOf({
        id: 'c',
        currency,
        elements: [{ price_components: [{ type: 'ENERGY', price, vat: 10, step_size: 1 }] }],
      });
    const input = steady('2025-06-03T10:00', 60, 12_345);
    expect(totalsOf(priced(input, energy('JPY', 30), ZONE))).toEqual(['370', '407']);
    expect(totalsOf(priced(input, energy('KWD', 0.0125), ZONE))).toEqual(['0.154', '0.170']);
    expect(totalsOf(priced(input, energy('CLF', 0.00123), ZONE))).toEqual(['0.0152', '0.0167']);
    expect(priced(input, energy('KWD', 0.0125), ZONE).lines[0]?.unroundedExclVat).toBe('0.1543125');
  });

  it('keeps unrounded time amounts without a finite decimal to 20 places', () => {
    const tariff = tariffWith([{ price_components: [{ type: 'TIME', price: 1, vat: 21, step_size: 1 }] }]);
    const line = priced(steady('2025-06-03T10:00', 1, 0), tariff, ZONE).lines[0];
    expect([line?.unroundedExclVat, line?.unroundedInclVat]).toEqual([
      '0.01666666666666666667',
      '0.02016666666666666667',
    ]);
    expect([formatMoney(line!.exclVat), formatMoney(line!.inclVat)]).toEqual(['0.02', '0.02']);
  });
});

describe('typed errors and warnings', () => {
  const tariff = tariffWith([{ price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1 }] }]);
  const input = steady('2025-06-03T10:00', 60, 1_000);

  it('refuses a missing or unknown time zone; never assumes UTC', () => {
    expect(refused(input, tariff, { timeZone: '', rounding: 'half-up' }).code).toBe('TimeZoneMissing');
    expect(refused(input, tariff, { timeZone: undefined as unknown as string, rounding: 'half-up' }).code).toBe(
      'TimeZoneMissing',
    );
    expect(refused(input, tariff, { timeZone: 'Mars/Olympus_Mons', rounding: 'half-up' })).toEqual({
      code: 'TimeZoneInvalid',
      timeZone: 'Mars/Olympus_Mons',
      message: "'Mars/Olympus_Mons' is not an IANA time zone (e.g. Europe/Amsterdam)",
    });
    expect(refused(input, tariff, { timeZone: '+01:00', rounding: 'half-up' }).code).toBe('TimeZoneInvalid');
  });

  it('refuses a bad timeline with the path of the sample', () => {
    const bad = (samples: Parameters<typeof timelineAt>[3]) =>
      refused(timelineAt('2025-06-03T10:00', ZONE, 60, samples), tariff, { timeZone: ZONE, rounding: 'half-up' });
    expect(bad([[-1, 0, 'Charging']])).toEqual({
      code: 'TimelineInvalid',
      path: '$.samples[0].at',
      message: 'is before startedAt',
    });
    expect(bad([[61, 0, 'Charging']])).toEqual({
      code: 'TimelineInvalid',
      path: '$.samples[0].at',
      message: 'is after endedAt',
    });
    expect(
      bad([
        [10, 0, 'Charging'],
        [5, 0, 'Charging'],
      ]),
    ).toEqual({
      code: 'TimelineInvalid',
      path: '$.samples[1].at',
      message: 'samples must be in time order',
    });
    expect(
      bad([
        [10, 5, 'Charging'],
        [20, 4, 'Charging'],
      ]),
    ).toEqual({
      code: 'TimelineInvalid',
      path: '$.samples[1].energyWh',
      message: 'is less than the previous sample: the cumulative energy must never decrease',
    });
    expect(bad([[10, 1.2345, 'Charging']])).toEqual({
      code: 'TimelineInvalid',
      path: '$.samples[0].energyWh',
      message: 'expected at most 3 decimals (1 mWh)',
    });
    expect(bad([[10, 1, 'Plugged' as never]])).toEqual({
      code: 'TimelineInvalid',
      path: '$.samples[0].state',
      message: 'expected one of Charging, SuspendedEV, SuspendedEVSE, EVConnected, Idle',
    });
  });

  it('refuses CDR periods out of order, dimensions given twice, and reservation mixed with charging', () => {
    const options = { timeZone: ZONE, rounding: 'half-up' } as const;
    expect(
      refused(
        cdrAt('2025-06-03T10:00', '2025-06-03T12:00', [
          ['2025-06-03T11:00', [['ENERGY', 1]]],
          ['2025-06-03T10:00', [['ENERGY', 1]]],
        ]),
        tariff,
        options,
      ),
    ).toEqual({
      code: 'CdrInvalid',
      path: '$.charging_periods[1].start_date_time',
      message: 'charging periods must be in time order',
    });
    expect(
      refused(
        cdrAt('2025-06-03T10:00', '2025-06-03T12:00', [
          [
            '2025-06-03T10:00',
            [
              ['ENERGY', 1],
              ['ENERGY', 2],
            ],
          ],
        ]),
        tariff,
        options,
      ),
    ).toEqual({
      code: 'CdrInvalid',
      path: '$.charging_periods[0].dimensions[1].type',
      message: 'ENERGY appears twice in one period',
    });
    expect(
      refused(
        cdrAt('2025-06-03T10:00', '2025-06-03T12:00', [
          [
            '2025-06-03T10:00',
            [
              ['RESERVATION_TIME', 1],
              ['ENERGY', 2],
            ],
          ],
        ]),
        tariff,
        options,
      ),
    ).toEqual({
      code: 'CdrInvalid',
      path: '$.charging_periods[0].dimensions',
      message: 'a period cannot hold RESERVATION_TIME together with ENERGY, TIME or PARKING_TIME',
    });
    expect(
      refused(cdrAt('2025-06-03T10:00', '2025-06-03T12:00', [['2025-06-03T10:00', [['ENERGY', -1]]]]), tariff, options),
    ).toEqual({
      code: 'CdrInvalid',
      path: '$.charging_periods[0].dimensions[0].volume',
      message: 'expected a non-negative number',
    });
    expect(
      refused({ kind: 'cdr', startedAt: new Date(0), endedAt: new Date(1), periods: [] }, tariff, options),
    ).toEqual({
      code: 'CdrInvalid',
      path: '$.charging_periods',
      message: 'expected at least one charging period',
    });
  });

  it('warns about periods outside start/end, volumes finer than 1 ms, unknown dimensions, and an expired tariff', () => {
    const expiring = tariffWith([{ price_components: [{ type: 'TIME', price: 1, step_size: 1 }] }], {
      end_date_time: '2025-01-01T00:00:00Z',
    });
    const session = priced(
      cdrAt('2025-06-03T10:00', '2025-06-03T11:00', [
        [
          '2025-06-03T09:59',
          [
            ['TIME', '0.0166666667'],
            ['BATTERY_TEMPERATURE', 31],
          ],
        ],
        ['2025-06-03T10:00', [['TIME', 1]]],
      ]),
      expiring,
      ZONE,
    );
    expect(session.warnings).toEqual([
      'volume_rounded: $.charging_periods[0].dimensions[0].volume: 0.0166666667 h is finer than 1 ms and was priced as 60000 ms',
      'dimension_ignored: $.charging_periods[0].dimensions[1].type: "BATTERY_TEMPERATURE" is not an OCPI 2.2.1 type',
      'periods_outside_start_end_date_time',
      "tariff_not_valid_at_session_start: the session started outside the tariff's start_date_time/end_date_time",
    ]);
    expect(session.ocpi.total_time).toBe(1.016666667);
  });
});

describe('the OCPI CDR fields', () => {
  it('fills every total_* field, exact, and the periods with their tariff_id', () => {
    const tariff = tariffOf({
      id: 'full',
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'FLAT', price: 1, vat: 21, step_size: 0 },
            { type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 },
            { type: 'TIME', price: 0.6, vat: 21, step_size: 60 },
            { type: 'PARKING_TIME', price: 4.8, vat: 21, step_size: 60 },
          ],
        },
      ],
    });
    const session = priced(
      timelineAt('2025-06-03T10:00', ZONE, 75, [
        [0, 0, 'Charging'],
        [60, 11_000.5, 'SuspendedEV'],
      ]),
      tariff,
      ZONE,
    );
    const { tariffs, charging_periods, ...totals } = session.ocpi;
    expect(tariffs).toEqual([tariff.ocpi]);
    expect(totals).toEqual({
      start_date_time: '2025-06-03T08:00:00.000Z',
      end_date_time: '2025-06-03T09:15:00.000Z',
      currency: 'EUR',
      total_cost: { excl_vat: 6.65035, incl_vat: 8.0469235 },
      total_fixed_cost: { excl_vat: 1, incl_vat: 1.21 },
      total_energy: 11.0005,
      // step_size 1 Wh bills 11000.5 Wh as 11001 Wh.
      total_energy_cost: { excl_vat: 3.85035, incl_vat: 4.6589235 },
      total_time: 1.25,
      total_time_cost: { excl_vat: 0.6, incl_vat: 0.726 },
      total_parking_time: 0.25,
      total_parking_cost: { excl_vat: 1.2, incl_vat: 1.452 },
      total_reservation_cost: { excl_vat: 0, incl_vat: 0 },
    });
    expect(charging_periods).toEqual([
      {
        start_date_time: '2025-06-03T08:00:00.000Z',
        dimensions: [
          { type: 'ENERGY', volume: 11.0005 },
          { type: 'TIME', volume: 1 },
        ],
        tariff_id: 'full',
      },
      {
        start_date_time: '2025-06-03T09:00:00.000Z',
        dimensions: [{ type: 'PARKING_TIME', volume: 0.25 }],
        tariff_id: 'full',
      },
    ]);
    expect(totalsOf(session)).toEqual(['6.65', '8.05']);
  });
});
