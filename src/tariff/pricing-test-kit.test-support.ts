/**
 * Builders shared by the tariff tests: tariffs from compact JSON, timelines in local wall-clock time, and short
 * views of priced sessions. Test support only (imported by *.test.ts files, never by the engine).
 */
import { DateTime } from 'luxon';
import type { RoundingMode } from '../shared/decimal.ts';
import { formatMoney } from '../shared/money.ts';
import { parseTariff } from './parse-tariff.ts';
import { priceSession } from './price-session.ts';
import type { PricedSession } from './priced-session.ts';
import type { PricingError } from './pricing-error.ts';
import type { ChargingState, PricingInput, PricingOptions, TimelineSample } from './pricing-input.ts';
import type { Tariff } from './tariff.ts';

export function tariffOf(json: unknown): Tariff {
  const parsed = parseTariff(json);
  if (!parsed.ok) throw new Error(`${parsed.error.path}: ${parsed.error.message}`);
  return parsed.value;
}

/** A tariff with the given elements, in EUR unless said otherwise. */
export function tariffWith(elements: unknown[], extra: Record<string, unknown> = {}): Tariff {
  return tariffOf({ id: 'test', currency: 'EUR', elements, ...extra });
}

/** A local wall-clock time (ISO without offset) in `zone` as an instant. */
export function localTime(text: string, zone: string): Date {
  const at = DateTime.fromISO(text, { zone });
  if (!at.isValid) throw new Error(`invalid local time ${text}`);
  return at.toJSDate();
}

/** [minutes after start, cumulative Wh, state, powerW?, currentA?] */
export type SampleSpec = [number, number, ChargingState, number?, number?];

/** A timeline that starts at a local time and lasts `durationMinutes`; samples are offsets in minutes. */
export function timelineAt(
  startLocal: string,
  zone: string,
  durationMinutes: number,
  samples: SampleSpec[],
): PricingInput {
  const startMs = localTime(startLocal, zone).getTime();
  return {
    kind: 'timeline',
    timeline: {
      startedAt: new Date(startMs),
      endedAt: new Date(startMs + durationMinutes * 60_000),
      samples: samples.map(([minutes, energyWh, state, powerW, currentA]): TimelineSample => {
        const sample: { at: Date; energyWh: number; state: ChargingState; powerW?: number; currentA?: number } = {
          at: new Date(startMs + minutes * 60_000),
          energyWh,
          state,
        };
        if (powerW !== undefined) sample.powerW = powerW;
        if (currentA !== undefined) sample.currentA = currentA;
        return sample;
      }),
    },
  };
}

export function priced(
  input: PricingInput,
  tariff: Tariff,
  zone: string,
  rounding: RoundingMode = 'half-up',
  extra: Partial<PricingOptions> = {},
): PricedSession {
  const result = priceSession(input, tariff, { timeZone: zone, rounding, ...extra });
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

export function refused(input: PricingInput, tariff: Tariff, options: PricingOptions): PricingError {
  const result = priceSession(input, tariff, options);
  if (result.ok) throw new Error('expected pricing to be refused');
  return result.error;
}

/** Lines as [dimension, element, billed volume, excl, incl] with money rounded to the minor unit. */
export function lineSummary(session: PricedSession): [string, number | null, string, string, string][] {
  return session.lines.map((line) => [
    line.dimension,
    line.elementIndex,
    line.volume,
    formatMoney(line.exclVat),
    formatMoney(line.inclVat),
  ]);
}

export function totalsOf(session: PricedSession): [string, string] {
  return [formatMoney(session.totals.exclVat), formatMoney(session.totals.inclVat)];
}
