import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('STRIPE_API_URL and STRIPE_TIMEOUT_MS', () => {
  it('default to Stripe itself and 20 s', () => {
    const config = loadConfig({});
    expect(config.payments.stripeApi).toBeUndefined();
    expect(config.payments.stripeTimeoutMs).toBe(20_000);
  });

  it('split the base URL into the host, port and protocol the Stripe SDK takes', () => {
    expect(loadConfig({ STRIPE_API_URL: 'http://127.0.0.1:12111' }).payments.stripeApi).toEqual({
      host: '127.0.0.1',
      port: 12111,
      protocol: 'http',
    });
    expect(loadConfig({ STRIPE_API_URL: 'https://stripe-egress.internal/' }).payments.stripeApi).toEqual({
      host: 'stripe-egress.internal',
      port: 443,
      protocol: 'https',
    });
    expect(loadConfig({ STRIPE_API_URL: 'http://[::1]:8080' }).payments.stripeApi).toEqual({
      host: '::1',
      port: 8080,
      protocol: 'http',
    });
    expect(loadConfig({ STRIPE_TIMEOUT_MS: '2000' }).payments.stripeTimeoutMs).toBe(2000);
  });

  it.each([
    'ftp://stripe.example',
    'stripe.example:443',
    'https://stripe.example/v1',
    'https://user:secret@stripe.example',
    'https://stripe.example?x=1',
  ])('refuses %s (only http(s)://host[:port])', (url) => {
    expect(() => loadConfig({ STRIPE_API_URL: url })).toThrow(ConfigError);
    expect(() => loadConfig({ STRIPE_API_URL: url })).toThrow(/STRIPE_API_URL/);
  });

  it('refuses a timeout of zero or above two minutes', () => {
    expect(() => loadConfig({ STRIPE_TIMEOUT_MS: '0' })).toThrow(/STRIPE_TIMEOUT_MS/);
    expect(() => loadConfig({ STRIPE_TIMEOUT_MS: '120001' })).toThrow(/STRIPE_TIMEOUT_MS/);
  });
});
