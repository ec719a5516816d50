/**
 * The provider's webhook endpoint is not under the API's per-address limit: a card provider sends several signed
 * events per payment from a few addresses. Refused requests are limited instead (webhook-refusal-gate.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { SANDBOX_SIGNATURE_HEADER } from '../src/payments/sandbox/sandbox-provider.ts';
import { signWebhook } from '../src/payments/webhook-signature.ts';
import { startTestServer } from './support/test-server.ts';

const SECRET = 'webhook-limit-test-secret';
const LIMIT_PER_MINUTE = 5;

describe('webhook endpoint and rate limits', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      VOLTBILL_RATE_LIMIT_PER_IP: String(LIMIT_PER_MINUTE),
      VOLTBILL_SANDBOX_WEBHOOK_SECRET: SECRET,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const event = (n: number) =>
    JSON.stringify({
      id: `evt_limit_${n}`,
      object: 'event',
      type: 'payment.captured',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: `pay_unknown_${n}`,
          currency: 'EUR',
          authorized_minor: '100',
          captured_minor: '100',
          refunded_minor: '0',
          status: 'captured',
        },
      },
    });
  const post = (body: string, signature: string) =>
    fetch(`${server.httpUrl}/api/v1/payments/webhooks/sandbox`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SANDBOX_SIGNATURE_HEADER]: signature },
      body,
    });
  const signed = (body: string) => signWebhook(SECRET, body, Math.floor(Date.now() / 1000));

  it('answers every signed event, past the per-address limit; refused ones are limited, and never a signed one', async () => {
    // Three times the per-address limit of signed events: none is refused for rate.
    const statuses: number[] = [];
    for (let n = 0; n < LIMIT_PER_MINUTE * 3; n++) {
      const body = event(n);
      statuses.push((await post(body, signed(body))).status);
    }
    expect(statuses).toEqual(Array.from({ length: LIMIT_PER_MINUTE * 3 }, () => 200));
    const stored = await server.database.db
      .selectFrom('payment_webhook_events')
      .select('event_id')
      .where('event_id', 'like', 'evt_limit_%')
      .execute();
    expect(stored).toHaveLength(LIMIT_PER_MINUTE * 3);

    // Forged events: refused one by one up to the limit, then 429 without being looked at. Counted per clock
    // minute: start well inside one, so that the whole run falls in it.
    const msToNextMinute = 60_000 - (Date.now() % 60_000);
    if (msToNextMinute < 5_000) await new Promise((resolve) => setTimeout(resolve, msToNextMinute + 50));
    const forged: { status: number; code: string }[] = [];
    for (let n = 0; n < LIMIT_PER_MINUTE + 2; n++) {
      const response = await post(event(100 + n), `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`);
      forged.push({
        status: response.status,
        code: ((await response.json()) as { error: { code: string } }).error.code,
      });
    }
    expect(forged).toEqual([
      ...Array.from({ length: LIMIT_PER_MINUTE }, () => ({ status: 400, code: 'WebhookInvalid' })),
      { status: 429, code: 'RateLimited' },
      { status: 429, code: 'RateLimited' },
    ]);

    // A signed event from that address is still answered and stored: a forger sharing the provider's addresses
    // (anyone can point a provider account of their own here) cannot get the real events refused.
    const body = event(200);
    const signedAfter = await post(body, signed(body));
    expect(signedAfter.status).toBe(200);
    const after = await server.database.db
      .selectFrom('payment_webhook_events')
      .select('event_id')
      .where('event_id', 'like', 'evt_limit_%')
      .execute();
    expect(after).toHaveLength(LIMIT_PER_MINUTE * 3 + 1);
    // And the forger is still answered 429, with the seconds to the end of the minute.
    const again = await post(event(300), `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`);
    expect(again.status).toBe(429);
    const retryAfterS = Number(again.headers.get('retry-after'));
    expect(retryAfterS).toBeGreaterThanOrEqual(1);
    expect(retryAfterS).toBeLessThanOrEqual(60);
  });
});
