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
  MeterInvalid: 400,
  MeterExists: 409,
  SessionNotHeld: 409,
  ReleaseNotPossible: 422,
  InvalidCredentials: 401,
  Conflict: 409,
  CardDataRefused: 400,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  RateLimited: 429,
  InvoiceAlreadyCredited: 409,
  InvoiceNotCreditable: 422,
  StationNotConnected: 409,
  StationExists: 409,
  StationHasSessions: 409,
  StationCallFailed: 502,
  StationTimeout: 504,
  PaymentDeclined: 402,
  CardBlocked: 402,
  RefundInvalid: 422,
  QrTokenInvalid: 401,
  QrTokenExpired: 410,
  WebhookInvalid: 400,
  PaymentProviderUnavailable: 503,
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
