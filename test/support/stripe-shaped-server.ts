/**
 * A local HTTP server that answers the few Stripe API endpoints Voltbill uses with Stripe's documented request and
 * response shapes (form-encoded bodies with bracket keys, Bearer secret key, Idempotency-Key replay, error objects
 * with type/code/decline_code), so that the real `stripe` SDK does real HTTP against it. Stripe's documented test
 * payment methods (pm_card_visa, pm_card_chargeDeclined...) behave as at Stripe in test mode.
 * It imitates behaviour, not Stripe's whole API: anything else answers 404 resource_missing.
 *
 * With a webhook endpoint (`setWebhook`), it also sends Stripe's events for what it processed, as Stripe does:
 * `payment_intent.created`, `.amount_capturable_updated`, `.succeeded`, `.canceled`, `.payment_failed`,
 * `.requires_action` and `charge.refunded`, each a snapshot of the object when it happened, signed with Stripe's
 * documented `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, delivered at once and
 * concurrently (so possibly out of order), retried on failure. Without one (the default), no events are sent.
 */

import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createPrng, type Prng } from '../../src/sim/prng.ts';

type Json = Record<string, unknown>;
type Card = { brand: string; last4: string; exp_month: number; exp_year: number };
type Behaviour = 'ok' | 'decline' | 'insufficient_funds' | 'expired_card' | 'incorrect_cvc' | 'auth' | 'fail_later';

/** Stripe's documented test PaymentMethods and what they do. */
const TEST_METHODS: Record<string, { card: Card; behaviour: Behaviour }> = {
  pm_card_visa: { card: card('4242'), behaviour: 'ok' },
  pm_card_chargeDeclined: { card: card('0002'), behaviour: 'decline' },
  pm_card_chargeDeclinedInsufficientFunds: { card: card('9995'), behaviour: 'insufficient_funds' },
  pm_card_chargeDeclinedExpiredCard: { card: card('0069'), behaviour: 'expired_card' },
  pm_card_chargeDeclinedIncorrectCvc: { card: card('0127'), behaviour: 'incorrect_cvc' },
  pm_card_authenticationRequired: { card: card('3155'), behaviour: 'auth' },
  pm_card_chargeCustomerFail: { card: card('0341'), behaviour: 'fail_later' },
};

function card(last4: string): Card {
  return { brand: 'visa', last4, exp_month: 12, exp_year: 2034 };
}

/**
 * Share of API requests (0..1 each, drawn independently per request with a seeded PRNG) that meet each fault:
 * - timeout: the request is read and then held unanswered until the client gives up; half of them (drawn) are
 *   processed first, as when the provider is slow rather than unreachable;
 * - serverError: answered 500 api_error without doing anything (Stripe's "retry with the same key");
 * - lostResponse: processed (state changed, idempotency key saved), then the connection is destroyed unanswered.
 *
 * Rates alone may draw none of a kind in a short run (1 % of ~170 requests draws no lost response about one run in
 * six). With `atLeastOnce`, each kind with a rate above 0 is also forced once, on the first eligible request that drew
 * no fault of its own, until that kind has hit such a request (drawn or forced); after that only the draws count:
 * - timeout, then 5xx: a payment call (POST to /v1/payment_intents, its capture or cancel, /v1/refunds);
 * - lost response: a capture that succeeded at the provider (200, not an idempotent replay): the money moved and the
 *   client cannot know, the fault that matters most. The `stripe` SDK retries a closed connection once at once, even
 *   with maxNetworkRetries 0 (stripe-node's RequestSender._shouldRetry), and that retry's replay would answer it:
 *   so the forced fault also loses the answer to the next request under the same idempotency key, and the caller
 *   (Voltbill's payment worker) itself sees the unknown outcome. Drawn lost responses lose one answer only, so most
 *   are absorbed by that retry (the SDK's replay is what they exercise).
 */
export type ProviderFaultRates = {
  readonly timeout: number;
  readonly serverError: number;
  readonly lostResponse: number;
};
export type ProviderFaultCounts = {
  timeout: number;
  /** Of `timeout`: those processed before being held. */
  timeoutAfterProcessing: number;
  serverError: number;
  lostResponse: number;
  /** Of the above: those forced by `atLeastOnce` rather than drawn. */
  forced: number;
  /** Of `lostResponse`: successful captures whose answer was lost (drawn or forced). */
  lostCaptures: number;
  requests: number;
};

export type StripeShapedServer = {
  readonly port: number;
  readonly requests: { method: string; path: string; idempotencyKey: string | undefined; body: Json }[];
  /** The next `count` requests answer 500 api_error without doing anything. */
  failNext(count: number): void;
  /**
   * An outage: while on, every API request is answered 500 api_error without doing anything (Stripe down, as seen
   * from a client); `outageRefusals` counts them. Webhooks already owed are still delivered.
   */
  setOutage(on: boolean): void;
  readonly outageRefusals: () => number;
  /**
   * The next `count` requests (of `method` only, when given) answer 429, as Stripe's rate limiter does, without doing
   * anything.
   */
  rateLimitNext(count: number, method?: 'GET' | 'POST'): void;
  /** The next `count` requests are processed but their connection is destroyed before the answer. */
  loseResponseOfNext(count: number): void;
  intent(id: string): Json | undefined;
  /** Every PaymentIntent the server holds (the provider's truth for the crash test's checks). */
  allIntents(): Json[];
  /** How many times each PaymentIntent's capture changed its state (at most 1 unless something is badly wrong). */
  captureCount(id: string): number;
  /**
   * Sends events to this endpoint from now on, signed with `secret`, each `delayMs` after it happened (default 0:
   * at once, racing the API's own answer; Stripe delivers asynchronously, usually later); undefined stops sending.
   */
  setWebhook(target: { url: string; secret: string; delayMs?: number } | undefined): void;
  /**
   * Webhook deliveries so far: answered 2xx; answers 4xx (the endpoint refused the event: retried like any other
   * failure, as Stripe does, but a sign of a defect); given up after the retries.
   */
  readonly webhookCounts: { delivered: number; refused: number; failed: number };
  /**
   * From now on, faults at these rates (seeded: the same seed draws the same fault for the n-th request), each kind
   * also forced once with `atLeastOnce` (see ProviderFaultRates); undefined = none.
   */
  injectFaults(options: { rates: ProviderFaultRates; seed: number; atLeastOnce?: boolean } | undefined): void;
  /**
   * From now on every API request is answered `ms` after it arrived (0: at once), its work done at the end: Stripe's
   * own time per call (about 300-500 ms for a PaymentIntent's create, confirm or capture), which a server on
   * loopback does not have. Webhook deliveries are not delayed by it (`setWebhook`'s delayMs).
   */
  setLatency(ms: number): void;
  /** Faults injected so far and the API requests they were drawn over. */
  readonly faultCounts: ProviderFaultCounts;
  close(): Promise<void>;
};

export async function startStripeShapedServer(
  options: {
    /**
     * How long a hold lasts (`capture_before`), instead of Stripe's card-network windows (4 days 18 hours for an
     * off-session Visa, 7 days otherwise): a window under a day makes Voltbill renew every hold (the crash test's
     * `--renew-holds`).
     */
    readonly holdValidityS?: number;
  } = {},
): Promise<StripeShapedServer> {
  const customers = new Map<string, Json>();
  const methods = new Map<string, { id: string; card: Card; behaviour: Behaviour; customer: string | null }>();
  const intents = new Map<string, Json>();
  const charges = new Map<string, Json>();
  /** Refunds in the order made (Stripe lists them newest first). */
  const refunds: Json[] = [];
  const idempotency = new Map<string, { fingerprint: string; status: number; body: Json }>();
  const requests: StripeShapedServer['requests'] = [];
  let failures = 0;
  let outage = false;
  let outageRefusals = 0;
  let rateLimited = 0;
  let rateLimitedMethod: string | undefined;
  let losses = 0;
  /** `owed`: the kinds `atLeastOnce` still has to force ('lostCapture': a successful capture's lost answer). */
  let faults:
    | { rates: ProviderFaultRates; prng: Prng; owed: Set<'timeout' | 'serverError' | 'lostCapture'> }
    | undefined;
  const faultCounts: ProviderFaultCounts = {
    timeout: 0,
    timeoutAfterProcessing: 0,
    serverError: 0,
    lostResponse: 0,
    forced: 0,
    lostCaptures: 0,
    requests: 0,
  };
  const captures = new Map<string, number>();
  /** Idempotency keys of forced lost captures: the answer to the next request under the key is lost too. */
  const loseNextReplay = new Set<string>();
  let webhook: { url: string; secret: string; delayMs?: number } | undefined;
  let latencyMs = 0;
  let closed = false;
  const webhookCounts = { delivered: 0, refused: 0, failed: 0 };
  /** Attempts of a delivery, 200 ms apart and doubling: up to ~25 s (Stripe retries for days; a test run is short). */
  const WEBHOOK_ATTEMPTS = 8;

  /** Stripe's event envelope around a snapshot of `object`, sent now; processing goes on without waiting for it. */
  function emit(type: string, object: Json): void {
    const target = webhook;
    if (!target) return;
    const body = JSON.stringify({
      id: id('evt'),
      object: 'event',
      api_version: '2024-06-20',
      created: now(),
      livemode: false,
      pending_webhooks: 1,
      type,
      data: { object },
    });
    const deliver = async (attempt: number): Promise<void> => {
      const t = now();
      const signature = createHmac('sha256', target.secret).update(`${t}.${body}`).digest('hex');
      const ok = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${signature}` },
        body,
        // Stripe gives an endpoint a bounded time to answer too.
        signal: AbortSignal.timeout(10_000),
      }).then(
        (response) => {
          if (response.status >= 400 && response.status < 500) webhookCounts.refused++;
          return response.ok;
        },
        () => false,
      );
      if (ok) webhookCounts.delivered++;
      else if (attempt + 1 < WEBHOOK_ATTEMPTS && !closed) {
        // Unref'd: a retry pending when its owner is done (a test, the crash test) does not hold the process open.
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt).unref());
        return deliver(attempt + 1);
      } else webhookCounts.failed++;
    };
    if (target.delayMs) setTimeout(() => void deliver(0), target.delayMs).unref();
    else void deliver(0);
  }
  /**
   * One uniform draw per request decides its fault (none, or exactly one kind); a payment call that drew none gets
   * the timeout or 5xx `atLeastOnce` still owes.
   */
  const drawFault = (paymentCall: boolean): 'timeout' | 'slowTimeout' | 'serverError' | 'lostResponse' | undefined => {
    if (!faults) return undefined;
    faultCounts.requests++;
    const { timeout, serverError, lostResponse } = faults.rates;
    const u = faults.prng.nextUint32() / 2 ** 32;
    let kind: 'timeout' | 'serverError' | 'lostResponse' | undefined =
      u < timeout
        ? 'timeout'
        : u < timeout + serverError
          ? 'serverError'
          : u < timeout + serverError + lostResponse
            ? 'lostResponse'
            : undefined;
    if (paymentCall && !kind) {
      kind = faults.owed.has('timeout') ? 'timeout' : faults.owed.has('serverError') ? 'serverError' : undefined;
      if (kind) faultCounts.forced++;
    }
    if (kind) faultCounts[kind]++;
    if (paymentCall && (kind === 'timeout' || kind === 'serverError')) faults.owed.delete(kind);
    if (kind === 'timeout' && faults.prng.nextUint32() % 2 === 0) {
      faultCounts.timeoutAfterProcessing++;
      return 'slowTimeout';
    }
    return kind;
  };
  const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
  const now = () => Math.floor(Date.now() / 1000);

  function error(status: number, type: string, fields: Json): { status: number; body: Json } {
    return { status, body: { error: { type, message: String(fields.message ?? type), ...fields } } };
  }
  const missing = (what: string) =>
    error(404, 'invalid_request_error', { code: 'resource_missing', message: `No such ${what}` });

  function method(ref: string) {
    const known = methods.get(ref);
    if (known) return known;
    const test = TEST_METHODS[ref];
    if (!test) return undefined;
    // Each use of a test method string creates a new PaymentMethod, as Stripe does.
    const created = { id: id('pm'), card: test.card, behaviour: test.behaviour, customer: null };
    methods.set(created.id, created);
    return created;
  }

  function intentView(intent: Json, expand: string[]): Json {
    const chargeId = intent.latest_charge as string | null;
    const expanded = expand.includes('latest_charge') && chargeId ? charges.get(chargeId) : chargeId;
    return { ...intent, latest_charge: expanded ?? null };
  }

  function handle(verb: string, path: string, body: Json, query: URLSearchParams): { status: number; body: Json } {
    const expand = ((body.expand as string[] | undefined) ?? query.getAll('expand[]')).concat(
      query.getAll('expand[0]'),
    );
    if (verb === 'POST' && path === '/v1/customers') {
      const customer = {
        id: id('cus'),
        object: 'customer',
        created: now(),
        name: body.name ?? null,
        email: body.email ?? null,
      };
      customers.set(customer.id, customer);
      return { status: 200, body: customer };
    }
    if (verb === 'POST' && path === '/v1/setup_intents') {
      if (!customers.has(String(body.customer))) return missing(`customer: '${body.customer}'`);
      const pm = method(String(body.payment_method));
      if (!pm) return missing(`payment_method: '${body.payment_method}'`);
      const si = {
        id: id('seti'),
        object: 'setup_intent',
        created: now(),
        customer: body.customer,
        usage: body.usage ?? 'off_session',
        status: 'succeeded',
        payment_method: pm.id as unknown,
      };
      if (['decline', 'insufficient_funds', 'expired_card', 'incorrect_cvc'].includes(pm.behaviour)) {
        return cardError(pm.behaviour, { setup_intent: { ...si, status: 'requires_payment_method' } });
      }
      pm.customer = String(body.customer);
      if (expand.includes('payment_method')) si.payment_method = { id: pm.id, object: 'payment_method', card: pm.card };
      return { status: 200, body: si };
    }
    if (verb === 'POST' && path === '/v1/payment_intents') {
      const pm = method(String(body.payment_method));
      if (!pm) return missing(`payment_method: '${body.payment_method}'`);
      const amount = Number(body.amount);
      if (!Number.isInteger(amount) || amount < 1) {
        return error(400, 'invalid_request_error', { code: 'parameter_invalid_integer', param: 'amount' });
      }
      const intent: Json = {
        id: id('pi'),
        object: 'payment_intent',
        amount,
        amount_capturable: 0,
        amount_received: 0,
        currency: body.currency,
        capture_method: body.capture_method ?? 'automatic',
        created: now(),
        customer: body.customer ?? null,
        payment_method: pm.id,
        metadata: body.metadata ?? {},
        status: 'requires_payment_method',
        last_payment_error: null,
        latest_charge: null,
      };
      intents.set(intent.id as string, intent);
      emit('payment_intent.created', intentView(intent, []));
      const offSession = body.off_session === 'true';
      if (pm.behaviour === 'auth' && offSession) {
        intent.last_payment_error = { code: 'authentication_required', decline_code: 'authentication_required' };
        emit('payment_intent.payment_failed', intentView(intent, []));
        return cardError('authentication_required', { payment_intent: intent });
      }
      if (pm.behaviour === 'auth') {
        intent.status = 'requires_action';
        emit('payment_intent.requires_action', intentView(intent, []));
        return { status: 200, body: intentView(intent, expand) };
      }
      if (pm.behaviour !== 'ok') {
        const reason = pm.behaviour === 'fail_later' ? 'decline' : pm.behaviour;
        intent.last_payment_error = { code: 'card_declined', decline_code: declineCode(reason) };
        emit('payment_intent.payment_failed', intentView(intent, []));
        return cardError(reason, { payment_intent: intent });
      }
      const charge = {
        id: id('ch'),
        object: 'charge',
        amount,
        amount_captured: 0,
        amount_refunded: 0,
        currency: body.currency,
        captured: false,
        refunded: false,
        payment_intent: intent.id,
        payment_method_details: {
          type: 'card',
          card: {
            ...pm.card,
            capture_before: now() + (options.holdValidityS ?? authorizationValidityS(pm.card.brand, offSession)),
          },
        },
      };
      charges.set(charge.id, charge);
      intent.latest_charge = charge.id;
      if (intent.capture_method === 'manual') {
        intent.status = 'requires_capture';
        intent.amount_capturable = amount;
      } else {
        intent.status = 'succeeded';
        intent.amount_received = amount;
        charge.amount_captured = amount;
        charge.captured = true;
      }
      emit(
        intent.status === 'succeeded' ? 'payment_intent.succeeded' : 'payment_intent.amount_capturable_updated',
        intentView(intent, []),
      );
      return { status: 200, body: intentView(intent, expand) };
    }
    if (verb === 'GET' && path === '/v1/refunds') {
      // Stripe's list: newest first, `limit` 1 to 100 (default 10), filtered by `payment_intent`.
      const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 10)));
      const of = query.get('payment_intent');
      const listed = refunds.filter((r) => of === null || r.payment_intent === of).reverse();
      return {
        status: 200,
        body: { object: 'list', url: '/v1/refunds', has_more: listed.length > limit, data: listed.slice(0, limit) },
      };
    }
    if (verb === 'GET' && path === '/v1/payment_intents/search') {
      const match = /^metadata\['([^']+)'\]:'([^']*)'$/.exec(query.get('query') ?? '');
      const found = match ? [...intents.values()].filter((i) => (i.metadata as Json)?.[match[1]!] === match[2]) : [];
      const withCharge = query.getAll('expand[0]').includes('data.latest_charge') ? ['latest_charge'] : [];
      return {
        status: 200,
        body: {
          object: 'search_result',
          url: '/v1/payment_intents/search',
          has_more: false,
          next_page: null,
          data: found.map((i) => intentView(i, withCharge)),
        },
      };
    }
    const intentPath = /^\/v1\/payment_intents\/(pi_[a-f0-9]+)(\/capture|\/cancel)?$/.exec(path);
    if (intentPath) {
      const intent = intents.get(intentPath[1]!);
      if (!intent) return missing(`payment_intent: '${intentPath[1]}'`);
      const charge = intent.latest_charge ? charges.get(intent.latest_charge as string) : undefined;
      if (verb === 'GET' && !intentPath[2]) return { status: 200, body: intentView(intent, expand) };
      if (verb === 'POST' && intentPath[2] === '/capture') {
        if (intent.status !== 'requires_capture') return unexpectedState(intent);
        const amount =
          body.amount_to_capture === undefined ? (intent.amount as number) : Number(body.amount_to_capture);
        if (amount > (intent.amount_capturable as number)) {
          return error(400, 'invalid_request_error', {
            code: 'amount_too_large',
            message: 'Amount to capture is greater than the amount capturable',
          });
        }
        Object.assign(intent, { status: 'succeeded', amount_received: amount, amount_capturable: 0 });
        captures.set(intent.id as string, (captures.get(intent.id as string) ?? 0) + 1);
        Object.assign(charge!, { captured: true, amount_captured: amount });
        emit('payment_intent.succeeded', intentView(intent, []));
        return { status: 200, body: intentView(intent, expand) };
      }
      if (verb === 'POST' && intentPath[2] === '/cancel') {
        if (!['requires_capture', 'requires_payment_method', 'requires_action'].includes(intent.status as string)) {
          return unexpectedState(intent);
        }
        Object.assign(intent, { status: 'canceled', amount_capturable: 0, canceled_at: now() });
        emit('payment_intent.canceled', intentView(intent, []));
        return { status: 200, body: intentView(intent, expand) };
      }
    }
    if (verb === 'POST' && path === '/v1/refunds') {
      const intent = intents.get(String(body.payment_intent));
      if (!intent) return missing(`payment_intent: '${body.payment_intent}'`);
      const charge = charges.get(intent.latest_charge as string);
      if (intent.status !== 'succeeded' || !charge) {
        return error(400, 'invalid_request_error', { code: 'charge_not_captured' });
      }
      const left = (charge.amount_captured as number) - (charge.amount_refunded as number);
      const amount = body.amount === undefined ? left : Number(body.amount);
      if (amount < 1 || amount > left) {
        return error(400, 'invalid_request_error', { code: 'amount_too_large', message: 'Refund amount too large' });
      }
      charge.amount_refunded = (charge.amount_refunded as number) + amount;
      charge.refunded = charge.amount_refunded === charge.amount_captured;
      const refund = {
        id: id('re'),
        object: 'refund',
        amount,
        currency: intent.currency,
        payment_intent: intent.id,
        charge: charge.id,
        status: 'succeeded',
        metadata: body.metadata ?? {},
        created: now(),
      };
      refunds.push(refund);
      emit('charge.refunded', { ...charge });
      return { status: 200, body: refund };
    }
    return missing(`endpoint: ${verb} ${path}`);
  }

  const server: Server = createServer((request, response) => {
    void serve(request, response);
  });

  async function serve(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://localhost');
    const body = parseForm(raw);
    const key = request.headers['idempotency-key'] as string | undefined;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    requests.push({ method: request.method ?? '', path: url.pathname, idempotencyKey: key, body });
    const send = (status: number, payload: Json, replayed = false) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'request-id': id('req'),
        ...(key && { 'idempotency-key': key }),
        ...(replayed && { 'idempotent-replayed': 'true' }),
      });
      response.end(JSON.stringify(payload));
    };
    if (!/^Bearer sk_test_/.test(request.headers.authorization ?? '')) {
      return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const paymentCall =
      request.method === 'POST' && (url.pathname.startsWith('/v1/payment_intents') || url.pathname === '/v1/refunds');
    if (outage) {
      outageRefusals++;
      return send(500, { error: { type: 'api_error', message: 'An unknown error occurred (outage)' } });
    }
    const fault = drawFault(paymentCall);
    // Held: nothing is processed or answered; the client's own timeout ends it (its socket close is all we see).
    if (fault === 'timeout') return;
    if (rateLimited > 0 && (rateLimitedMethod === undefined || request.method === rateLimitedMethod)) {
      rateLimited--;
      return send(429, {
        error: {
          type: 'invalid_request_error',
          code: 'rate_limit',
          message:
            'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
        },
      });
    }
    if (failures > 0 || fault === 'serverError') {
      if (failures > 0) failures--;
      return send(500, { error: { type: 'api_error', message: 'An unknown error occurred' } });
    }
    let result: { status: number; body: Json };
    let replayed = false;
    const fingerprint = `${request.method} ${url.pathname} ${raw}`;
    const previous = key && request.method === 'POST' ? idempotency.get(key) : undefined;
    if (previous && previous.fingerprint !== fingerprint) {
      result = error(400, 'idempotency_error', {
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with.`,
      });
    } else if (previous) {
      result = { status: previous.status, body: previous.body };
      replayed = true;
    } else {
      result = handle(request.method ?? 'GET', url.pathname, body, url.searchParams);
      // Stripe saves the first result of a key, success or error (but not 500s, which never ran).
      if (key && request.method === 'POST') idempotency.set(key, { fingerprint, ...result });
    }
    // Processed, then held like the unprocessed timeouts above: the client cannot tell the two apart.
    if (fault === 'slowTimeout') return;
    // A capture that moved the money now: its lost answer is the one `atLeastOnce` owes, if not drawn already.
    const captured = paymentCall && url.pathname.endsWith('/capture') && result.status === 200 && !replayed;
    let lost = fault === 'lostResponse';
    if (captured && !lost && losses === 0 && faults?.owed.has('lostCapture')) {
      lost = true;
      faultCounts.lostResponse++;
      faultCounts.forced++;
      if (key) loseNextReplay.add(key);
    } else if (key && replayed && loseNextReplay.delete(key)) lost = true; // the SDK's own retry: the same fault
    if (captured && lost) {
      faultCounts.lostCaptures++;
      faults?.owed.delete('lostCapture');
    }
    if (losses > 0 || lost) {
      if (losses > 0) losses--;
      response.socket?.destroy();
      return;
    }
    send(result.status, result.body, replayed);
  }

  function cardError(reason: string, extra: Json) {
    const code =
      reason === 'expired_card' || reason === 'incorrect_cvc'
        ? reason
        : reason === 'authentication_required'
          ? 'authentication_required'
          : 'card_declined';
    return error(402, 'card_error', {
      code,
      decline_code: declineCode(reason),
      message: `Your card was declined (${reason}).`,
      ...extra,
    });
  }
  function unexpectedState(intent: Json) {
    return error(400, 'invalid_request_error', {
      code: 'payment_intent_unexpected_state',
      message: `This PaymentIntent's status is ${intent.status}`,
      payment_intent: intent,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    requests,
    setOutage: (on) => {
      outage = on;
    },
    outageRefusals: () => outageRefusals,
    failNext: (count) => {
      failures = count;
    },
    rateLimitNext: (count, method) => {
      rateLimited = count;
      rateLimitedMethod = method;
    },
    loseResponseOfNext: (count) => {
      losses = count;
    },
    intent: (intentId) => intents.get(intentId),
    allIntents: () => [...intents.values()],
    captureCount: (intentId) => captures.get(intentId) ?? 0,
    setWebhook: (target) => {
      webhook = target;
    },
    webhookCounts,
    injectFaults: (options) => {
      const owed = new Set<'timeout' | 'serverError' | 'lostCapture'>();
      if (options?.atLeastOnce) {
        if (options.rates.timeout > 0) owed.add('timeout');
        if (options.rates.serverError > 0) owed.add('serverError');
        if (options.rates.lostResponse > 0) owed.add('lostCapture');
      }
      faults = options && { rates: options.rates, prng: createPrng(options.seed), owed };
    },
    faultCounts,
    setLatency: (ms) => {
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) throw new RangeError(`latency ${ms} ms: 0 to 60,000`);
      latencyMs = ms;
    },
    close: () =>
      new Promise((resolve) => {
        closed = true;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * How long Stripe holds a card authorization (its "place a hold" guide, card-not-present): Visa merchant-initiated
 * (off-session) 4 days 18 hours, everything else here 7 days.
 */
function authorizationValidityS(brand: string, offSession: boolean): number {
  return brand === 'visa' && offSession ? (4 * 24 + 18) * 3600 : 7 * 24 * 3600;
}

function declineCode(reason: string): string {
  if (reason === 'decline') return 'generic_decline';
  return reason;
}

/** Parses Stripe's form encoding: a[b]=1&a[c][0]=x → { a: { b: '1', c: ['x'] } }. */
export function parseForm(raw: string): Json {
  const root: Json = {};
  for (const [fullKey, value] of new URLSearchParams(raw)) {
    const parts = fullKey.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node: Record<string, unknown> | unknown[] = root;
    parts.forEach((part, index) => {
      const last = index === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[index + 1]!);
      const slot = Array.isArray(node) ? Number(part) : part;
      const container = node as Record<string | number, unknown>;
      if (last) container[slot] = value;
      else {
        container[slot] ??= nextIsIndex ? [] : {};
        node = container[slot] as Record<string, unknown>;
      }
    });
  }
  return root;
}
