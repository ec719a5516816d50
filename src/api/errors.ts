/**
 * The one table of API error codes: every error body is { error: { code, message }, requestId } and its HTTP
 * status comes from here, checked by the compiler (a new code without a status does not build).
 */
export const API_ERRORS = {
  Unauthenticated: 401,
  Forbidden: 403,
  NotFound: 404,
  InvalidRequest: 400,
  TariffInvalid: 400,
  UnknownCurrency: 400,
  TariffNotFound: 404,
  PricingFailed: 422,
  InternalError: 500,
} as const satisfies Record<string, number>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Where in the request body the problem is, as a JSON path ($.tariff.elements[0]...). */
    readonly path?: string,
  ) {
    super(message);
  }
  get status(): number {
    return API_ERRORS[this.code];
  }
}
