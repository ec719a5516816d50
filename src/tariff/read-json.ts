/**
 * Reading untyped JSON (a parsed tariff, CDR or timeline document) with the JSON path of every value, so that a
 * rejection names the exact place of the problem, e.g. `$.elements[0].price_components[1].step_size`.
 *
 * The readers throw JsonValueInvalid; each public parser catches it once and returns a typed Result. Throwing keeps
 * the validation code linear and readable; no exception ever leaves a public function of this module's callers.
 */
import { parseScaled } from '../shared/decimal.ts';

/** A JSON object as parsed by JSON.parse: string keys, unknown values. */
export type JsonObject = { readonly [key: string]: unknown };

/** Raised by the readers below; carries the JSON path of the offending value and what was expected there. */
export class JsonValueInvalid extends Error {
  override name = 'JsonValueInvalid';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The path of a member of the object at `path`: `$.a.b`, or `$["odd key"]` when the key is not an identifier. */
export function memberPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** The path of an array item: `$.elements[3]`. */
export function itemPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

export function expectObject(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JsonValueInvalid(path, 'expected an object');
  }
  return value as JsonObject;
}

export function expectArray(value: unknown, path: string, minItems = 0): readonly unknown[] {
  if (!Array.isArray(value)) throw new JsonValueInvalid(path, 'expected an array');
  if (value.length < minItems) {
    throw new JsonValueInvalid(path, `expected an array with at least ${minItems} item${minItems === 1 ? '' : 's'}`);
  }
  return value;
}

export function expectString(value: unknown, path: string, maxLength?: number): string {
  if (typeof value !== 'string') throw new JsonValueInvalid(path, 'expected a string');
  if (maxLength !== undefined && value.length > maxLength) {
    throw new JsonValueInvalid(path, `expected a string of at most ${maxLength} characters`);
  }
  return value;
}

/** One of a closed list of strings (an OCPI enum). */
export function expectEnum<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new JsonValueInvalid(path, `expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** A member that must be present (undefined and absent are the same in JSON). */
export function requireMember(object: JsonObject, key: string, path: string): unknown {
  const value = object[key];
  if (value === undefined) throw new JsonValueInvalid(memberPath(path, key), 'is required');
  return value;
}

/**
 * Reads a decimal given as a JSON number or a decimal string, exactly, as an integer scaled by 10^scale.
 * A value with more fractional digits than the scale holds is rejected (never rounded); so is a negative value
 * unless `allowNegative`.
 */
export function expectDecimal(value: unknown, path: string, scale: number, allowNegative = false): bigint {
  const expectation = allowNegative ? 'expected a number' : 'expected a non-negative number';
  if (typeof value !== 'number' && typeof value !== 'string') throw new JsonValueInvalid(path, expectation);
  const scaled = parseScaled(value, scale);
  if (scaled === undefined) {
    const text = typeof value === 'number' ? String(value) : value;
    if (/^\s*[+-]?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(text)) {
      throw new JsonValueInvalid(path, `${expectation} with at most ${scale} decimal places`);
    }
    throw new JsonValueInvalid(path, expectation);
  }
  if (!allowNegative && scaled < 0n) throw new JsonValueInvalid(path, expectation);
  return scaled;
}

/** A JSON number that is an integer within [min, max]. */
export function expectInteger(
  value: unknown,
  path: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new JsonValueInvalid(path, `expected an integer ${range}`);
  }
  return value;
}

/** A finite JSON number (no exactness requirement: used for measurements such as currents). */
export function expectFiniteNumber(value: unknown, path: string, allowNegative = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (!allowNegative && value < 0)) {
    throw new JsonValueInvalid(path, allowNegative ? 'expected a number' : 'expected a non-negative number');
  }
  return value;
}
