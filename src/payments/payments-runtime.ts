/**
 * Builds the payments part of Voltbill from the configuration: the provider (SANDBOX by default, Stripe when
 * configured), the context every flow uses, the worker, and the billing hook. The webhook endpoint refuses to
 * start without its secret: Stripe without STRIPE_WEBHOOK_SECRET is a configuration error.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { BillingHook } from '../billing/billing-hooks.ts';
import { type Config, ConfigError } from '../config.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Database } from '../db/schema.ts';
import { createNotificationWorker, type NotificationWorker } from '../notifications/notification-worker.ts';
import type { Clock } from '../shared/clock.ts';
import type { RemoteStart } from './flows/ad-hoc.ts';
import { createPaymentAuthorizer, type PaymentAuthorizer } from './flows/authorize-payment.ts';
import { createPaymentBillingHook } from './flows/payment-billing-hook.ts';
import { type RemoteStop, stopExhaustedWalletSessions } from './flows/wallet-guard.ts';
import { DEFAULT_PAYMENT_SETTINGS, leaseForProviderTimeout, type PaymentContext } from './payment-context.ts';
import type { PaymentProvider } from './provider.ts';
import { createSandboxProvider, type SandboxProvider } from './sandbox/sandbox-provider.ts';
import { stripeCallBudgetMs } from './stripe/request-pacer.ts';
import { createStripeProvider } from './stripe/stripe-provider.ts';
import { createPaymentWorker, type PaymentWorker } from './worker/payment-worker.ts';

export type PaymentsRuntime = {
  readonly ctx: PaymentContext;
  readonly provider: PaymentProvider;
  /** Set when the provider is the built-in sandbox (hosted-fields tokenization, fault injection, webhook flush). */
  readonly sandbox: SandboxProvider | undefined;
  readonly worker: PaymentWorker;
  readonly billingHook: BillingHook;
  readonly payLinkSecret: string;
  readonly payLinkTtlS: number;
  remoteStart: RemoteStart | undefined;
  /** Stops a wallet session whose balance is used up (set by main.ts once the command path exists). */
  remoteStop: RemoteStop | undefined;
  /** The payment side of authorization, shared by OCPP 1.6 and 2.0.1 through the session service. */
  readonly authorizer: PaymentAuthorizer;
  /** Delivers notifications (operator webhooks, e-mail outbox); undefined without a field cipher. */
  readonly notifications: NotificationWorker | undefined;
  /** Where pay links point (set by main.ts once the HTTP server listens). */
  publicBaseUrl: string;
  /** Points the sandbox's webhooks at our own endpoint once the HTTP server listens. */
  connectWebhooks(httpBaseUrl: string): void;
  close(): Promise<void>;
};

export function createPaymentsRuntime(deps: {
  readonly config: Config;
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Folder for the sandbox's own store (its vault); undefined = memory only. */
  readonly sandboxDir?: string;
  /** Only for tests: a provider built by the test. */
  readonly provider?: PaymentProvider;
  /**
   * Encrypts webhook secrets and e-mails of the notification outbox (without it no notifications are delivered) and
   * provider customer ids (without it they are stored in clear; main.ts always passes it).
   */
  readonly cipher?: FieldCipher;
  /** Tests: the first retry delay of webhook deliveries. */
  readonly notifyRetryBaseMs?: number;
}): PaymentsRuntime {
  const p = deps.config.payments;
  let sandbox: SandboxProvider | undefined;
  let provider: PaymentProvider;
  if (deps.provider) {
    provider = deps.provider;
    sandbox = provider.isSandbox ? (provider as SandboxProvider) : undefined;
  } else if (p.provider === 'stripe') {
    if (!p.stripeSecretKey) throw new ConfigError('VOLTBILL_PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY');
    if (p.stripeWebhookSecrets.length === 0) {
      throw new ConfigError('the Stripe webhook endpoint refuses to start without STRIPE_WEBHOOK_SECRET (whsec_...)');
    }
    provider = createStripeProvider({
      secretKey: p.stripeSecretKey,
      webhookSecrets: p.stripeWebhookSecrets,
      clock: deps.clock,
      timeoutMs: p.stripeTimeoutMs,
      ...(p.stripeRequestsPerSecond !== undefined && { requestsPerSecond: p.stripeRequestsPerSecond }),
      ...(p.stripeApi && { api: p.stripeApi }),
    });
  } else {
    sandbox = createSandboxProvider({
      clock: deps.clock,
      webhookSecret: p.sandboxWebhookSecret ?? randomBytes(32).toString('hex'),
      ...(deps.sandboxDir && {
        statePath: path.join(deps.sandboxDir, 'sandbox-provider.json'),
        vaultKey: loadOrCreateKey(path.join(deps.sandboxDir, 'sandbox-vault.key')),
      }),
    });
    provider = sandbox;
  }
  const ctx: PaymentContext = {
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger.child({
      component: 'payments',
      provider: provider.name,
      ...(provider.isSandbox && { sandbox: true }),
    }),
    provider,
    settings: {
      ...DEFAULT_PAYMENT_SETTINGS,
      holdMinor: p.holdMinor,
      holdMaxMinor: p.holdMaxMinor,
      maxAttempts: p.maxAttempts,
      retryBaseMs: p.retryBaseMs,
      blockAfterFailures: p.blockAfterFailures,
      walletMinStartMinor: p.walletMinStartMinor,
      startsPerTokenPerHour: p.velocityStartsPerTokenPerHour,
      startsPerCardPerHour: p.velocityStartsPerCardPerHour,
      workerConcurrency: p.workerConcurrency ?? defaultWorkerConcurrency(provider.name),
      // A Stripe call may wait for its slot in the pacer before its timeout starts.
      leaseMs: leaseForProviderTimeout(provider.name === 'stripe' ? stripeCallBudgetMs(p.stripeTimeoutMs) : undefined),
    },
    ...(deps.cipher && { cipher: deps.cipher }),
  };
  const payLinkSecret = p.payLinkSecret ?? randomBytes(32).toString('hex');
  const worker = createPaymentWorker(ctx, [
    async () => {
      if (runtime.remoteStop) await stopExhaustedWalletSessions(ctx, runtime.remoteStop);
    },
  ]);
  const notifications = deps.cipher
    ? createNotificationWorker({
        db: deps.db,
        cipher: deps.cipher,
        clock: deps.clock,
        logger: deps.logger.child({ component: 'notifications' }),
        publicBaseUrl: () => runtime.publicBaseUrl,
        payLinkSecret,
        dunningLinkTtlS: p.dunningLinkTtlS,
        maxAttempts: p.notifyMaxAttempts,
        timeoutMs: p.notifyTimeoutMs,
        ...(deps.notifyRetryBaseMs !== undefined && { retryBaseMs: deps.notifyRetryBaseMs }),
      })
    : undefined;
  const runtime: PaymentsRuntime = {
    ctx,
    provider,
    sandbox,
    worker,
    billingHook: createPaymentBillingHook(),
    payLinkSecret,
    payLinkTtlS: p.payLinkTtlS,
    remoteStart: undefined,
    remoteStop: undefined,
    authorizer: createPaymentAuthorizer({
      db: deps.db,
      clock: deps.clock,
      settings: ctx.settings,
    }),
    notifications,
    publicBaseUrl: deps.config.publicUrl ?? `http://${deps.config.host}:${deps.config.httpPort}`,
    connectWebhooks(httpBaseUrl) {
      sandbox?.setWebhookSink(async (body, headers) => {
        const response = await fetch(`${httpBaseUrl}/api/v1/payments/webhooks/${provider.name}`, {
          method: 'POST',
          body: new Uint8Array(body),
          headers,
        });
        // 4xx means refused for good (bad signature): retrying would not help. 5xx: retried by the sandbox.
        if (response.status >= 500) throw new Error(`webhook endpoint answered ${response.status}`);
      });
    },
    async close() {
      await worker.stop();
      await notifications?.stop();
      sandbox?.setWebhookSink(undefined);
      sandbox?.close();
    },
  };
  return runtime;
}

/**
 * Slots of the payment worker when VOLTBILL_PAYMENT_WORKER_CONCURRENCY is unset. Stripe answers in a few hundred
 * ms: 8 lanes of 300 ms calls held a node to about 12 captured sessions a second (BENCHMARKS.md, twentieth
 * session), so Stripe gets 32, and its pacer (STRIPE_REQUESTS_PER_SECOND) keeps the rate within Stripe's limit.
 * The SANDBOX answers in-process at once: more than 8 lanes only take CPU from the stations.
 */
function defaultWorkerConcurrency(provider: PaymentProvider['name']): number {
  return provider === 'stripe' ? 32 : 8;
}

function loadOrCreateKey(file: string): Buffer {
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64'), { mode: 0o600 });
  return key;
}
