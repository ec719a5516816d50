import type { Kysely } from 'kysely';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { systemClock } from '../shared/clock.ts';
import { createPaymentsRuntime } from './payments-runtime.ts';

const deps = { db: {} as Kysely<Database>, clock: systemClock, logger: pino({ level: 'silent' }) };

describe('payments runtime', () => {
  it('refuses to start the Stripe webhook endpoint without its secret', () => {
    const config = loadConfig({ VOLTBILL_PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_abc' });
    expect(() => createPaymentsRuntime({ ...deps, config })).toThrow(ConfigError);
    expect(() =>
      createPaymentsRuntime({ ...deps, config: loadConfig({ VOLTBILL_PAYMENT_PROVIDER: 'stripe' }) }),
    ).toThrow(/STRIPE_SECRET_KEY/);
  });
  it('builds Stripe with its secrets, and the SANDBOX by default, labelled as such', () => {
    const stripe = createPaymentsRuntime({
      ...deps,
      config: loadConfig({
        VOLTBILL_PAYMENT_PROVIDER: 'stripe',
        STRIPE_SECRET_KEY: 'sk_test_abc',
        STRIPE_WEBHOOK_SECRET: 'whsec_a, whsec_b',
      }),
    });
    expect([stripe.provider.name, stripe.provider.isSandbox, stripe.sandbox]).toEqual(['stripe', false, undefined]);
    const sandbox = createPaymentsRuntime({ ...deps, config: loadConfig({}) });
    expect([sandbox.provider.name, sandbox.provider.isSandbox]).toEqual(['sandbox', true]);
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_a, whsec_b' }).payments.stripeWebhookSecrets).toEqual([
      'whsec_a',
      'whsec_b',
    ]);
  });
  it('leases outbox steps for longer than the slowest step can take: every provider call of it timing out', () => {
    const stripe = (timeoutMs: string) =>
      createPaymentsRuntime({
        ...deps,
        config: loadConfig({
          VOLTBILL_PAYMENT_PROVIDER: 'stripe',
          STRIPE_SECRET_KEY: 'sk_test_abc',
          STRIPE_WEBHOOK_SECRET: 'whsec_a',
          STRIPE_TIMEOUT_MS: timeoutMs,
        }),
      }).ctx.settings.leaseMs;
    // 6 calls × (20 s + up to 10 s waiting in the pacer) + 30 s; 6 × (120 s + 10 s) + 30 s; 6 × (12 s + 6 s) + 30 s;
    // 6 × (2 s + 1 s) + 30 s is below the default 60 s.
    expect([stripe('20000'), stripe('120000'), stripe('12000'), stripe('2000')]).toEqual([
      210_000, 810_000, 138_000, 60_000,
    ]);
    expect(createPaymentsRuntime({ ...deps, config: loadConfig({}) }).ctx.settings.leaseMs).toBe(60_000);
  });
  it('gives the worker 32 slots with Stripe (calls of a few hundred ms) and 8 with the in-process SANDBOX', () => {
    const slots = (env: Record<string, string>) =>
      createPaymentsRuntime({ ...deps, config: loadConfig(env) }).ctx.settings.workerConcurrency;
    const stripe = {
      VOLTBILL_PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_abc',
      STRIPE_WEBHOOK_SECRET: 'whsec_a',
    };
    expect([slots(stripe), slots({}), slots({ ...stripe, VOLTBILL_PAYMENT_WORKER_CONCURRENCY: '48' })]).toEqual([
      32, 8, 48,
    ]);
    expect(() => loadConfig({ VOLTBILL_PAYMENT_WORKER_CONCURRENCY: '257' })).toThrow(ConfigError);
    expect(() => loadConfig({ STRIPE_REQUESTS_PER_SECOND: '0' })).toThrow(ConfigError);
    expect(loadConfig({ STRIPE_REQUESTS_PER_SECOND: '40' }).payments.stripeRequestsPerSecond).toBe(40);
  });
});
