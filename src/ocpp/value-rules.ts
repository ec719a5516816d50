/**
 * Rules on a station's values that the OCPP JSON schemas leave open but Voltbill's tables enforce (a meter register
 * and a sequence number are never negative, a transaction id is never empty). Checked before anything is stored, so such a request is answered
 * PropertyConstraintViolation, which a station does not retry, instead of failing on the table's check constraint
 * as InternalError, which it would retry forever. Found by the protocol fuzzer (3 in 20,000 hostile frames).
 */
import { createRPCError } from 'ocpp-rpc';

/** Throws the OCPP error for a negative `value` of the property `name`. */
export function requireNonNegative(name: string, value: unknown): void {
  if (typeof value === 'number' && value < 0) {
    throw createRPCError('PropertyConstraintViolation', `${name} must not be negative (got ${value})`);
  }
}

/** Throws the OCPP error for an empty string `value` of the property `name` (an identifier must name something). */
export function requireNonEmpty(name: string, value: unknown): void {
  if (value === '') throw createRPCError('PropertyConstraintViolation', `${name} must not be empty`);
}
