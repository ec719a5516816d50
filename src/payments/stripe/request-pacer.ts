/**
 * Paces a node's calls to Stripe under Stripe's rate limits (its rate-limits page): per account 100 requests a second
 * in live mode and 25 in test mode; per endpoint (each named operation, e.g. `POST /v1/payment_intents/:id/capture`)
 * 25 a second unless noted; the Search API 20 reads a second. Beyond them Stripe answers 429. The payment worker
 * can have dozens of calls in flight, so without pacing a backlog of captures (a node back after an outage, a burst
 * of stops) would be answered 429 and each call tried again. Paced, a call waits for its slot here instead.
 *
 * Each limit is scheduled by GCRA (virtual scheduling): a caller reserves the next free slot of its endpoint's
 * queue and sleeps until then; it then reserves one send time that both the account's schedule and its endpoint's
 * sends allow, and sleeps until that. So the callers of an endpoint go in the order they came (no one jumps ahead,
 * no herd of sleepers racing for each token), each sleeps at most twice, a backlog on one endpoint holds back only
 * that endpoint's calls, and the limits hold on the times the calls are actually sent. Bursts are a fifth of the
 * rate, so that no second ever carries more than 1.2 × the rate (80 a second live: at most 96 of Stripe's 100).
 *
 * A call whose wait would pass its limit (pacerMaxWaitMs) is not sent at all (`pace` answers false): the caller reports it as
 * rate-limited and the payment worker retries the step later, so that a step never waits here past its claim's
 * lease (payment-context.ts, leaseForProviderTimeout).
 *
 * Real time (monotonic), not the business clock: the limits are Stripe's, per wall-clock second.
 */

/** Limits on the rate itself, so that a typo in the setting cannot stall every payment or disable the pacing. */
export const PACER_MIN_PER_SECOND = 1;
export const PACER_MAX_PER_SECOND = 10_000;
/** The longest a call waits for its slot before it is refused unsent (less with a short timeout: pacerMaxWaitMs). */
export const PACER_MAX_WAIT_MS = 10_000;

/**
 * How long a call with this timeout may wait for its slot: half its timeout, at most PACER_MAX_WAIT_MS (Stripe's
 * default 20 s: 10 s), so that pacing never makes a step take more than 1.5 × its calls' timeouts.
 */
export function pacerMaxWaitMs(timeoutMs: number): number {
  return Math.min(PACER_MAX_WAIT_MS, Math.floor(timeoutMs / 2));
}

/** The longest one paced Stripe call can take: its wait for a slot, then its timeout (the claim lease counts it). */
export function stripeCallBudgetMs(timeoutMs: number): number {
  return pacerMaxWaitMs(timeoutMs) + timeoutMs;
}

/** Stripe's limits per second for one account (its rate-limits page). */
const ACCOUNT_LIMIT = { live: 100, test: 25 } as const;
const ENDPOINT_LIMIT = 25;
const SEARCH_LIMIT = 20;
/** The Search API's endpoint, the one with its own lower limit. */
export const SEARCH_ENDPOINT = 'GET /v1/payment_intents/search';

export type PacerTime = {
  readonly nowMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
};

const realTime: PacerTime = {
  nowMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type PacerRates = {
  /** The node's calls a second to the whole account. */
  readonly perSecond: number;
  /** Calls a second to any one endpoint. */
  readonly endpointPerSecond: number;
  /** Calls a second to the Search API. */
  readonly searchPerSecond: number;
  /** The longest a call waits for its slot; beyond, it is refused unsent. Default PACER_MAX_WAIT_MS. */
  readonly maxWaitMs?: number;
};

/** Resolves true when the caller may send its request to `endpoint` now; false when it is refused, unsent. */
export type RequestPacer = (endpoint: string) => Promise<boolean>;

/** One limit, scheduled by GCRA: `interval` apart on average, `burst` at once after an idle spell. */
class Schedule {
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  /** Theoretical arrival time of the next call: slots are reserved up to here. */
  #tatMs: number;

  constructor(perSecond: number, nowMs: number) {
    this.#intervalMs = 1000 / perSecond;
    const burst = Math.max(1, Math.floor(perSecond / 5));
    this.#toleranceMs = (burst - 1) * this.#intervalMs;
    this.#tatMs = nowMs;
  }

  /** The earliest time a call reserved now may go. */
  earliestMs(nowMs: number): number {
    return Math.max(nowMs, this.#tatMs - this.#toleranceMs);
  }

  reserve(atMs: number): void {
    this.#tatMs = Math.max(this.#tatMs, atMs) + this.#intervalMs;
  }
}

function checkRate(name: string, perSecond: number): void {
  if (!Number.isFinite(perSecond) || perSecond < PACER_MIN_PER_SECOND || perSecond > PACER_MAX_PER_SECOND) {
    throw new RangeError(`${name} ${perSecond}: ${PACER_MIN_PER_SECOND} to ${PACER_MAX_PER_SECOND}`);
  }
}

export function createRequestPacer(rates: PacerRates, time: PacerTime = realTime): RequestPacer {
  checkRate('requests per second', rates.perSecond);
  checkRate('requests per second to one endpoint', rates.endpointPerSecond);
  checkRate('searches per second', rates.searchPerSecond);
  const maxWaitMs = rates.maxWaitMs ?? PACER_MAX_WAIT_MS;
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > PACER_MAX_WAIT_MS) {
    throw new RangeError(`longest wait ${maxWaitMs} ms: 0 to ${PACER_MAX_WAIT_MS}`);
  }
  const account = new Schedule(rates.perSecond, time.nowMs());
  // A handful of endpoints (the adapter's few operations), so the map stays small.
  const endpoints = new Map<string, { queue: Schedule; sends: Schedule }>();
  const scheduleOf = (endpoint: string, nowMs: number) => {
    let schedules = endpoints.get(endpoint);
    if (!schedules) {
      const perSecond = endpoint === SEARCH_ENDPOINT ? rates.searchPerSecond : rates.endpointPerSecond;
      schedules = { queue: new Schedule(perSecond, nowMs), sends: new Schedule(perSecond, nowMs) };
      endpoints.set(endpoint, schedules);
    }
    return schedules;
  };

  return async function pace(endpoint) {
    const startMs = time.nowMs();
    const { queue, sends } = scheduleOf(endpoint, startMs);
    // 1. The endpoint's queue: calls to one endpoint leave it `interval` apart, in the order they came.
    const queuedAtMs = queue.earliestMs(startMs);
    if (queuedAtMs - startMs > maxWaitMs) return false;
    queue.reserve(queuedAtMs);
    if (queuedAtMs > startMs) await time.sleep(queuedAtMs - startMs);
    // 2. The send: a slot that both the account's and the endpoint's sends allow, reserved on both at that time. The
    // endpoint's own sends are scheduled too (not only its queue): calls of one endpoint that waited together for
    // the account would otherwise go out back to back once it had room (28 in a second at 20 a second, seen in
    // review). Both schedules hold only actual sends, so neither is pushed far ahead.
    const nowMs = time.nowMs();
    const sendAtMs = Math.max(account.earliestMs(nowMs), sends.earliestMs(nowMs));
    // The queue's slot is spent either way: a refusal here is rare (the account's backlog of other endpoints).
    if (sendAtMs - startMs > maxWaitMs) return false;
    account.reserve(sendAtMs);
    sends.reserve(sendAtMs);
    if (sendAtMs > nowMs) await time.sleep(sendAtMs - nowMs);
    return true;
  };
}

/**
 * The rates for one node at `perSecond` calls a second to the account: the endpoint and Search limits scaled by the
 * same share of the account's limit (80 a second live: 80 % of 100, so 20 to an endpoint and 16 searches), never
 * above `perSecond` itself.
 */
export function stripePacerRates(perSecond: number, secretKey: string): PacerRates {
  const share = perSecond / ACCOUNT_LIMIT[isLiveKey(secretKey) ? 'live' : 'test'];
  const scaled = (limit: number) =>
    Math.min(perSecond, Math.max(PACER_MIN_PER_SECOND, Math.min(PACER_MAX_PER_SECOND, limit * share)));
  return { perSecond, endpointPerSecond: scaled(ENDPOINT_LIMIT), searchPerSecond: scaled(SEARCH_LIMIT) };
}

/**
 * The default rate for one node: 80 % of the account's limit for the key's mode (live 100, test 25), leaving room
 * for Stripe's dashboard, other integrations and the webhooks' own lookups. With several nodes on one Stripe
 * account, set STRIPE_REQUESTS_PER_SECOND to that share divided by the nodes.
 */
export function defaultStripeRequestsPerSecond(secretKey: string): number {
  return isLiveKey(secretKey) ? 80 : 20;
}

function isLiveKey(secretKey: string): boolean {
  return /^(sk|rk)_live_/.test(secretKey);
}
