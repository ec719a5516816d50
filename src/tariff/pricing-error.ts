/**
 * The closed set of reasons priceSession refuses to price. Each is an input the caller must fix; none is a bug.
 * Paths are JSON paths into the OCPI CDR (`$.charging_periods[2].dimensions[0].volume`) or the session timeline
 * (`$.samples[4].energyWh`), the documents the CLI reads, so that the same message serves both.
 */
export type PricingError =
  | { readonly code: 'TimeZoneMissing'; readonly message: string }
  | { readonly code: 'TimeZoneInvalid'; readonly timeZone: string; readonly message: string }
  | { readonly code: 'RoundingModeInvalid'; readonly message: string }
  | { readonly code: 'CdrInvalid'; readonly path: string; readonly message: string }
  | { readonly code: 'TimelineInvalid'; readonly path: string; readonly message: string }
  | { readonly code: 'MeasurementMissing'; readonly path: string; readonly message: string }
  | { readonly code: 'InputTooLarge'; readonly path: string; readonly message: string };

export type PricingErrorCode = PricingError['code'];

/**
 * Carries a PricingError out of a deep loop to priceSession, which returns it as a Result. It never escapes
 * priceSession: throwing only saves threading a Result through the hot loop, where failures are rare.
 */
export class PricingFailure extends Error {
  override name = 'PricingFailure';
  constructor(readonly error: PricingError) {
    super(error.message);
  }
}

/** Limits on input size, each with its reason: a price request can never exhaust memory or time. */
export const PRICING_LIMITS = {
  /** Samples in one timeline: a week at one sample every 10 s. */
  maxSamples: 100_000,
  /** Charging periods in one CDR. */
  maxCdrPeriods: 10_000,
  /** Session length: 60 days. Longer sessions are not charging sessions and would make cutting slow. */
  maxSessionMs: 60 * 86_400_000,
} as const;
