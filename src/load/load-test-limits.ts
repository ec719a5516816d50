/**
 * Gateway limits raised for load tests: every load station connects from the same address (127.0.0.1), which the
 * production defaults treat as one suspicious client (at most 20 connections pending authentication per address),
 * and a benchmark station sends as fast as it is acknowledged, beyond the 50 requests/s allowed per station. The
 * benchmarks, the crash test and `voltbill load` without --url start Voltbill with these (environment values win).
 * The payment velocity limits (starts per token and card per hour) are raised too: a load station charges one
 * card many times an hour, which is the point of a load test, not fraud.
 */
export const LOAD_TEST_LIMITS: Readonly<Record<string, string>> = {
  VOLTBILL_OCPP_MAX_PENDING_CONNECTIONS_PER_IP: '100000',
  VOLTBILL_OCPP_MAX_MESSAGES_PER_S: '10000',
  VOLTBILL_OCPP_MAX_AUTH_FAILURES_PER_IP: '100000',
  VOLTBILL_VELOCITY_STARTS_PER_TOKEN_PER_HOUR: '1000',
  VOLTBILL_VELOCITY_STARTS_PER_CARD_PER_HOUR: '1000',
};
