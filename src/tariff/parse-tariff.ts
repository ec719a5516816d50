/**
 * parseTariff: the only way to obtain a Tariff. Validates an OCPI 2.2.1 Tariff document completely and returns
 * either the model with exact numbers or a typed error naming the JSON path of the first problem found.
 *
 * Stricter than OCPI where OCPI would leave the price ambiguous (each rule is in docs/tariffs.md):
 * - two components of the same type in one element (which one applies?) are rejected;
 * - a reservation element may only have FLAT and TIME components (OCPI text);
 * - min_price/max_price need incl_vat when any component carries VAT (the limit incl. VAT cannot be derived);
 * - min > max of any range is rejected; prices with more than 9 decimals are rejected, never rounded.
 * country_code, party_id and last_updated are validated when present but not required: pricing does not need them
 * and public test tariffs omit them. Unknown fields are allowed and kept in `ocpi`.
 */
import { currencyExponent, parseCurrency } from '../shared/money.ts';
import { err, ok, type Result } from '../shared/result.ts';
import { buildPricingPlan } from './build-pricing-plan.ts';
import { compileRestrictions, type RestrictionValues } from './compile-restrictions.ts';
import { formatFixed } from './exact-amount.ts';
import { parseDateTimeMs, parseDayNumber } from './parse-date-time.ts';
import {
  expectArray,
  expectDecimal,
  expectEnum,
  expectInteger,
  expectObject,
  expectString,
  itemPath,
  type JsonObject,
  JsonValueInvalid,
  memberPath,
  requireMember,
} from './read-json.ts';
import {
  DAYS_OF_WEEK,
  type DayOfWeek,
  type DisplayText,
  ENERGY_KWH_SCALE,
  POWER_KW_SCALE,
  PRICE_SCALE,
  type PriceComponent,
  RESERVATION_RESTRICTION_TYPES,
  type ReservationRestrictionType,
  TARIFF_DIMENSION_TYPES,
  TARIFF_TYPES,
  type Tariff,
  type TariffDimensionType,
  type TariffElement,
  type TariffPrice,
  type TariffRestrictions,
  VAT_PERCENT_SCALE,
} from './tariff.ts';

/** Why a tariff document was refused. `path` is a JSON path into the document, e.g. `$.elements[0].restrictions`. */
export type TariffInvalid =
  | { readonly code: 'TariffInvalid'; readonly path: string; readonly message: string }
  | {
      readonly code: 'UnknownCurrency';
      readonly path: '$.currency';
      readonly currency: string;
      readonly message: string;
    };

const TIME_OF_DAY = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
/** Largest step_size accepted: 10^9 Wh (1 GWh) or 10^9 s (31 years); keeps every derived integer exact. */
const MAX_STEP_SIZE = 1_000_000_000;
/** Largest kWh restriction accepted (1 GWh), so that mWh values stay far inside safe integers. */
const MAX_KWH_MILLI = 10n ** 15n;
/** Largest duration restriction accepted: 10 years in seconds. */
const MAX_DURATION_S = 315_360_000;

/** Validates an OCPI 2.2.1 Tariff (already JSON-parsed) and returns the exact model. Pure; never throws. */
export function parseTariff(json: unknown): Result<Tariff, TariffInvalid> {
  try {
    return readTariff(json);
  } catch (error) {
    if (error instanceof JsonValueInvalid) {
      return err({ code: 'TariffInvalid', path: error.path, message: error.reason });
    }
    throw error;
  }
}

function readTariff(json: unknown): Result<Tariff, TariffInvalid> {
  const root = expectObject(json, '$');
  const id = expectString(requireMember(root, 'id', '$'), '$.id', 36);
  const currencyText = expectString(requireMember(root, 'currency', '$'), '$.currency');
  const currency = parseCurrency(currencyText);
  if (!currency.ok) {
    return err({
      code: 'UnknownCurrency',
      path: '$.currency',
      currency: currencyText,
      message: currency.error.message,
    });
  }

  const elementsJson = expectArray(requireMember(root, 'elements', '$'), '$.elements', 1);
  const priceDecimalsShown = currencyExponent(currency.value);
  const elements = elementsJson.map((item, index) =>
    readElement(item, itemPath('$.elements', index), priceDecimalsShown),
  );
  const hasVat = elements.some((element) => element.price_components.some((c) => c.vatRatePpm !== null));

  const startDateTime = optional(root, 'start_date_time', (value, path) => readDateTime(value, path));
  const endDateTime = optional(root, 'end_date_time', (value, path) => readDateTime(value, path));
  if (startDateTime && endDateTime && startDateTime.ms >= endDateTime.ms) {
    throw new JsonValueInvalid('$.end_date_time', 'must be later than start_date_time');
  }
  const minPrice = optional(root, 'min_price', (value, path) => readPrice(value, path, hasVat));
  const maxPrice = optional(root, 'max_price', (value, path) => readPrice(value, path, hasVat));
  if (minPrice && maxPrice) {
    if (minPrice.exclVatNano > maxPrice.exclVatNano) {
      throw new JsonValueInvalid('$.min_price.excl_vat', 'must not exceed max_price.excl_vat');
    }
    if (minPrice.inclVatNano > maxPrice.inclVatNano) {
      throw new JsonValueInvalid('$.min_price.incl_vat', 'must not exceed max_price.incl_vat');
    }
  }

  const tariff: Tariff = {
    id,
    country_code: optional(root, 'country_code', (value, path) => readFixedLengthString(value, path, 2)),
    party_id: optional(root, 'party_id', (value, path) => readFixedLengthString(value, path, 3)),
    currency: currency.value,
    type: optional(root, 'type', (value, path) => expectEnum(value, path, TARIFF_TYPES)),
    tariff_alt_text: optional(root, 'tariff_alt_text', readDisplayTexts),
    tariff_alt_url: optional(root, 'tariff_alt_url', readUrl),
    min_price: minPrice,
    max_price: maxPrice,
    elements,
    start_date_time: startDateTime?.text,
    end_date_time: endDateTime?.text,
    energy_mix: optional(root, 'energy_mix', expectObject),
    last_updated: optional(root, 'last_updated', (value, path) => readDateTime(value, path).text),
    ocpi: deepFreeze(structuredClone(root)),
    plan: buildPricingPlan(
      elements,
      startDateTime?.ms ?? Number.NEGATIVE_INFINITY,
      endDateTime?.ms ?? Number.POSITIVE_INFINITY,
      minPrice,
      maxPrice,
      currency.value,
    ),
  };
  // Every optional member stays (undefined when absent), so that all tariffs, elements and components share one
  // object shape each: the engine's hot loop then reads them without polymorphic property lookups.
  return ok(tariff);
}

/** Reads an optional member; JSON null counts as absent (OCPI: unspecified fields may be null). */
function optional<T>(object: JsonObject, key: string, read: (value: unknown, path: string) => T): T | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  return read(value, memberPath('$', key));
}

function optionalIn<T>(
  object: JsonObject,
  path: string,
  key: string,
  read: (value: unknown, path: string) => T,
): T | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  return read(value, memberPath(path, key));
}

function readElement(json: unknown, path: string, priceDecimalsShown: number): TariffElement {
  const element = expectObject(json, path);
  const componentsPath = memberPath(path, 'price_components');
  const componentsJson = expectArray(requireMember(element, 'price_components', path), componentsPath, 1);
  const seen = new Set<TariffDimensionType>();
  const components = componentsJson.map((item, index) => {
    const componentPath = itemPath(componentsPath, index);
    const component = readPriceComponent(item, componentPath, priceDecimalsShown);
    if (seen.has(component.type)) {
      throw new JsonValueInvalid(
        memberPath(componentPath, 'type'),
        `a second ${component.type} component in one element is ambiguous; split it into two elements`,
      );
    }
    seen.add(component.type);
    return component;
  });
  const restrictionsPath = memberPath(path, 'restrictions');
  const restrictionsJson = element.restrictions;
  let restrictions: TariffRestrictions | undefined;
  let values: RestrictionValues = {};
  if (restrictionsJson !== undefined && restrictionsJson !== null) {
    ({ restrictions, values } = readRestrictions(restrictionsJson, restrictionsPath));
    if (restrictions.reservation !== undefined) {
      components.forEach((component, index) => {
        if (component.type !== 'FLAT' && component.type !== 'TIME') {
          throw new JsonValueInvalid(
            memberPath(itemPath(componentsPath, index), 'type'),
            'a reservation element can only have FLAT and TIME components',
          );
        }
      });
    }
  }
  return {
    price_components: components,
    restrictions,
    compiled: compileRestrictions(restrictions, values),
  };
}

function readPriceComponent(json: unknown, path: string, priceDecimalsShown: number): PriceComponent {
  const component = expectObject(json, path);
  const type = expectEnum(requireMember(component, 'type', path), memberPath(path, 'type'), TARIFF_DIMENSION_TYPES);
  const pricePath = memberPath(path, 'price');
  const priceJson = requireMember(component, 'price', path);
  const priceNanoPerUnit = expectDecimal(priceJson, pricePath, PRICE_SCALE);
  const vatPath = memberPath(path, 'vat');
  const vatJson = component.vat;
  let vatRatePpm: bigint | null = null;
  if (vatJson !== undefined && vatJson !== null) {
    vatRatePpm = expectDecimal(vatJson, vatPath, VAT_PERCENT_SCALE);
    if (vatRatePpm > 100n * 10n ** BigInt(VAT_PERCENT_SCALE)) {
      throw new JsonValueInvalid(vatPath, 'expected a VAT percentage between 0 and 100');
    }
  }
  const stepPath = memberPath(path, 'step_size');
  const stepSize = expectInteger(requireMember(component, 'step_size', path), stepPath, 0, MAX_STEP_SIZE);
  return {
    type,
    price: numberOf(priceJson),
    vat: vatJson === undefined || vatJson === null ? undefined : numberOf(vatJson),
    step_size: stepSize,
    priceNanoPerUnit,
    vatRatePpm,
    stepMilliUnits: type === 'FLAT' ? 0 : stepSize * 1000,
    priceText: formatFixed(priceNanoPerUnit, PRICE_SCALE, priceDecimalsShown),
    vatText: vatRatePpm === null ? null : formatFixed(vatRatePpm, VAT_PERCENT_SCALE, 0),
  };
}

function readRestrictions(
  json: unknown,
  path: string,
): { restrictions: TariffRestrictions; values: RestrictionValues } {
  const object = expectObject(json, path);
  const at = (key: string) => memberPath(path, key);
  const timeOfDay = (key: string) => optionalIn(object, path, key, readTimeOfDay);
  const date = (key: string) => optionalIn(object, path, key, readDate);
  const kwh = (key: string) =>
    optionalIn(object, path, key, (value, valuePath) => {
      const milli = expectDecimal(value, valuePath, ENERGY_KWH_SCALE);
      if (milli > MAX_KWH_MILLI) throw new JsonValueInvalid(valuePath, 'expected at most 1000000 kWh');
      return { text: numberOf(value), engine: Number(milli) };
    });
  const current = (key: string) =>
    optionalIn(object, path, key, (value, valuePath) => {
      const micro = expectDecimal(value, valuePath, 6);
      return { text: numberOf(value), engine: Number(micro) / 1e6 };
    });
  const power = (key: string) =>
    optionalIn(object, path, key, (value, valuePath) => {
      const watts = expectDecimal(value, valuePath, POWER_KW_SCALE);
      return { text: numberOf(value), engine: Number(watts) };
    });
  const duration = (key: string) =>
    optionalIn(object, path, key, (value, valuePath) => expectInteger(value, valuePath, 0, MAX_DURATION_S));

  const startTime = timeOfDay('start_time');
  const endTime = timeOfDay('end_time');
  const startDate = date('start_date');
  const endDate = date('end_date');
  const minKwh = kwh('min_kwh');
  const maxKwh = kwh('max_kwh');
  const minCurrent = current('min_current');
  const maxCurrent = current('max_current');
  const minPower = power('min_power');
  const maxPower = power('max_power');
  const minDuration = duration('min_duration');
  const maxDuration = duration('max_duration');
  const dayOfWeek = optionalIn(object, path, 'day_of_week', readDaysOfWeek);
  const reservation = optionalIn(object, path, 'reservation', (value, valuePath) =>
    expectEnum<ReservationRestrictionType>(value, valuePath, RESERVATION_RESTRICTION_TYPES),
  );

  const ordered = (min: number | undefined, max: number | undefined, minKey: string, maxKey: string) => {
    if (min !== undefined && max !== undefined && min > max) {
      throw new JsonValueInvalid(at(minKey), `must not exceed ${maxKey}`);
    }
  };
  ordered(startDate?.day, endDate?.day, 'start_date', 'end_date');
  ordered(minKwh?.engine, maxKwh?.engine, 'min_kwh', 'max_kwh');
  ordered(minCurrent?.engine, maxCurrent?.engine, 'min_current', 'max_current');
  ordered(minPower?.engine, maxPower?.engine, 'min_power', 'max_power');
  ordered(minDuration, maxDuration, 'min_duration', 'max_duration');

  const restrictions: TariffRestrictions = withoutUndefined({
    start_time: startTime?.text,
    end_time: endTime?.text,
    start_date: startDate?.text,
    end_date: endDate?.text,
    min_kwh: minKwh?.text,
    max_kwh: maxKwh?.text,
    min_current: minCurrent?.text,
    max_current: maxCurrent?.text,
    min_power: minPower?.text,
    max_power: maxPower?.text,
    min_duration: minDuration,
    max_duration: maxDuration,
    day_of_week: dayOfWeek,
    reservation,
  });
  const values: RestrictionValues = withoutUndefined({
    startTimeOfDayMs: startTime?.ms,
    endTimeOfDayMs: endTime?.ms,
    startDay: startDate?.day,
    endDay: endDate?.day,
    minEnergyMilliWh: minKwh?.engine,
    maxEnergyMilliWh: maxKwh?.engine,
    minCurrentA: minCurrent?.engine,
    maxCurrentA: maxCurrent?.engine,
    minPowerW: minPower?.engine,
    maxPowerW: maxPower?.engine,
    minDurationMs: minDuration === undefined ? undefined : minDuration * 1000,
    maxDurationMs: maxDuration === undefined ? undefined : maxDuration * 1000,
  });
  return { restrictions, values };
}

function readTimeOfDay(value: unknown, path: string): { text: string; ms: number } {
  const text = expectString(value, path);
  const match = TIME_OF_DAY.exec(text);
  if (!match) throw new JsonValueInvalid(path, 'expected a time of day HH:MM between 00:00 and 23:59');
  return { text, ms: (Number(match[1]) * 60 + Number(match[2])) * 60_000 };
}

function readDate(value: unknown, path: string): { text: string; day: number } {
  const text = expectString(value, path);
  const day = parseDayNumber(text);
  if (day === undefined) throw new JsonValueInvalid(path, 'expected a date YYYY-MM-DD');
  return { text, day };
}

function readDaysOfWeek(value: unknown, path: string): DayOfWeek[] {
  const days = expectArray(value, path).map((item, index) => expectEnum(item, itemPath(path, index), DAYS_OF_WEEK));
  days.forEach((day, index) => {
    if (days.indexOf(day) !== index) throw new JsonValueInvalid(itemPath(path, index), `${day} is listed twice`);
  });
  return days;
}

function readDateTime(value: unknown, path: string): { text: string; ms: number } {
  const text = expectString(value, path);
  const ms = parseDateTimeMs(text, 'utc');
  if (typeof ms === 'string') throw new JsonValueInvalid(path, ms);
  return { text, ms };
}

function readPrice(value: unknown, path: string, hasVat: boolean): TariffPrice {
  const price = expectObject(value, path);
  const exclJson = requireMember(price, 'excl_vat', path);
  const exclVatNano = expectDecimal(exclJson, memberPath(path, 'excl_vat'), PRICE_SCALE);
  const inclJson = price.incl_vat;
  if (inclJson === undefined || inclJson === null) {
    if (hasVat) {
      throw new JsonValueInvalid(
        memberPath(path, 'incl_vat'),
        'is required because components of this tariff carry VAT (the limit including VAT cannot be derived)',
      );
    }
    return { excl_vat: numberOf(exclJson), exclVatNano, inclVatNano: exclVatNano };
  }
  const inclVatNano = expectDecimal(inclJson, memberPath(path, 'incl_vat'), PRICE_SCALE);
  return { excl_vat: numberOf(exclJson), incl_vat: numberOf(inclJson), exclVatNano, inclVatNano };
}

function readDisplayTexts(value: unknown, path: string): DisplayText[] {
  return expectArray(value, path).map((item, index) => {
    const itemAt = itemPath(path, index);
    const text = expectObject(item, itemAt);
    return {
      language: readFixedLengthString(requireMember(text, 'language', itemAt), memberPath(itemAt, 'language'), 2),
      text: expectString(requireMember(text, 'text', itemAt), memberPath(itemAt, 'text'), 512),
    };
  });
}

function readUrl(value: unknown, path: string): string {
  const text = expectString(value, path, 255);
  if (!URL.canParse(text)) throw new JsonValueInvalid(path, 'expected an absolute URL');
  return text;
}

function readFixedLengthString(value: unknown, path: string, length: number): string {
  const text = expectString(value, path);
  if (text.length !== length) throw new JsonValueInvalid(path, `expected a string of exactly ${length} characters`);
  return text;
}

/** The JSON number as written (a decimal string becomes the number it denotes; exactness lives in the bigints). */
function numberOf(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/**
 * A copy without the undefined members, so that the model has no `key: undefined` entries (clean equality and
 * JSON). A fresh object rather than `delete`, which would put the object in V8's slow dictionary mode.
 */
function withoutUndefined<T extends object>(object: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) copy[key] = value;
  return copy as T;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
