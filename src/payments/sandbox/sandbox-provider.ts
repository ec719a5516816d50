/**
 * SANDBOX card processor: the embedded default provider for development, demos and tests. It behaves like a real
 * processor — tokenization into its own encrypted vault, Stripe's test card numbers, holds that expire, captures up
 * to the hold, voids, partial refunds, idempotency keys that replay the first outcome, asynchronous signed webhooks —
 * and can inject faults. It moves no real money; everything it returns is labelled sandbox.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock.ts';
import { type CurrencyCode, parseCurrency } from '../../shared/money.ts';
import { err, ok, type Result } from '../../shared/result.ts';
import type {
  PaymentProvider,
  PaymentStatus,
  ProviderError,
  ProviderPayment,
  SavedPaymentMethod,
  WebhookError,
  WebhookEvent,
} from '../provider.ts';
import { signWebhook, verifyWebhookSignature } from '../webhook-signature.ts';
import { createFaultDice, NO_FAULTS, type SandboxFaults } from './sandbox-faults.ts';
import { emptyJournalState, openJournal, type SandboxTable } from './sandbox-journal.ts';
import { type CardData, createSandboxVault, type EncryptedCard } from './sandbox-vault.ts';
import { cardBehaviour, cardBrand, isLuhnValid } from './test-cards.ts';

/** Header carrying the sandbox's webhook signature (same scheme as Stripe-Signature). */
export const SANDBOX_SIGNATURE_HEADER = 'sandbox-signature';
/** Most online card holds lapse after about 7 days; the sandbox does the same unless told otherwise. */
export const SANDBOX_HOLD_TTL_MS = 7 * 24 * 3600 * 1000;

export type SandboxOptions = {
  readonly clock: Clock;
  readonly webhookSecret: string;
  /** 32-byte AES-256 key of the vault. Default: a random key per process (cards then live only in memory). */
  readonly vaultKey?: Buffer;
  /**
   * A file that keeps the sandbox's state (its vault encrypted) across restarts, as a journal of changed records
   * (sandbox-journal.ts); default: memory only.
   */
  readonly statePath?: string;
  readonly holdTtlMs?: number;
  readonly faults?: SandboxFaults;
  /** Delay before queued webhooks are sent, in milliseconds. */
  readonly webhookDelayMs?: number;
  readonly webhookToleranceS?: number;
};

type StoredMethod = {
  token: string;
  customerId: string | null;
  sealed: EncryptedCard;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
};
type StoredPayment = {
  id: string;
  status: PaymentStatus;
  currency: string;
  authorizedMinor: string;
  capturedMinor: string;
  refundedMinor: string;
  holdExpiresAt: string | null;
  voltbillKey: string;
};
type StoredOutcome = { ok: true; paymentId?: string; value: unknown } | { ok: false; error: ProviderError };
type SandboxState = {
  seq: number;
  customers: Record<string, { name?: string; email?: string }>;
  methods: Record<string, StoredMethod>;
  payments: Record<string, StoredPayment>;
  idempotency: Record<string, { fingerprint: string; outcome: StoredOutcome; paymentId?: string }>;
};

export type WebhookSink = (rawBody: Buffer, headers: Record<string, string>) => Promise<void>;

export type SandboxProvider = PaymentProvider & {
  /** What the hosted card fields do in the driver's browser: the card number goes to the sandbox, never to Voltbill. */
  tokenizeCard(card: {
    number: string;
    expMonth: number;
    expYear: number;
    cvc: string;
  }): Result<{ paymentMethodRef: string; last4: string; brand: string }, ProviderError>;
  setWebhookSink(sink: WebhookSink | undefined): void;
  /** Sends all queued webhooks now and waits for their delivery (tests, shutdown). */
  flushWebhooks(): Promise<void>;
  /** Lapses holds whose time is up (also done lazily on every read). */
  expireHolds(): void;
  setFaults(faults: SandboxFaults): void;
  /** The decrypted card behind a token, for the vault's own tests only. */
  revealCardForTests(token: string): CardData;
  /**
   * A cardholder disputes a captured payment (emits `dispute.created`); returns the dispute id. The network's
   * decision follows with closeDispute (emits `dispute.closed` with status won or lost).
   */
  openDispute(providerPaymentId: string, input?: { reason?: string; amountMinor?: bigint }): string;
  closeDispute(disputeId: string, outcome: 'won' | 'lost'): void;
  close(): void;
};

export function createSandboxProvider(options: SandboxOptions): SandboxProvider {
  const { clock } = options;
  const holdTtlMs = options.holdTtlMs ?? SANDBOX_HOLD_TTL_MS;
  const vault = createSandboxVault(options.vaultKey ?? randomBytes(32));
  let faults = options.faults ?? NO_FAULTS;
  let dice = createFaultDice(faults);
  let sink: WebhookSink | undefined;
  const queue: { body: Buffer; attempts: number }[] = [];
  const deliveries = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const journal = options.statePath ? openJournal<SandboxState>(options.statePath) : undefined;
  const state: SandboxState = journal?.state ?? emptyJournalState<SandboxState>();
  /**
   * Records changed since the last persist, written then as one journal line (only these, not the whole state).
   * A failed write keeps them here, so that the next persist writes them again.
   */
  const touched = new Map<string, readonly [SandboxTable, string]>();
  const touch = (table: SandboxTable, id: string) => touched.set(`${table}:${id}`, [table, id]);
  const persist = () => {
    journal?.append(touched.values());
    touched.clear();
  };
  const newId = (prefix: string) => `${prefix}_sbx_${(++state.seq).toString(36)}${randomBytes(6).toString('hex')}`;

  function toProviderPayment(p: StoredPayment): ProviderPayment {
    return {
      providerPaymentId: p.id,
      status: p.status,
      currency: p.currency as CurrencyCode,
      authorizedMinor: BigInt(p.authorizedMinor),
      capturedMinor: BigInt(p.capturedMinor),
      refundedMinor: BigInt(p.refundedMinor),
      ...(p.holdExpiresAt && p.status === 'authorized' && { holdExpiresAt: new Date(p.holdExpiresAt) }),
    };
  }

  const disputes = new Map<string, Record<string, string>>();

  function emit(type: string, payment: StoredPayment): void {
    emitObject(type, {
      id: payment.id,
      status: payment.status,
      currency: payment.currency,
      authorized_minor: payment.authorizedMinor,
      captured_minor: payment.capturedMinor,
      refunded_minor: payment.refundedMinor,
      hold_expires_at: payment.holdExpiresAt,
      voltbill_key: payment.voltbillKey,
    });
  }

  function emitObject(type: string, object: Record<string, unknown>): void {
    const event = {
      id: newId('evt'),
      object: 'event',
      sandbox: true,
      type,
      created: Math.floor(clock.now().getTime() / 1000),
      data: { object },
    };
    const decision = dice.webhook();
    if (decision === 'drop') return;
    const body = Buffer.from(JSON.stringify(event));
    queue.push({ body, attempts: 0 });
    if (decision === 'duplicate') queue.push({ body, attempts: 0 });
    scheduleDrain();
  }

  function scheduleDrain(): void {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void drain();
    }, options.webhookDelayMs ?? 5);
    timer.unref();
  }

  function drain(): Promise<void> {
    if (!sink) return Promise.resolve();
    const batch = queue.splice(0, queue.length);
    if (faults.webhookReorder) batch.reverse();
    const target = sink;
    const run = (async () => {
      for (const item of batch) {
        // A fresh timestamp per attempt, as Stripe signs each delivery attempt anew.
        const signature = signWebhook(options.webhookSecret, item.body, Math.floor(clock.now().getTime() / 1000));
        try {
          await target(item.body, { [SANDBOX_SIGNATURE_HEADER]: signature, 'content-type': 'application/json' });
        } catch {
          // The endpoint was down or refused: retry later, a bounded number of times (Stripe retries for days).
          if (item.attempts < 5 && !closed) {
            queue.push({ body: item.body, attempts: item.attempts + 1 });
            scheduleDrain();
          }
        }
      }
    })();
    deliveries.add(run);
    return run.finally(() => deliveries.delete(run));
  }

  /** A read's injected latency and fault (a lost answer reads as a timeout: nothing was changed by it). */
  async function readFault(): Promise<Result<never, ProviderError> | undefined> {
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const fault = dice.call();
    if (fault === 'timeout' || fault === 'lost_response') {
      return err({ code: 'Timeout', message: 'SANDBOX: injected timeout' });
    }
    if (fault === 'error') return err({ code: 'ProviderUnavailable', message: 'SANDBOX: injected 503' });
    return undefined;
  }

  function expireIfDue(p: StoredPayment): void {
    if (p.status === 'authorized' && p.holdExpiresAt && new Date(p.holdExpiresAt).getTime() <= clock.now().getTime()) {
      p.status = 'voided';
      p.holdExpiresAt = null;
      touch('payments', p.id);
      persist();
      emit('payment.expired', p);
    }
  }

  /** Runs one money-moving request under its idempotency key, with the configured faults around it. */
  async function idempotent<T>(
    key: string,
    fingerprint: string,
    run: () => { outcome: Result<T, ProviderError>; paymentId?: string },
  ): Promise<Result<T, ProviderError>> {
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (closed) return err({ code: 'ProviderUnavailable', message: 'SANDBOX provider is closed' });
    const fault = dice.call();
    if (fault === 'timeout') return err({ code: 'Timeout', message: 'SANDBOX: injected timeout (not processed)' });
    if (fault === 'error')
      return err({ code: 'ProviderUnavailable', message: 'SANDBOX: injected 503 (not processed)' });
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) return err({ code: 'InvalidRequest', message: 'invalid idempotency key' });
    const existing = state.idempotency[key];
    let outcome: Result<T, ProviderError>;
    if (existing) {
      if (existing.fingerprint !== fingerprint) {
        return err({
          code: 'IdempotencyConflict',
          message: `SANDBOX: idempotency key ${key} was used with different parameters`,
        });
      }
      // The replay returns the first result; for a payment, its current state is what Stripe's replay returns too.
      const stored = existing.outcome;
      if (stored.ok && existing.paymentId) {
        const p = state.payments[existing.paymentId]!;
        expireIfDue(p);
        outcome = ok({ ...(stored.value as object), ...toProviderPayment(p) } as T);
      } else outcome = stored.ok ? ok(stored.value as T) : err(stored.error);
    } else {
      const done = run();
      outcome = done.outcome;
      state.idempotency[key] = {
        fingerprint,
        outcome: done.outcome.ok
          ? { ok: true, value: done.outcome.value, ...(done.paymentId && { paymentId: done.paymentId }) }
          : { ok: false, error: done.outcome.error },
        ...(done.paymentId && { paymentId: done.paymentId }),
      };
      touch('idempotency', key);
      // Every request that creates or changes a payment names it; customers and cards are touched where changed.
      if (done.paymentId) touch('payments', done.paymentId);
      persist();
    }
    if (fault === 'lost_response') {
      return err({ code: 'Timeout', message: 'SANDBOX: injected lost response (the request was processed)' });
    }
    return outcome;
  }

  const fail = (code: ProviderError['code'], message: string, extra: Partial<ProviderError> = {}) => ({
    outcome: err({ code, message: `SANDBOX: ${message}`, ...extra }),
  });

  function findPayment(id: string): StoredPayment | undefined {
    const p = state.payments[id];
    if (p) expireIfDue(p);
    return p;
  }

  const provider: SandboxProvider = {
    name: 'sandbox',
    isSandbox: true,

    tokenizeCard(card) {
      const number = card.number.replace(/[ -]/g, '');
      if (!isLuhnValid(number)) return err({ code: 'InvalidRequest', message: 'SANDBOX: card number is not valid' });
      if (!/^\d{3,4}$/.test(card.cvc)) return err({ code: 'InvalidRequest', message: 'SANDBOX: CVC is not valid' });
      const now = clock.now();
      const expired =
        card.expYear < now.getUTCFullYear() ||
        (card.expYear === now.getUTCFullYear() && card.expMonth < now.getUTCMonth() + 1);
      if (!Number.isInteger(card.expMonth) || card.expMonth < 1 || card.expMonth > 12 || expired) {
        return err({ code: 'ExpiredCard', message: 'SANDBOX: the card has expired', providerCode: 'expired_card' });
      }
      const token = newId('pm');
      const data: CardData = { number, expMonth: card.expMonth, expYear: card.expYear };
      state.methods[token] = {
        token,
        customerId: null,
        sealed: vault.seal(data, token),
        brand: cardBrand(number),
        last4: number.slice(-4),
        expMonth: card.expMonth,
        expYear: card.expYear,
      };
      touch('methods', token);
      persist();
      return ok({ paymentMethodRef: token, last4: number.slice(-4), brand: cardBrand(number) });
    },

    async createCustomer(input) {
      return idempotent(input.idempotencyKey, JSON.stringify(['customer', input.name, input.email]), () => {
        const id = newId('cus');
        state.customers[id] = { ...(input.name && { name: input.name }), ...(input.email && { email: input.email }) };
        touch('customers', id);
        return { outcome: ok({ customerId: id }) };
      });
    },

    async savePaymentMethod(input) {
      const fingerprint = JSON.stringify(['save', input.customerId, input.paymentMethodRef]);
      return idempotent<SavedPaymentMethod>(input.idempotencyKey, fingerprint, () => {
        if (!state.customers[input.customerId]) return fail('NotFound', `no customer ${input.customerId}`);
        const method = state.methods[input.paymentMethodRef];
        if (!method) return fail('NotFound', `no payment method ${input.paymentMethodRef}`);
        if (method.customerId && method.customerId !== input.customerId) {
          return fail('InvalidState', 'the payment method belongs to another customer');
        }
        const behaviour = cardBehaviour(vault.open(method.sealed, method.token).number);
        if (behaviour.kind === 'declined') {
          return fail(behaviour.code, `card refused (${behaviour.providerCode})`, {
            providerCode: behaviour.providerCode,
          });
        }
        method.customerId = input.customerId;
        touch('methods', method.token);
        const { token, brand, last4, expMonth, expYear } = method;
        return { outcome: ok({ token, brand, last4, expMonth, expYear }) };
      });
    },

    async authorize(input) {
      const { amount } = input;
      const fingerprint = JSON.stringify([
        'authorize',
        input.paymentMethodToken,
        input.customerId ?? null,
        amount.minor.toString(),
        amount.currency,
      ]);
      return idempotent<ProviderPayment>(input.idempotencyKey, fingerprint, () => {
        if (amount.minor <= 0n) return fail('InvalidAmount', 'the amount must be positive');
        const method = state.methods[input.paymentMethodToken];
        if (!method) return fail('NotFound', `no payment method ${input.paymentMethodToken}`);
        if (input.customerId && method.customerId !== input.customerId) {
          return fail('InvalidState', 'the payment method is not saved for this customer');
        }
        const behaviour = cardBehaviour(vault.open(method.sealed, method.token).number);
        const payment: StoredPayment = {
          id: newId('pay'),
          status: 'authorized',
          currency: amount.currency,
          authorizedMinor: amount.minor.toString(),
          capturedMinor: '0',
          refundedMinor: '0',
          holdExpiresAt: new Date(clock.now().getTime() + holdTtlMs).toISOString(),
          voltbillKey: input.idempotencyKey,
        };
        let refusal: ProviderError | undefined;
        if (behaviour.kind === 'declined') {
          refusal = { code: behaviour.code, message: 'SANDBOX: card declined', providerCode: behaviour.providerCode };
        } else if (behaviour.kind === 'declines_after_save') {
          refusal = { code: 'CardDeclined', message: 'SANDBOX: card declined', providerCode: 'generic_decline' };
        } else if (behaviour.kind === 'requires_authentication') {
          refusal = {
            code: 'AuthenticationRequired',
            message: 'SANDBOX: the card needs 3-D Secure; an off-session charge cannot complete it',
            providerCode: 'authentication_required',
          };
        }
        if (refusal) {
          payment.status = refusal.code === 'AuthenticationRequired' ? 'requires_authentication' : 'failed';
          payment.authorizedMinor = '0';
          payment.holdExpiresAt = null;
          state.payments[payment.id] = payment;
          emit('payment.failed', payment);
          return { outcome: err({ ...refusal, providerPaymentId: payment.id }), paymentId: payment.id };
        }
        state.payments[payment.id] = payment;
        emit('payment.authorized', payment);
        return { outcome: ok(toProviderPayment(payment)), paymentId: payment.id };
      });
    },

    async capture(input) {
      const fingerprint = JSON.stringify([
        'capture',
        input.providerPaymentId,
        input.amount.minor.toString(),
        input.amount.currency,
      ]);
      return idempotent<ProviderPayment>(input.idempotencyKey, fingerprint, () => {
        const p = findPayment(input.providerPaymentId);
        if (!p) return fail('NotFound', `no payment ${input.providerPaymentId}`);
        if (p.currency !== input.amount.currency) return fail('InvalidAmount', `the hold is in ${p.currency}`);
        if (input.amount.minor <= 0n) return fail('InvalidAmount', 'capture a positive amount, or void the hold');
        if (p.status === 'voided' && p.capturedMinor === '0')
          return fail('HoldExpired', 'the hold was released or expired');
        if (p.status !== 'authorized') return fail('InvalidState', `payment is ${p.status}`);
        if (input.amount.minor > BigInt(p.authorizedMinor)) {
          return fail('AmountExceedsHold', `capture ${input.amount.minor} exceeds the hold ${p.authorizedMinor}`);
        }
        p.status = 'captured';
        p.capturedMinor = input.amount.minor.toString();
        p.holdExpiresAt = null;
        emit('payment.captured', p);
        return { outcome: ok(toProviderPayment(p)), paymentId: p.id };
      });
    },

    async void(input) {
      return idempotent<ProviderPayment>(
        input.idempotencyKey,
        JSON.stringify(['void', input.providerPaymentId]),
        () => {
          const p = findPayment(input.providerPaymentId);
          if (!p) return fail('NotFound', `no payment ${input.providerPaymentId}`);
          if (p.status === 'voided') return { outcome: ok(toProviderPayment(p)), paymentId: p.id };
          if (p.status !== 'authorized' && p.status !== 'requires_authentication') {
            return fail('InvalidState', `payment is ${p.status}`);
          }
          p.status = 'voided';
          p.holdExpiresAt = null;
          emit('payment.voided', p);
          return { outcome: ok(toProviderPayment(p)), paymentId: p.id };
        },
      );
    },

    async refund(input) {
      const fingerprint = JSON.stringify([
        'refund',
        input.providerPaymentId,
        input.amount.minor.toString(),
        input.amount.currency,
      ]);
      return idempotent<ProviderPayment & { refundId: string }>(input.idempotencyKey, fingerprint, () => {
        const p = findPayment(input.providerPaymentId);
        if (!p) return fail('NotFound', `no payment ${input.providerPaymentId}`);
        if (p.currency !== input.amount.currency) return fail('InvalidAmount', `the payment is in ${p.currency}`);
        if (p.status !== 'captured' && p.status !== 'partially_refunded') {
          return fail('InvalidState', `payment is ${p.status}`);
        }
        const left = BigInt(p.capturedMinor) - BigInt(p.refundedMinor);
        if (input.amount.minor <= 0n || input.amount.minor > left) {
          return fail('InvalidAmount', `refund must be between 1 and ${left}`);
        }
        p.refundedMinor = (BigInt(p.refundedMinor) + input.amount.minor).toString();
        p.status = BigInt(p.refundedMinor) === BigInt(p.capturedMinor) ? 'refunded' : 'partially_refunded';
        emit('payment.refunded', p);
        return { outcome: ok({ ...toProviderPayment(p), refundId: newId('re') }), paymentId: p.id };
      });
    },

    async getStatus(input) {
      const fault = await readFault();
      if (fault) return fault;
      const id = input.providerPaymentId ?? state.idempotency[input.idempotencyKey]?.paymentId;
      const p = id ? findPayment(id) : undefined;
      if (!p) return err({ code: 'NotFound', message: `SANDBOX: no payment for key ${input.idempotencyKey}` });
      return ok(toProviderPayment(p));
    },

    async findRefund(input) {
      const fault = await readFault();
      if (fault) return fault;
      const made = state.idempotency[input.idempotencyKey];
      const value = made?.outcome.ok ? (made.outcome.value as { refundId?: unknown }) : undefined;
      const refundId = made?.paymentId === input.providerPaymentId ? value?.refundId : undefined;
      return ok(typeof refundId === 'string' ? { refundId } : undefined);
    },

    parseWebhook(rawBody, headers): Result<WebhookEvent, WebhookError> {
      const header = headers[SANDBOX_SIGNATURE_HEADER];
      const verified = verifyWebhookSignature({
        rawBody,
        header: Array.isArray(header) ? header[0] : header,
        secrets: [options.webhookSecret],
        nowS: Math.floor(clock.now().getTime() / 1000),
        ...(options.webhookToleranceS !== undefined && { toleranceS: options.webhookToleranceS }),
      });
      if (!verified.ok) return verified;
      return parseSandboxEvent(rawBody);
    },

    setWebhookSink(next) {
      sink = next;
      if (sink && queue.length > 0) scheduleDrain();
    },
    async flushWebhooks() {
      for (let round = 0; round < 10 && (queue.length > 0 || deliveries.size > 0); round++) {
        await drain();
        await Promise.all([...deliveries]);
      }
    },
    expireHolds() {
      for (const p of Object.values(state.payments)) expireIfDue(p);
    },
    setFaults(next) {
      faults = next;
      dice = createFaultDice(next);
    },
    openDispute(providerPaymentId, input = {}) {
      const p = findPayment(providerPaymentId);
      if (!p || BigInt(p.capturedMinor) === 0n) throw new Error(`no captured payment ${providerPaymentId}`);
      const dispute = {
        object: 'dispute',
        id: newId('dp'),
        payment_id: p.id,
        currency: p.currency,
        amount_minor: (input.amountMinor ?? BigInt(p.capturedMinor) - BigInt(p.refundedMinor)).toString(),
        reason: input.reason ?? 'fraudulent',
        status: 'open',
      };
      disputes.set(dispute.id, dispute);
      emitObject('dispute.created', { ...dispute });
      return dispute.id;
    },
    closeDispute(disputeId, outcome) {
      const dispute = disputes.get(disputeId);
      if (!dispute) throw new Error(`no dispute ${disputeId}`);
      dispute.status = outcome;
      emitObject('dispute.closed', { ...dispute });
    },
    revealCardForTests(token) {
      const method = state.methods[token];
      if (!method) throw new Error(`no card ${token}`);
      return vault.open(method.sealed, token);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
  return provider;
}

const KNOWN_STATUSES: ReadonlySet<string> = new Set([
  'pending',
  'requires_authentication',
  'authorized',
  'captured',
  'partially_refunded',
  'refunded',
  'voided',
  'failed',
]);

/** Parses a verified sandbox event; a status the parser does not know becomes 'pending', never success. */
export function parseSandboxEvent(rawBody: Buffer): Result<WebhookEvent, WebhookError> {
  const malformed = (message: string) => err({ code: 'MalformedEvent' as const, message });
  let event: {
    id?: unknown;
    type?: unknown;
    created?: unknown;
    data?: { object?: Record<string, unknown> };
  };
  try {
    event = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return malformed('body is not JSON');
  }
  const object = event.data?.object;
  if (typeof event.id !== 'string' || typeof event.type !== 'string' || typeof event.created !== 'number' || !object) {
    return malformed('event lacks id, type, created or data.object');
  }
  if (object.object === 'dispute') {
    const disputeCurrency = parseCurrency(String(object.currency));
    const status = object.status === 'won' || object.status === 'lost' ? object.status : 'open';
    if (
      typeof object.id !== 'string' ||
      typeof object.payment_id !== 'string' ||
      !disputeCurrency.ok ||
      typeof object.amount_minor !== 'string' ||
      !/^\d+$/.test(object.amount_minor)
    ) {
      return malformed('dispute lacks id, payment, currency or amount');
    }
    return ok({
      eventId: event.id,
      type: event.type,
      createdAt: new Date(event.created * 1000),
      dispute: {
        providerDisputeId: object.id,
        providerPaymentId: object.payment_id,
        currency: disputeCurrency.value,
        amountMinor: BigInt(object.amount_minor),
        reason: String(object.reason ?? 'unknown').slice(0, 100),
        status,
      },
    });
  }
  const currency = parseCurrency(String(object.currency));
  const amounts = [object.authorized_minor, object.captured_minor, object.refunded_minor];
  if (
    typeof object.id !== 'string' ||
    !currency.ok ||
    !amounts.every((a) => typeof a === 'string' && /^\d+$/.test(a))
  ) {
    return malformed('event payment lacks id, currency or amounts');
  }
  const status = String(object.status);
  const holdExpiresAt = typeof object.hold_expires_at === 'string' ? new Date(object.hold_expires_at) : undefined;
  const statusKnown = KNOWN_STATUSES.has(status) ? (status as PaymentStatus) : 'pending';
  return ok({
    eventId: event.id,
    type: event.type,
    createdAt: new Date(event.created * 1000),
    payment: {
      providerPaymentId: object.id,
      status: statusKnown,
      currency: currency.value,
      authorizedMinor: BigInt(object.authorized_minor as string),
      capturedMinor: BigInt(object.captured_minor as string),
      refundedMinor: BigInt(object.refunded_minor as string),
      ...(holdExpiresAt && statusKnown === 'authorized' && { holdExpiresAt }),
    },
    ...(typeof object.voltbill_key === 'string' && { voltbillKey: object.voltbill_key }),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
