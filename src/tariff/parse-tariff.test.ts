import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTariff, type TariffInvalid } from './parse-tariff.ts';
import type { Tariff } from './tariff.ts';

const CONFORMANCE = new URL('../../test/conformance/', import.meta.url);

function valid(json: unknown): Tariff {
  const parsed = parseTariff(json);
  if (!parsed.ok) throw new Error(`${parsed.error.path}: ${parsed.error.message}`);
  return parsed.value;
}

function invalid(json: unknown): TariffInvalid {
  const parsed = parseTariff(json);
  if (parsed.ok) throw new Error('expected the tariff to be refused');
  return parsed.error;
}

const base = () => ({
  id: 't1',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 }] }] as unknown[],
});

/** A tariff whose first element has the given restrictions. */
const restricted = (restrictions: unknown) => ({
  ...base(),
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, step_size: 1 }], restrictions }],
});

/** A tariff whose first component is replaced by the given one. */
const component = (c: unknown) => ({ ...base(), elements: [{ price_components: [c] }] });

describe('parseTariff: every public tariff parses', () => {
  const tandemdrive = new URL('tandemdrive-ocpi-tariffs/ocpi-tariffs/test_data/', CONFORMANCE);
  for (const dir of readdirSync(tandemdrive)) {
    it(`tandemdrive ${dir}/tariff.json`, () => {
      const json = JSON.parse(readFileSync(new URL(`${dir}/tariff.json`, tandemdrive), 'utf8'));
      expect(valid(json).id).toBe(json.id);
    });
  }
  const examples = new URL('ocpi-spec-examples/examples/', CONFORMANCE);
  for (const file of readdirSync(examples).filter((f) => f.startsWith('tariff'))) {
    it(`OCPI example ${file}`, () => {
      const json = JSON.parse(readFileSync(new URL(file, examples), 'utf8'));
      expect(valid(json).elements.length).toBe(json.elements.length);
    });
  }
  it('the tariff embedded in the hamza-nabil CDR (48 elements)', () => {
    const cdr = JSON.parse(
      readFileSync(new URL('hamza-nabil-ocpi-tariffs-py/codeberg_issue_228/cdr.json', CONFORMANCE), 'utf8'),
    );
    expect(valid(cdr.tariffs[0]).elements.length).toBe(48);
  });
});

describe('parseTariff: the model', () => {
  it('keeps the OCPI fields and adds exact numbers', () => {
    const tariff = valid({
      ...base(),
      country_code: 'NL',
      party_id: 'VBL',
      type: 'REGULAR',
      tariff_alt_text: [{ language: 'en', text: 'Cheap' }],
      tariff_alt_url: 'https://example.com/t1',
      min_price: { excl_vat: 0.5, incl_vat: 0.605 },
      max_price: { excl_vat: '40.123456789', incl_vat: 48.55 },
      elements: [
        {
          price_components: [
            { type: 'ENERGY', price: 0.123456789, vat: 5.2, step_size: 100 },
            { type: 'TIME', price: '1.20', step_size: 60 },
          ],
          restrictions: { start_time: '22:00', end_time: '06:00', day_of_week: ['SATURDAY', 'SUNDAY'], min_kwh: 1.5 },
        },
      ],
      start_date_time: '2025-01-01T00:00:00Z',
      end_date_time: '2026-01-01T00:00:00Z',
      energy_mix: { is_green_energy: true },
      last_updated: '2024-12-01T10:00:00Z',
    });
    expect(tariff.currency).toBe('EUR');
    expect(tariff.min_price).toEqual({
      excl_vat: 0.5,
      incl_vat: 0.605,
      exclVatNano: 500_000_000n,
      inclVatNano: 605_000_000n,
    });
    expect(tariff.max_price?.exclVatNano).toBe(40_123_456_789n);
    const [energy, time] = tariff.elements[0]?.price_components ?? [];
    expect(energy).toEqual({
      type: 'ENERGY',
      price: 0.123456789,
      vat: 5.2,
      step_size: 100,
      priceNanoPerUnit: 123_456_789n,
      vatRatePpm: 52_000n,
      stepMilliUnits: 100_000,
      priceText: '0.123456789',
      vatText: '5.2',
    });
    expect(time).toEqual({
      type: 'TIME',
      price: 1.2,
      step_size: 60,
      priceNanoPerUnit: 1_200_000_000n,
      vatRatePpm: null,
      stepMilliUnits: 60_000,
      priceText: '1.20',
      vatText: null,
    });
    expect(tariff.elements[0]?.compiled).toEqual({
      unrestricted: false,
      timeWindow: 'past-midnight',
      startTimeOfDayMs: 22 * 3_600_000,
      endTimeOfDayMs: 6 * 3_600_000,
      startDay: Number.NEGATIVE_INFINITY,
      endDay: Number.POSITIVE_INFINITY,
      dayOfWeekMask: 0b110_0000,
      minEnergyMilliWh: 1_500_000,
      maxEnergyMilliWh: Number.POSITIVE_INFINITY,
      minDurationMs: Number.NEGATIVE_INFINITY,
      maxDurationMs: Number.POSITIVE_INFINITY,
      minCurrentA: null,
      maxCurrentA: null,
      minPowerW: null,
      maxPowerW: null,
      reservation: null,
    });
    expect(tariff.plan.validFromMs).toBe(Date.UTC(2025, 0, 1));
    expect(tariff.plan.amountScale.decimals).toBe(9 + 6 + 3);
  });

  it('keeps the original JSON, unknown fields included, deep-frozen, as `ocpi`', () => {
    const json = {
      ...base(),
      tax_included: 'NO',
      elements: [{ price_components: [{ type: 'FLAT', price: 1, step_size: 1, x_extra: [1] }] }],
    };
    const tariff = valid(json);
    expect(tariff.ocpi).toEqual(json);
    expect(tariff.ocpi).not.toBe(json);
    expect(Object.isFrozen(tariff.ocpi)).toBe(true);
    expect(Object.isFrozen((tariff.ocpi.elements as { price_components: unknown[] }[])[0]?.price_components[0])).toBe(
      true,
    );
  });

  it('treats null like an absent optional field', () => {
    const tariff = valid({
      ...base(),
      type: null,
      min_price: null,
      elements: [{ price_components: [{ type: 'FLAT', price: 1, vat: null, step_size: 0 }], restrictions: null }],
    });
    expect(tariff.type).toBeUndefined();
    expect(tariff.elements[0]?.price_components[0]?.vatRatePpm).toBeNull();
    expect(tariff.elements[0]?.compiled.unrestricted).toBe(true);
  });

  it('compiles the time-of-day rules: end 00:00 is the end of the day, 00:00-00:00 the whole day, start == end never', () => {
    const window = (restrictions: unknown) => {
      const c = valid(restricted(restrictions)).elements[0]?.compiled;
      return [c?.timeWindow, c?.startTimeOfDayMs, c?.endTimeOfDayMs];
    };
    expect(window({ start_time: '20:00', end_time: '00:00' })).toEqual(['within-day', 72_000_000, 86_400_000]);
    expect(window({ start_time: '00:00', end_time: '00:00' })).toEqual(['none', 0, 86_400_000]);
    expect(window({ start_time: '17:00', end_time: '17:00' })).toEqual(['never', 61_200_000, 61_200_000]);
    expect(window({ start_time: '17:00' })).toEqual(['within-day', 61_200_000, 86_400_000]);
    expect(window({ end_time: '17:00' })).toEqual(['within-day', 0, 61_200_000]);
    expect(window({ start_time: '23:30', end_time: '01:15' })).toEqual(['past-midnight', 84_600_000, 4_500_000]);
  });

  it('reads an empty day_of_week list as no restriction', () => {
    expect(valid(restricted({ day_of_week: [] })).elements[0]?.compiled.unrestricted).toBe(true);
  });

  it('accepts every ISO 4217 currency with a minor unit: 0, 2, 3 and 4 decimals', () => {
    for (const currency of ['JPY', 'EUR', 'KWD', 'CLF']) expect(valid({ ...base(), currency }).currency).toBe(currency);
  });
});

describe('parseTariff: refusals name the JSON path', () => {
  const cases: [string, unknown, string, string][] = [
    ['not an object', [], '$', 'expected an object'],
    ['no id', { currency: 'EUR', elements: [] }, '$.id', 'is required'],
    ['id too long', { ...base(), id: 'x'.repeat(37) }, '$.id', 'expected a string of at most 36 characters'],
    ['no elements', { id: 'a', currency: 'EUR' }, '$.elements', 'is required'],
    ['empty elements', { ...base(), elements: [] }, '$.elements', 'expected an array with at least 1 item'],
    [
      'empty components',
      { ...base(), elements: [{ price_components: [] }] },
      '$.elements[0].price_components',
      'expected an array with at least 1 item',
    ],
    [
      'unknown type',
      component({ type: 'PARKING', price: 1, step_size: 1 }),
      '$.elements[0].price_components[0].type',
      'expected one of ENERGY, FLAT, PARKING_TIME, TIME',
    ],
    [
      'negative price',
      component({ type: 'ENERGY', price: -0.25, step_size: 1 }),
      '$.elements[0].price_components[0].price',
      'expected a non-negative number',
    ],
    [
      'price as text',
      component({ type: 'ENERGY', price: 'cheap', step_size: 1 }),
      '$.elements[0].price_components[0].price',
      'expected a non-negative number',
    ],
    [
      'price finer than 10^-9',
      component({ type: 'ENERGY', price: 0.1234567891, step_size: 1 }),
      '$.elements[0].price_components[0].price',
      'expected a non-negative number with at most 9 decimal places',
    ],
    [
      'vat above 100',
      component({ type: 'ENERGY', price: 1, vat: 121, step_size: 1 }),
      '$.elements[0].price_components[0].vat',
      'expected a VAT percentage between 0 and 100',
    ],
    [
      'vat negative',
      component({ type: 'ENERGY', price: 1, vat: -1, step_size: 1 }),
      '$.elements[0].price_components[0].vat',
      'expected a non-negative number',
    ],
    [
      'vat finer than 10^-4',
      component({ type: 'ENERGY', price: 1, vat: 7.12345, step_size: 1 }),
      '$.elements[0].price_components[0].vat',
      'expected a non-negative number with at most 4 decimal places',
    ],
    [
      'no step_size',
      component({ type: 'ENERGY', price: 1 }),
      '$.elements[0].price_components[0].step_size',
      'is required',
    ],
    [
      'fractional step_size',
      component({ type: 'ENERGY', price: 1, step_size: 1.5 }),
      '$.elements[0].price_components[0].step_size',
      'expected an integer between 0 and 1000000000',
    ],
    [
      'negative step_size',
      component({ type: 'ENERGY', price: 1, step_size: -1 }),
      '$.elements[0].price_components[0].step_size',
      'expected an integer between 0 and 1000000000',
    ],
    [
      'two ENERGY components in one element',
      {
        ...base(),
        elements: [
          {
            price_components: [
              { type: 'ENERGY', price: 1, step_size: 1 },
              { type: 'ENERGY', price: 2, step_size: 1 },
            ],
          },
        ],
      },
      '$.elements[0].price_components[1].type',
      'a second ENERGY component in one element is ambiguous; split it into two elements',
    ],
    [
      'bad start_time',
      restricted({ start_time: '24:00' }),
      '$.elements[0].restrictions.start_time',
      'expected a time of day HH:MM between 00:00 and 23:59',
    ],
    [
      'bad end_time',
      restricted({ end_time: '7:00' }),
      '$.elements[0].restrictions.end_time',
      'expected a time of day HH:MM between 00:00 and 23:59',
    ],
    [
      'bad start_date',
      restricted({ start_date: '2025-02-30' }),
      '$.elements[0].restrictions.start_date',
      'expected a date YYYY-MM-DD',
    ],
    [
      'dates reversed',
      restricted({ start_date: '2025-03-01', end_date: '2025-02-01' }),
      '$.elements[0].restrictions.start_date',
      'must not exceed end_date',
    ],
    [
      'bad day name',
      restricted({ day_of_week: ['MONDAY', 'Funday'] }),
      '$.elements[0].restrictions.day_of_week[1]',
      'expected one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY',
    ],
    [
      'day twice',
      restricted({ day_of_week: ['MONDAY', 'MONDAY'] }),
      '$.elements[0].restrictions.day_of_week[1]',
      'MONDAY is listed twice',
    ],
    [
      'min_kwh > max_kwh',
      restricted({ min_kwh: 10, max_kwh: 5 }),
      '$.elements[0].restrictions.min_kwh',
      'must not exceed max_kwh',
    ],
    [
      'kWh finer than 1 mWh',
      restricted({ min_kwh: 0.0000001 }),
      '$.elements[0].restrictions.min_kwh',
      'expected a non-negative number with at most 6 decimal places',
    ],
    [
      'negative current',
      restricted({ min_current: -5 }),
      '$.elements[0].restrictions.min_current',
      'expected a non-negative number',
    ],
    [
      'power finer than 1 W',
      restricted({ max_power: 11.0001 }),
      '$.elements[0].restrictions.max_power',
      'expected a non-negative number with at most 3 decimal places',
    ],
    [
      'min_power > max_power',
      restricted({ min_power: 22, max_power: 11 }),
      '$.elements[0].restrictions.min_power',
      'must not exceed max_power',
    ],
    [
      'fractional duration',
      restricted({ max_duration: 1.5 }),
      '$.elements[0].restrictions.max_duration',
      'expected an integer between 0 and 315360000',
    ],
    [
      'min_duration > max_duration',
      restricted({ min_duration: 600, max_duration: 60 }),
      '$.elements[0].restrictions.min_duration',
      'must not exceed max_duration',
    ],
    [
      'bad reservation',
      restricted({ reservation: 'YES' }),
      '$.elements[0].restrictions.reservation',
      'expected one of RESERVATION, RESERVATION_EXPIRES',
    ],
    [
      'ENERGY in a reservation element',
      {
        ...base(),
        elements: [
          {
            price_components: [{ type: 'ENERGY', price: 1, step_size: 1 }],
            restrictions: { reservation: 'RESERVATION' },
          },
        ],
      },
      '$.elements[0].price_components[0].type',
      'a reservation element can only have FLAT and TIME components',
    ],
    [
      'min_price without incl_vat while components carry VAT',
      { ...base(), min_price: { excl_vat: 1 } },
      '$.min_price.incl_vat',
      'is required because components of this tariff carry VAT (the limit including VAT cannot be derived)',
    ],
    [
      'min_price above max_price',
      { ...base(), min_price: { excl_vat: 5, incl_vat: 6 }, max_price: { excl_vat: 4, incl_vat: 7 } },
      '$.min_price.excl_vat',
      'must not exceed max_price.excl_vat',
    ],
    [
      'bad type',
      { ...base(), type: 'CHEAP' },
      '$.type',
      'expected one of AD_HOC_PAYMENT, PROFILE_CHEAP, PROFILE_FAST, PROFILE_GREEN, REGULAR',
    ],
    [
      'bad country_code',
      { ...base(), country_code: 'NLD' },
      '$.country_code',
      'expected a string of exactly 2 characters',
    ],
    ['bad alt text', { ...base(), tariff_alt_text: [{ language: 'en' }] }, '$.tariff_alt_text[0].text', 'is required'],
    ['bad alt url', { ...base(), tariff_alt_url: 'not a url' }, '$.tariff_alt_url', 'expected an absolute URL'],
    [
      'bad start_date_time',
      { ...base(), start_date_time: '2025-13-01T00:00:00Z' },
      '$.start_date_time',
      'expected an RFC 3339 date-time with a valid calendar date and time of day',
    ],
    [
      'validity reversed',
      { ...base(), start_date_time: '2025-02-01T00:00:00Z', end_date_time: '2025-01-01T00:00:00Z' },
      '$.end_date_time',
      'must be later than start_date_time',
    ],
    ['energy_mix not an object', { ...base(), energy_mix: 'green' }, '$.energy_mix', 'expected an object'],
  ];
  for (const [name, json, path, message] of cases) {
    it(name, () => {
      expect(invalid(json)).toEqual({ code: 'TariffInvalid', path, message });
    });
  }

  it('refuses an unknown currency with its own code and path $.currency', () => {
    expect(invalid({ ...base(), currency: 'XAU' })).toEqual({
      code: 'UnknownCurrency',
      path: '$.currency',
      currency: 'XAU',
      message: "unknown currency 'XAU': use an ISO 4217 alphabetic code with a minor unit, e.g. EUR",
    });
    expect(invalid({ ...base(), currency: 'EURO' }).code).toBe('UnknownCurrency');
  });
});
