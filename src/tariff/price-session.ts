/**
 * priceSession: one engine for both inputs. A CDR's charging periods are classified at their starts; a session
 * timeline is first cut at every restriction boundary. Then, for both: step_size, one line per dimension x element
 * (one bigint multiplication and one rounding each), min/max price adjustment lines, the OCPI CDR fields.
 *
 * Pure: no clock, no I/O, no environment, no logger. The only state it touches is the memo of time zone offsets,
 * which answers the same for the same question.
 */
import { currencyExponent } from '../shared/money.ts';
import { err, ok, type Result } from '../shared/result.ts';
import { applyPriceLimits } from './apply-price-limits.ts';
import { applyStepSizes } from './apply-step-size.ts';
import { buildOcpiCdr, type CdrFacts } from './build-cdr.ts';
import { buildLines } from './build-lines.ts';
import { cutTimeline } from './cut-timeline.ts';
import { exactAmountToDecimal } from './exact-amount.ts';
import { normalizeCdrPeriods } from './normalize-cdr-periods.ts';
import type { PricedSession } from './priced-session.ts';
import { type PricingError, PricingFailure } from './pricing-error.ts';
import type { PricingInput, PricingOptions } from './pricing-input.ts';
import type { Tariff } from './tariff.ts';
import { validateTimeline } from './validate-timeline.ts';
import { buildWallClockSpans } from './wall-clock.ts';
import type { WorkPeriod } from './work-period.ts';
import { zoneOffsetsFor } from './zone-offsets.ts';

/**
 * Prices one session with a tariff. Amounts: exact until each invoice line is rounded once to the currency's minor
 * unit; `totals` are the sums of the rounded lines and lie within min_price/max_price; `ocpi` carries the exact
 * totals. Returns a typed error (never a guess) for a missing or unknown time zone or an invalid input.
 */
export function priceSession(
  input: PricingInput,
  tariff: Tariff,
  options: PricingOptions,
): Result<PricedSession, PricingError> {
  try {
    return ok(price(input, tariff, options));
  } catch (error) {
    if (error instanceof PricingFailure) return err(error.error);
    throw error;
  }
}

function price(input: PricingInput, tariff: Tariff, options: PricingOptions): PricedSession {
  const timeZone = options.timeZone as string | undefined;
  if (timeZone === undefined || timeZone === null || timeZone.trim() === '') {
    fail({
      code: 'TimeZoneMissing',
      message: "no time zone: pass the location's IANA time zone (e.g. Europe/Amsterdam); Voltbill never assumes UTC",
    });
  }
  const zone = zoneOffsetsFor(timeZone);
  if (zone === null) {
    fail({
      code: 'TimeZoneInvalid',
      timeZone,
      message: `'${timeZone}' is not an IANA time zone (e.g. Europe/Amsterdam)`,
    });
  }
  const rounding = options.rounding;
  if (rounding !== 'half-up' && rounding !== 'half-even') {
    fail({ code: 'RoundingModeInvalid', message: "rounding must be 'half-up' or 'half-even'" });
  }

  const warnings: string[] = [];
  let periods: WorkPeriod[];
  let startedMs: number;
  let endedMs: number;
  let sessionStartMs: number;
  let sessionEndMs: number;
  if (input.kind === 'cdr') {
    const normalized = normalizeCdrPeriods(input, tariff, zone, rounding, warnings);
    periods = normalized.periods;
    startedMs = input.startedAt.getTime();
    endedMs = input.endedAt.getTime();
    sessionStartMs = normalized.startMs;
    sessionEndMs = normalized.endMs;
  } else {
    const span = validateTimeline(input.timeline);
    const spans = buildWallClockSpans(zone, span.startMs, span.endMs);
    periods = cutTimeline(input.timeline, span, tariff, spans, options);
    startedMs = sessionStartMs = span.startMs;
    endedMs = sessionEndMs = span.endMs;
  }
  if (sessionStartMs < tariff.plan.validFromMs || sessionStartMs >= tariff.plan.validUntilMs) {
    warnings.push(
      `tariff_not_valid_at_session_start: the session started outside the tariff's start_date_time/end_date_time`,
    );
  }

  applyStepSizes(periods, tariff);
  const built = buildLines(periods, tariff, rounding);
  const lines = built.lines;
  const totals = applyPriceLimits(tariff, built, rounding, lines);

  const facts: CdrFacts = {
    startedMs,
    endedMs,
    sessionStartMs,
    sessionEndMs,
    subtotals: built.subtotals,
    totalExclVat: totals.exactExclVat,
    totalInclVat: totals.exactInclVat,
    sourcePeriods: input.kind === 'cdr' ? input.periods : undefined,
  };
  const scale = tariff.plan.amountScale;
  const decimals = currencyExponent(tariff.currency);
  return {
    currency: tariff.currency,
    rounding,
    periods,
    ocpi: buildOcpiCdr(periods, tariff, facts),
    lines,
    totals: {
      exclVat: { minor: totals.roundedExclVatMinor, currency: tariff.currency },
      inclVat: { minor: totals.roundedInclVatMinor, currency: tariff.currency },
    },
    unroundedTotals: {
      exclVat: exactAmountToDecimal(totals.exactExclVat, scale, decimals, rounding),
      inclVat: exactAmountToDecimal(totals.exactInclVat, scale, decimals, rounding),
    },
    warnings,
  };
}

function fail(error: PricingError): never {
  throw new PricingFailure(error);
}
