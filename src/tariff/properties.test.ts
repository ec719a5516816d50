/**
 * Properties of the engine over random tariffs and sessions (fast-check):
 * - pricing a timeline equals pricing the CDR built from it;
 * - re-cutting at points where no restriction changes leaves the price unchanged (timeline and CDR);
 * - the price never decreases with more energy or time, for non-negative prices and step_size 0 (OCPI's
 *   step_size rule is not monotone: docs/tariffs.md shows a session that gets cheaper by parking a minute more);
 * - totals equal the sum of the rounded lines, and min_price <= total <= max_price, exact and rounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScaled } from '../shared/decimal.ts';
import { parseTariff } from './parse-tariff.ts';
import { priceSession } from './price-session.ts';
import type { PricedSession } from './priced-session.ts';
import type { CdrChargingPeriod, ChargingState, PricingInput, TimelineSample } from './pricing-input.ts';
import type { Tariff } from './tariff.ts';

const ZONES = ['Europe/Amsterdam', 'America/New_York', 'Asia/Kolkata', 'UTC'];
const STATES: ChargingState[] = ['Charging', 'SuspendedEV', 'SuspendedEVSE', 'EVConnected', 'Idle'];
/** Session starts: ordinary days and both 2025 DST change days of Europe and the US. */
const DAYS = ['2025-03-09', '2025-03-30', '2025-06-03', '2025-10-26', '2025-11-02', '2025-12-31'];
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) };

const price = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 50_000 }).map((n) => n / 10_000),
  fc.integer({ min: 1, max: 500 }).map((n) => n / 100),
);
const vat = fc.constantFrom(undefined, 0, 5.2, 9, 21);
const timeOfDay = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const range = (min: number, max: number) =>
  fc
    .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);

const restrictions = fc
  .record(
    {
      start_time: timeOfDay,
      end_time: timeOfDay,
      day_of_week: fc.subarray(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY']),
      kwh: range(0, 60),
      duration: range(0, 4 * 3600),
      power: range(0, 50),
      current: range(0, 64),
    },
    { requiredKeys: [] },
  )
  .map((r) => {
    const out: Record<string, unknown> = {};
    if (r.start_time !== undefined) out.start_time = r.start_time;
    if (r.end_time !== undefined) out.end_time = r.end_time;
    if (r.day_of_week !== undefined) out.day_of_week = r.day_of_week;
    if (r.kwh !== undefined) [out.min_kwh, out.max_kwh] = r.kwh;
    if (r.duration !== undefined) [out.min_duration, out.max_duration] = r.duration;
    if (r.power !== undefined) [out.min_power, out.max_power] = r.power;
    if (r.current !== undefined) [out.min_current, out.max_current] = r.current;
    return out;
  });

/** Elements with 1-3 components of distinct types, with or without restrictions. */
function elementsArbitrary(steps: fc.Arbitrary<number>) {
  const component = (type: string) =>
    fc.record({ price, vat, step: steps }).map(({ price, vat, step }) => {
      const c: Record<string, unknown> = { type, price, step_size: step };
      if (vat !== undefined) c.vat = vat;
      return c;
    });
  const element = fc
    .record({
      components: fc
        .subarray(['ENERGY', 'TIME', 'PARKING_TIME', 'FLAT'], { minLength: 1, maxLength: 3 })
        .chain((types) => fc.tuple(...types.map(component))),
      restrictions: fc.option(restrictions, { nil: undefined }),
    })
    .map(({ components, restrictions }) =>
      restrictions === undefined ? { price_components: components } : { price_components: components, restrictions },
    );
  return fc.array(element, { minLength: 1, maxLength: 5 });
}

/** A tariff, sometimes with price limits (incl. VAT given whenever a component has VAT). */
function tariffArbitrary(steps: fc.Arbitrary<number>) {
  return fc
    .record({
      elements: elementsArbitrary(steps),
      limits: fc.option(range(0, 4000), { nil: undefined }),
      currency: fc.constantFrom('EUR', 'EUR', 'JPY', 'KWD'),
    })
    .map(({ elements, limits, currency }) => {
      const json: Record<string, unknown> = { id: 'prop', currency, elements };
      if (limits !== undefined) {
        json.min_price = { excl_vat: limits[0] / 100, incl_vat: limits[0] / 100 };
        json.max_price = { excl_vat: limits[1] / 100, incl_vat: Math.round(limits[1] * 1.3) / 100 };
      }
      const parsed = parseTariff(json);
      if (!parsed.ok) throw new Error(`${parsed.error.path}: ${parsed.error.message}`);
      return parsed.value;
    });
}

type Segment = { seconds: number; wattsAverage: number; state: ChargingState; powerW: number; currentA: number };

const segment = fc.record({
  seconds: fc.integer({ min: 0, max: 3 * 3600 }),
  wattsAverage: fc.integer({ min: 0, max: 50_000 }),
  state: fc.constantFrom(...STATES),
  powerW: fc.integer({ min: 0, max: 50_000 }),
  currentA: fc.integer({ min: 0, max: 64 }),
});

/**
 * A session: a start, segments between samples (whole seconds, energy rising by a whole number of mWh per
 * second so that any whole second splits it exactly), and time after the last sample.
 */
const session = fc.record({
  day: fc.constantFrom(...DAYS),
  startMinute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
  zone: fc.constantFrom(...ZONES),
  segments: fc.array(segment, { minLength: 1, maxLength: 8 }),
  tailSeconds: fc.integer({ min: 0, max: 3600 }),
});
type Session = typeof session extends fc.Arbitrary<infer T> ? T : never;

function timelineOf(s: Session): PricingInput {
  const startMs = Date.parse(`${s.day}T00:00:00Z`) + s.startMinute * 60_000;
  const samples: TimelineSample[] = [];
  let atMs = startMs;
  let milliWh = 0;
  for (const seg of s.segments) {
    samples.push({
      at: new Date(atMs),
      energyWh: milliWh / 1000,
      state: seg.state,
      powerW: seg.powerW,
      currentA: seg.currentA,
    });
    atMs += seg.seconds * 1000;
    // mWh per second = W / 3.6, kept whole.
    milliWh += seg.seconds * Math.floor(seg.wattsAverage / 3.6);
  }
  const last = s.segments[s.segments.length - 1] as Segment;
  samples.push({
    at: new Date(atMs),
    energyWh: milliWh / 1000,
    state: last.state,
    powerW: last.powerW,
    currentA: last.currentA,
  });
  return {
    kind: 'timeline',
    timeline: { startedAt: new Date(startMs), endedAt: new Date(atMs + s.tailSeconds * 1000), samples },
  };
}

function priceOf(input: PricingInput, tariff: Tariff, zone: string): PricedSession {
  const result = priceSession(input, tariff, { timeZone: zone, rounding: 'half-up' });
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

/** The CDR a priced timeline produced, as CDR input again. */
function cdrOf(priced: PricedSession): PricingInput {
  return {
    kind: 'cdr',
    startedAt: new Date(priced.ocpi.start_date_time),
    endedAt: new Date(priced.ocpi.end_date_time),
    periods: priced.ocpi.charging_periods.map(
      (p): CdrChargingPeriod => ({ startedAt: new Date(p.start_date_time), dimensions: p.dimensions }),
    ),
  };
}

/** What must not change: every line (rounded and unrounded) and both totals. */
function bill(priced: PricedSession) {
  return {
    lines: priced.lines.map((l) => [
      l.dimension,
      l.elementIndex,
      l.volume,
      l.unroundedExclVat,
      l.unroundedInclVat,
      l.exclVat.minor,
      l.inclVat.minor,
    ]),
    totals: [priced.totals.exclVat.minor, priced.totals.inclVat.minor],
    unrounded: priced.unroundedTotals,
    cost: priced.ocpi.total_cost,
  };
}

describe('properties', () => {
  it('pricing a timeline equals pricing the CDR built from it', () => {
    fc.assert(
      fc.property(tariffArbitrary(fc.constantFrom(0, 1, 60, 300, 900)), session, (tariff, s) => {
        const fromTimeline = priceOf(timelineOf(s), tariff, s.zone);
        const fromCdr = priceOf(cdrOf(fromTimeline), tariff, s.zone);
        expect(bill(fromCdr)).toEqual(bill(fromTimeline));
        expect(fromCdr.ocpi.total_time).toBe(fromTimeline.ocpi.total_time);
        expect(fromCdr.ocpi.total_energy).toBe(fromTimeline.ocpi.total_energy);
      }),
      RUNS,
    );
  });

  it('re-cutting a timeline at a point where no restriction changes leaves the price unchanged', () => {
    fc.assert(
      fc.property(
        tariffArbitrary(fc.constantFrom(0, 1, 60, 300, 900)),
        session,
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (tariff, s, which, where) => {
          const input = timelineOf(s);
          if (input.kind !== 'timeline') throw new Error('timeline');
          const samples = input.timeline.samples;
          const index = which % (samples.length - 1);
          const from = samples[index] as TimelineSample;
          const to = samples[index + 1] as TimelineSample;
          const seconds = (to.at.getTime() - from.at.getTime()) / 1000;
          fc.pre(seconds >= 2);
          // A whole second strictly inside the segment; energy on the same straight line, exact to the mWh.
          const offset = 1 + Math.floor(where * (seconds - 1));
          // mWh per second: whole by construction of the session.
          const rate = (Math.round(to.energyWh * 1000) - Math.round(from.energyWh * 1000)) / seconds;
          const inserted: TimelineSample = {
            ...from,
            at: new Date(from.at.getTime() + offset * 1000),
            energyWh: (Math.round(from.energyWh * 1000) + rate * offset) / 1000,
          };
          const recut: PricingInput = {
            kind: 'timeline',
            timeline: {
              ...input.timeline,
              samples: [...samples.slice(0, index + 1), inserted, ...samples.slice(index + 1)],
            },
          };
          expect(bill(priceOf(recut, tariff, s.zone))).toEqual(bill(priceOf(input, tariff, s.zone)));
        },
      ),
      RUNS,
    );
  });

  it('splitting a CDR period where the split part gets the same elements leaves the price unchanged', () => {
    fc.assert(
      fc.property(
        tariffArbitrary(fc.constantFrom(0, 1, 60, 300, 900)),
        session,
        fc.nat(),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        (tariff, s, which, where) => {
          const cdr = cdrOf(priceOf(timelineOf(s), tariff, s.zone));
          if (cdr.kind !== 'cdr') throw new Error('cdr');
          const original = priceOf(cdr, tariff, s.zone);
          const index = which % cdr.periods.length;
          const period = original.periods[index];
          fc.pre(period !== undefined && period.endMs - period.startMs >= 2000);
          const source = cdr.periods[index] as CdrChargingPeriod;
          const p = period as NonNullable<typeof period>;
          // Split the period's time and energy at a whole second, in proportion, exactly (ms and mWh).
          const splitMs = Math.max(1000, Math.floor(((p.endMs - p.startMs) * where) / 1000) * 1000);
          const share = (volume: number) => Math.floor((volume * splitMs) / (p.endMs - p.startMs));
          const energyFirst = share(p.energyMilliWh);
          const timeFirst = share(p.timeMs);
          const parkingFirst = share(p.parkingTimeMs);
          const dims = (energy: number, time: number, parking: number) =>
            source.dimensions.map((d) =>
              d.type === 'ENERGY'
                ? { type: d.type, volume: energy / 1e6 }
                : d.type === 'TIME'
                  ? { type: d.type, volume: `${time / 3.6e6}` }
                  : d.type === 'PARKING_TIME'
                    ? { type: d.type, volume: `${parking / 3.6e6}` }
                    : d,
            );
          const split: PricingInput = {
            ...cdr,
            periods: [
              ...cdr.periods.slice(0, index),
              { ...source, dimensions: dims(energyFirst, timeFirst, parkingFirst) },
              {
                ...source,
                startedAt: new Date(p.startMs + splitMs),
                dimensions: dims(p.energyMilliWh - energyFirst, p.timeMs - timeFirst, p.parkingTimeMs - parkingFirst),
              },
              ...cdr.periods.slice(index + 1),
            ],
          };
          const resplit = priceOf(split, tariff, s.zone);
          const second = resplit.periods[index + 1];
          const same = (a: typeof p, b: typeof p | undefined) =>
            b !== undefined &&
            a.flatElementIndex === b.flatElementIndex &&
            (b.energyMilliWh === 0 || a.energyElementIndex === b.energyElementIndex) &&
            (b.timeMs === 0 || a.timeElementIndex === b.timeElementIndex) &&
            (b.parkingTimeMs === 0 || a.parkingTimeElementIndex === b.parkingTimeElementIndex);
          fc.pre(same(p, second) && same(p, resplit.periods[index]));
          expect(bill(resplit).totals).toEqual(bill(original).totals);
          expect(bill(resplit).unrounded).toEqual(bill(original).unrounded);
        },
      ),
      RUNS,
    );
  });

  it('never decreases the price with more time or energy (non-negative prices, step_size 0)', () => {
    fc.assert(
      fc.property(tariffArbitrary(fc.constant(0)), session, segment, (tariff, s, extra) => {
        const before = timelineOf(s);
        if (before.kind !== 'timeline') throw new Error('timeline');
        const { samples, endedAt } = before.timeline;
        const last = samples[samples.length - 1] as TimelineSample;
        // Continue from the old end with the same energy, then charge or park for a while longer.
        const moreMs = extra.seconds * 1000;
        const longer: PricingInput = {
          kind: 'timeline',
          timeline: {
            startedAt: before.timeline.startedAt,
            endedAt: new Date(endedAt.getTime() + moreMs),
            samples: [
              ...samples,
              {
                at: endedAt,
                energyWh: last.energyWh,
                state: extra.state,
                powerW: extra.powerW,
                currentA: extra.currentA,
              },
              {
                at: new Date(endedAt.getTime() + moreMs),
                energyWh:
                  (Math.round(last.energyWh * 1000) + extra.seconds * Math.floor(extra.wattsAverage / 3.6)) / 1000,
                state: extra.state,
                powerW: extra.powerW,
                currentA: extra.currentA,
              },
            ],
          },
        };
        const a = priceOf(before, tariff, s.zone);
        const b = priceOf(longer, tariff, s.zone);
        expect(b.totals.exclVat.minor >= a.totals.exclVat.minor).toBe(true);
        expect(b.totals.inclVat.minor >= a.totals.inclVat.minor).toBe(true);
        expect(scaled(b.unroundedTotals.exclVat) >= scaled(a.unroundedTotals.exclVat)).toBe(true);
        expect(scaled(b.unroundedTotals.inclVat) >= scaled(a.unroundedTotals.inclVat)).toBe(true);
      }),
      RUNS,
    );
  });

  it('totals are the sums of the rounded lines, and min_price <= total <= max_price', () => {
    fc.assert(
      fc.property(tariffArbitrary(fc.constantFrom(0, 1, 60, 300, 900)), session, (tariff, s) => {
        const priced = priceOf(timelineOf(s), tariff, s.zone);
        const excl = priced.lines.reduce((sum, l) => sum + l.exclVat.minor, 0n);
        const incl = priced.lines.reduce((sum, l) => sum + l.inclVat.minor, 0n);
        expect([priced.totals.exclVat.minor, priced.totals.inclVat.minor]).toEqual([excl, incl]);
        const limits = [
          [tariff.min_price, (a: bigint, b: bigint) => a >= b],
          [tariff.max_price, (a: bigint, b: bigint) => a <= b],
        ] as const;
        for (const [limit, holds] of limits) {
          if (limit === undefined) continue;
          const exclLimit = limit.exclVatNano * 10n ** 11n;
          const inclLimit = limit.inclVatNano * 10n ** 11n;
          expect(holds(scaled(priced.unroundedTotals.exclVat), exclLimit)).toBe(true);
          expect(holds(scaled(priced.unroundedTotals.inclVat), inclLimit)).toBe(true);
          const minorScale = 10n ** BigInt(9 - (priced.currency === 'JPY' ? 0 : priced.currency === 'KWD' ? 3 : 2));
          const rounded = (nano: bigint) => (nano + minorScale / 2n) / minorScale;
          expect(holds(priced.totals.exclVat.minor, rounded(limit.exclVatNano))).toBe(true);
          expect(holds(priced.totals.inclVat.minor, rounded(limit.inclVatNano))).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

/** A decimal string at 20 places as a bigint, for exact comparisons. */
function scaled(text: string): bigint {
  const value = parseScaled(text, 20);
  if (value === undefined) throw new Error(text);
  return value;
}
