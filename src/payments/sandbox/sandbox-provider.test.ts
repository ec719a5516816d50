import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../shared/clock.ts';
import { type CurrencyCode, money } from '../../shared/money.ts';
import { signWebhook, verifyWebhookSignature } from '../webhook-signature.ts';
import { retryDelayMs } from '../worker/backoff.ts';
import { createSandboxProvider, SANDBOX_SIGNATURE_HEADER } from './sandbox-provider.ts';
import { containsCardNumber, isLuhnValid } from './test-cards.ts';

const EUR = 'EUR' as CurrencyCode;

function setup(options: { statePath?: string; vaultKey?: Buffer } = {}) {
  const clock = fixedClock(new Date('2026-11-26T10:00:00Z'));
  const sandbox = createSandboxProvider({ clock, webhookSecret: 'secret', webhookDelayMs: 1, ...options });
  const card = (number: string) => {
    const ref = sandbox.tokenizeCard({ number, expMonth: 12, expYear: 2030, cvc: '123' });
    if (!ref.ok) throw new Error(ref.error.code);
    return ref.value.paymentMethodRef;
  };
  const saved = async (number: string) => {
    const customer = await sandbox.createCustomer({ idempotencyKey: `c:${number}:${Math.random()}` });
    if (!customer.ok) throw new Error('no customer');
    const method = await sandbox.savePaymentMethod({
      idempotencyKey: `s:${number}:${Math.random()}`,
      customerId: customer.value.customerId,
      paymentMethodRef: card(number),
    });
    return { customerId: customer.value.customerId, method };
  };
  return { clock, sandbox, card, saved };
}

describe('SANDBOX provider', () => {
  it('holds, captures less than the hold (releasing the rest), refunds partially then fully', async () => {
    const { sandbox, saved } = setup();
    const { customerId, method } = await saved('4242424242424242');
    expect(method.ok && method.value).toMatchObject({ brand: 'visa', last4: '4242' });
    if (!method.ok) return;
    const hold = await sandbox.authorize({
      idempotencyKey: 'h1',
      customerId,
      paymentMethodToken: method.value.token,
      amount: money(5000n, EUR),
    });
    expect(hold.ok && hold.value).toMatchObject({
      status: 'authorized',
      authorizedMinor: 5000n,
      holdExpiresAt: new Date('2026-12-03T10:00:00Z'),
    });
    if (!hold.ok) return;
    const id = hold.value.providerPaymentId;
    const over = await sandbox.capture({ idempotencyKey: 'c0', providerPaymentId: id, amount: money(5001n, EUR) });
    expect(!over.ok && over.error.code).toBe('AmountExceedsHold');
    const captured = await sandbox.capture({ idempotencyKey: 'c1', providerPaymentId: id, amount: money(1234n, EUR) });
    expect(captured.ok && captured.value).toMatchObject({ status: 'captured', capturedMinor: 1234n });
    const twice = await sandbox.capture({ idempotencyKey: 'c2', providerPaymentId: id, amount: money(1n, EUR) });
    expect(!twice.ok && twice.error.code).toBe('InvalidState');
    const r1 = await sandbox.refund({ idempotencyKey: 'r1', providerPaymentId: id, amount: money(234n, EUR) });
    expect(r1.ok && r1.value).toMatchObject({ status: 'partially_refunded', refundedMinor: 234n });
    const r2 = await sandbox.refund({ idempotencyKey: 'r2', providerPaymentId: id, amount: money(1000n, EUR) });
    expect(r2.ok && r2.value).toMatchObject({ status: 'refunded', refundedMinor: 1234n });
    const r3 = await sandbox.refund({ idempotencyKey: 'r3', providerPaymentId: id, amount: money(1n, EUR) });
    expect(!r3.ok && r3.error.code).toBe('InvalidState');
  });

  it('replays the first outcome of a key, refuses the key with other parameters, answers status by key', async () => {
    const { sandbox, saved } = setup();
    const { customerId, method } = await saved('4242424242424242');
    if (!method.ok) return;
    const input = {
      idempotencyKey: 'hold:s1',
      customerId,
      paymentMethodToken: method.value.token,
      amount: money(3000n, EUR),
    };
    const first = await sandbox.authorize(input);
    const again = await sandbox.authorize(input);
    expect(first.ok && again.ok && again.value.providerPaymentId).toBe(first.ok && first.value.providerPaymentId);
    const conflict = await sandbox.authorize({ ...input, amount: money(3001n, EUR) });
    expect(!conflict.ok && conflict.error.code).toBe('IdempotencyConflict');
    const status = await sandbox.getStatus({ idempotencyKey: 'hold:s1' });
    expect(status.ok && status.value.status).toBe('authorized');
    const unknown = await sandbox.getStatus({ idempotencyKey: 'hold:never' });
    expect(!unknown.ok && unknown.error.code).toBe('NotFound');
  });

  it('recognises the test cards of payments.md', async () => {
    const { sandbox, saved } = setup();
    for (const [number, code] of [
      ['4000000000000002', 'CardDeclined'],
      ['4000000000009995', 'InsufficientFunds'],
      ['4000000000000069', 'ExpiredCard'],
      ['4000000000000127', 'IncorrectCvc'],
    ] as const) {
      const { method } = await saved(number);
      expect(!method.ok && method.error.code).toBe(code);
    }
    const later = await saved('4000000000000341');
    if (!later.method.ok) throw new Error('0341 saves');
    const declined = await sandbox.authorize({
      idempotencyKey: 'x1',
      customerId: later.customerId,
      paymentMethodToken: later.method.value.token,
      amount: money(100n, EUR),
    });
    expect(!declined.ok && declined.error.code).toBe('CardDeclined');
    const secure = await saved('4000002500003155');
    if (!secure.method.ok) throw new Error('3155 saves');
    const auth = await sandbox.authorize({
      idempotencyKey: 'x2',
      customerId: secure.customerId,
      paymentMethodToken: secure.method.value.token,
      amount: money(100n, EUR),
    });
    expect(!auth.ok && auth.error.code).toBe('AuthenticationRequired');
    // The replay of a declined key is the same decline.
    const replay = await sandbox.authorize({
      idempotencyKey: 'x1',
      customerId: later.customerId,
      paymentMethodToken: later.method.value.token,
      amount: money(100n, EUR),
    });
    expect(!replay.ok && replay.error.code).toBe('CardDeclined');
    expect(sandbox.tokenizeCard({ number: '4242424242424241', expMonth: 1, expYear: 2030, cvc: '1' }).ok).toBe(false);
    const expired = sandbox.tokenizeCard({ number: '4242424242424242', expMonth: 10, expYear: 2026, cvc: '123' });
    expect(!expired.ok && expired.error.code).toBe('ExpiredCard');
  });

  it('lets holds expire after 7 days: the capture is refused and a webhook reports it', async () => {
    const { sandbox, saved, clock } = setup();
    const bodies: string[] = [];
    sandbox.setWebhookSink(async (body) => {
      bodies.push(body.toString());
    });
    const { customerId, method } = await saved('4242424242424242');
    if (!method.ok) return;
    const hold = await sandbox.authorize({
      idempotencyKey: 'h',
      customerId,
      paymentMethodToken: method.value.token,
      amount: money(5000n, EUR),
    });
    if (!hold.ok) return;
    clock.advanceMs(7 * 24 * 3600 * 1000);
    const late = await sandbox.capture({
      idempotencyKey: 'c',
      providerPaymentId: hold.value.providerPaymentId,
      amount: money(10n, EUR),
    });
    expect(!late.ok && late.error.code).toBe('HoldExpired');
    await sandbox.flushWebhooks();
    expect(bodies.map((b) => JSON.parse(b).type)).toEqual(['payment.authorized', 'payment.expired']);
  });

  it('signs webhooks that verify, and its events parse with unknown statuses as pending', async () => {
    const { sandbox, clock } = setup();
    const body = Buffer.from(
      JSON.stringify({
        id: 'evt_1',
        type: 'payment.weird',
        created: 1,
        data: {
          object: {
            id: 'pay_1',
            status: 'mystery',
            currency: 'EUR',
            authorized_minor: '5',
            captured_minor: '0',
            refunded_minor: '0',
          },
        },
      }),
    );
    const header = signWebhook('secret', body, Math.floor(clock.now().getTime() / 1000));
    const parsed = sandbox.parseWebhook(body, { [SANDBOX_SIGNATURE_HEADER]: header });
    expect(parsed.ok && parsed.value.payment?.status).toBe('pending');
    const other = verifyWebhookSignature({
      rawBody: body,
      header,
      secrets: ['other', 'secret'],
      nowS: Math.floor(clock.now().getTime() / 1000),
    });
    expect(other.ok).toBe(true);
    const stale = sandbox.parseWebhook(body, { [SANDBOX_SIGNATURE_HEADER]: signWebhook('secret', body, 1) });
    expect(!stale.ok && stale.error.code).toBe('StaleTimestamp');
  });

  it('injects faults: a lost response moved the money, a timeout did not', async () => {
    const { sandbox, saved } = setup();
    const { customerId, method } = await saved('4242424242424242');
    if (!method.ok) return;
    const base = {
      latencyMs: 0,
      timeoutRate: 0,
      errorRate: 0,
      lostResponseRate: 0,
      webhookDropRate: 0,
      webhookDuplicateRate: 0,
      webhookReorder: false,
      seed: 1,
    };
    sandbox.setFaults({ ...base, lostResponseRate: 1 });
    const lost = await sandbox.authorize({
      idempotencyKey: 'l',
      customerId,
      paymentMethodToken: method.value.token,
      amount: money(100n, EUR),
    });
    expect(!lost.ok && lost.error.code).toBe('Timeout');
    sandbox.setFaults({ ...base, timeoutRate: 1 });
    const timeout = await sandbox.authorize({
      idempotencyKey: 't',
      customerId,
      paymentMethodToken: method.value.token,
      amount: money(100n, EUR),
    });
    expect(!timeout.ok && timeout.error.code).toBe('Timeout');
    sandbox.setFaults(base);
    expect((await sandbox.getStatus({ idempotencyKey: 'l' })).ok).toBe(true);
    expect((await sandbox.getStatus({ idempotencyKey: 't' })).ok).toBe(false);
  });

  it('keeps card data encrypted in its own store, and only last4 leaves it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-'));
    try {
      const statePath = path.join(dir, 'state.json');
      const vaultKey = randomBytes(32);
      const { sandbox, card } = setup({ statePath, vaultKey });
      const token = card('4242 4242 4242 4242');
      const file = readFileSync(statePath, 'utf8');
      expect(file).not.toContain('4242424242424242');
      expect(sandbox.revealCardForTests(token).number).toBe('4242424242424242');
      const reopened = createSandboxProvider({
        clock: fixedClock(new Date('2026-11-26T10:00:00Z')),
        webhookSecret: 's',
        statePath,
        vaultKey,
      });
      expect(reopened.revealCardForTests(token).expYear).toBe(2030);
      const wrongKey = createSandboxProvider({
        clock: fixedClock(new Date()),
        webhookSecret: 's',
        statePath,
        vaultKey: randomBytes(32),
      });
      expect(() => wrongKey.revealCardForTests(token)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SANDBOX state file', () => {
  it('keeps customers, saved cards, payments, replayed outcomes and the id counter across a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-'));
    try {
      const statePath = path.join(dir, 'state.jsonl');
      const vaultKey = randomBytes(32);
      const first = setup({ statePath, vaultKey });
      const { customerId, method } = await first.saved('4242424242424242');
      if (!method.ok) throw new Error('not saved');
      const hold = await first.sandbox.authorize({
        idempotencyKey: 'hold-1',
        customerId,
        paymentMethodToken: method.value.token,
        amount: money(5000n, EUR),
      });
      if (!hold.ok) throw new Error('no hold');
      const id = hold.value.providerPaymentId;
      const capture = { idempotencyKey: 'capture-1', providerPaymentId: id, amount: money(1234n, EUR) };
      expect((await first.sandbox.capture(capture)).ok).toBe(true);

      const second = setup({ statePath, vaultKey });
      expect(await second.sandbox.getStatus({ idempotencyKey: 'hold-1' })).toEqual({
        ok: true,
        value: {
          providerPaymentId: id,
          status: 'captured',
          currency: 'EUR',
          authorizedMinor: 5000n,
          capturedMinor: 1234n,
          refundedMinor: 0n,
        },
      });
      // The same key replays the first outcome; other parameters under it are refused, as before the restart.
      expect(await second.sandbox.capture(capture)).toMatchObject({ ok: true, value: { capturedMinor: 1234n } });
      expect(await second.sandbox.capture({ ...capture, amount: money(1n, EUR) })).toMatchObject({
        ok: false,
        error: { code: 'IdempotencyConflict' },
      });
      // The saved card still belongs to its customer; a second card can be saved for that customer.
      const again = await second.sandbox.authorize({
        idempotencyKey: 'hold-2',
        customerId,
        paymentMethodToken: method.value.token,
        amount: money(100n, EUR),
      });
      if (!again.ok) throw new Error('no second hold');
      const other = await second.sandbox.savePaymentMethod({
        idempotencyKey: 'save-2',
        customerId,
        paymentMethodRef: second.card('5555555555554444'),
      });
      expect(other.ok).toBe(true);
      // The id counter goes on from where it was (ids are `pay_sbx_<counter, base 36><12 random hex digits>`).
      const counter = (providerPaymentId: string) => Number.parseInt(providerPaymentId.slice(8, -12), 36);
      expect(counter(again.value.providerPaymentId)).toBeGreaterThan(counter(id));

      // A void, a refund and a refused hold, then another restart: each as it was left.
      await second.sandbox.void({ idempotencyKey: 'void-2', providerPaymentId: again.value.providerPaymentId });
      await second.sandbox.refund({ idempotencyKey: 'refund-1', providerPaymentId: id, amount: money(234n, EUR) });
      const declined = await second.sandbox.authorize({
        idempotencyKey: 'hold-3',
        paymentMethodToken: second.card('4000000000000002'),
        amount: money(100n, EUR),
      });
      expect(declined).toMatchObject({ ok: false, error: { code: 'CardDeclined' } });
      const third = setup({ statePath, vaultKey });
      expect(await third.sandbox.getStatus({ idempotencyKey: 'hold-2' })).toMatchObject({
        ok: true,
        value: { status: 'voided' },
      });
      expect(await third.sandbox.getStatus({ idempotencyKey: 'hold-1' })).toMatchObject({
        ok: true,
        value: { status: 'partially_refunded', refundedMinor: 234n },
      });
      expect(await third.sandbox.getStatus({ idempotencyKey: 'hold-3' })).toMatchObject({
        ok: true,
        value: { status: 'failed' },
      });
      expect(
        await third.sandbox.authorize({
          idempotencyKey: 'hold-3',
          paymentMethodToken: 'ignored-by-the-replay',
          amount: money(100n, EUR),
        }),
      ).toMatchObject({ ok: false, error: { code: 'IdempotencyConflict' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('appends the changed records only: what was written stays as it was', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-'));
    try {
      const statePath = path.join(dir, 'state.jsonl');
      const { sandbox, card } = setup({ statePath, vaultKey: randomBytes(32) });
      const token = card('4242424242424242');
      const pay = async (n: number) => {
        const hold = await sandbox.authorize({
          idempotencyKey: `a${n}`,
          paymentMethodToken: token,
          amount: money(900n, EUR),
        });
        if (!hold.ok) throw new Error('no hold');
        await sandbox.capture({
          idempotencyKey: `c${n}`,
          providerPaymentId: hold.value.providerPaymentId,
          amount: money(800n, EUR),
        });
      };
      for (let n = 0; n < 20; n++) await pay(n);
      const before = readFileSync(statePath, 'utf8');
      await pay(20);
      const after = readFileSync(statePath, 'utf8');
      // A rewrite of the whole state (the first version) changed every byte after the first record.
      expect(after.startsWith(before)).toBe(true);
      // One payment: a line for its hold (the payment and its key), one for its capture.
      expect(after.slice(before.length).trimEnd().split('\n')).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('helpers', () => {
  it('finds card-number-shaped text by Luhn', () => {
    expect(isLuhnValid('4242424242424242')).toBe(true);
    expect(containsCardNumber('{"x":"4242 4242 4242 4242"}')).toBe(true);
    expect(containsCardNumber('{"n":"4242424242424241"}')).toBe(false);
  });
  it('backs off exponentially up to an hour', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 1000))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(40, 1000)).toBe(3_600_000);
  });
});
