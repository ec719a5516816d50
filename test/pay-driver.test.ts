/**
 * The driver's side of the ad-hoc QR payment over real HTTP and a real OCPP 1.6J station, on both database
 * backends: the start call returns a per-payment driver secret; GET /api/v1/pay/sessions/:id follows the payment
 * through hold, remote start, charging (live energy and running cost) and finish (the receipt with the exact invoice
 * totals and its PDF); a declined card, a station that refuses and an offline station fail clearly without money
 * kept; the secret opens that one payment only. Also the driver account lists /api/v1/me/invoices and
 * /api/v1/me/payment-methods.
 */
import type { RPCClient } from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { connectStation, type Station, startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();
const T0 = new Date('2026-11-24T10:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = any;

describe.skipIf(skip)('ad-hoc payment: the driver status endpoint', () => {
  const clock = fixedClock(at(0));
  let server: RunningServer;
  const stations: Station[] = [];

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json().catch(() => null)) as Json,
    };
  };
  const admin = () => ({ authorization: `Bearer ${server.seeded!.adminApiKey}` });
  const qrToken = async (stationId: string) =>
    (await api('POST', '/api/v1/payments/qr-tokens', { stationId, evseId: 1 }, admin())).body.token as string;
  const tokenize = async (number: string) =>
    (await api('POST', '/sandbox/v1/payment_methods', { number, exp_month: 12, exp_year: 2030, cvc: '123' })).body
      .id as string;
  const status = (id: string, secret?: string) =>
    api('GET', `/api/v1/pay/sessions/${id}`, undefined, secret ? { 'x-pay-secret': secret } : {});

  /** A real station that answers RemoteStartTransaction with `answer` and records the id tags it was sent. */
  async function station(id: string, answer: 'Accepted' | 'Rejected') {
    const client = await connectStation(server, id);
    stations.push(client);
    const asked: string[] = [];
    (client as unknown as RPCClient).handle('RemoteStartTransaction', (({ params }: { params: Json }) => {
      asked.push(params.idTag);
      return { status: answer };
    }) as unknown as Parameters<RPCClient['handle']>[1]);
    await client.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'Pay' });
    return { client, asked };
  }

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_RECONCILE_INTERVAL_S: '0' }, { clock });
  }, 240_000);
  afterAll(async () => {
    for (const s of stations) await s.close({ force: true });
    await server?.close();
  });

  it('follows one payment from the hold to the receipt, with live energy and cost', async () => {
    const { client, asked } = await station('DEMO-0001', 'Accepted');
    const token = await qrToken('DEMO-0001');
    const quote = await api('GET', `/api/v1/pay/${token}`);
    expect(quote.body).toMatchObject({
      stationId: 'DEMO-0001',
      hostedFieldsUrl: '/sandbox/hosted-fields',
      stationOnline: true,
      hold: { amount: '50.00', currency: 'EUR' },
    });

    const declined = await api('POST', `/api/v1/pay/${token}/sessions`, {
      paymentMethodRef: await tokenize('4000000000000002'),
    });
    expect([declined.status, declined.body.error.code]).toEqual([402, 'PaymentDeclined']);
    expect(asked).toEqual([]);

    const started = await api('POST', `/api/v1/pay/${token}/sessions`, {
      paymentMethodRef: await tokenize('4242424242424242'),
      receiptEmail: 'driver@example.com',
    });
    expect(started.status).toBe(201);
    const { paymentId, driverSecret, statusPath } = started.body;
    expect(driverSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(statusPath).toBe(`/api/v1/pay/sessions/${paymentId}`);
    expect(asked).toEqual([started.body.idTag]);
    // The receipt email is stored sealed by the field cipher, never in clear text.
    const link = await server.database.db
      .selectFrom('pay_driver_links')
      .selectAll()
      .where('payment_id', '=', paymentId)
      .executeTakeFirstOrThrow();
    expect(link.remote_start).toBe('Accepted');
    expect(link.receipt_email_enc).toMatch(/^vbe1\./);
    expect(link.receipt_email_enc).not.toContain('driver@example.com');

    const waiting = await status(paymentId, driverSecret);
    expect([waiting.status, waiting.headers.get('cache-control')]).toEqual([200, 'no-store']);
    expect(waiting.body).toEqual({
      paymentId,
      state: 'starting',
      sandbox: true,
      failure: null,
      hold: { amount: '50.00', currency: 'EUR', minor: '5000' },
      paymentStatus: 'authorized',
      session: null,
      runningCost: null,
      receipt: null,
      pollAfterMs: 2000,
    });

    // The secret opens this payment only: none, a wrong one, or this one for another id are all "not found".
    expect((await status(paymentId)).status).toBe(404);
    expect((await status(paymentId, 'f'.repeat(64))).status).toBe(404);
    expect((await status('00000000-0000-4000-8000-000000000000', driverSecret)).status).toBe(404);

    const { transactionId } = await client.call<Json>('StartTransaction', {
      connectorId: 1,
      idTag: started.body.idTag,
      meterStart: 100_000,
      timestamp: at(0).toISOString(),
    });
    const charging = await status(paymentId, driverSecret);
    expect(charging.body).toMatchObject({
      state: 'charging',
      session: { stationId: 'DEMO-0001', evseId: 1, energyWh: 0, endedAt: null },
      // Nothing metered yet: the session fee alone, 0.35 + 19 % VAT = 0.4165 -> 0.42.
      runningCost: { exclVat: '0.35', inclVat: '0.42', currency: 'EUR' },
    });
    clock.set(at(30));
    await client.call('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: at(30).toISOString(),
          sampledValue: [{ value: '102500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        },
      ],
    });
    // Samples are written in batches: the status shows them within a moment.
    await expect
      .poll(async () => (await status(paymentId, driverSecret)).body.session.energyWh, { timeout: 10_000 })
      .toBe(2500);
    expect((await status(paymentId, driverSecret)).body.runningCost).toEqual({
      exclVat: '1.58',
      inclVat: '1.88',
      currency: 'EUR',
    });

    clock.set(at(60));
    await client.call('StopTransaction', { transactionId, meterStop: 105_000, timestamp: at(60).toISOString() });
    await server.payments.worker.runUntilIdle();
    await server.payments.sandbox!.flushWebhooks();
    const finished = await status(paymentId, driverSecret);
    const invoice = await server.database.db
      .selectFrom('invoices')
      .select(['invoice_number', 'issued_at'])
      .where(
        'id',
        '=',
        (
          await server.database.db
            .selectFrom('payments')
            .select('invoice_id')
            .where('id', '=', paymentId)
            .executeTakeFirstOrThrow()
        ).invoice_id!,
      )
      .executeTakeFirstOrThrow();
    expect(finished.body).toMatchObject({
      state: 'finished',
      paymentStatus: 'captured',
      session: { energyWh: 5000, endedAt: at(60).toISOString(), billingStatus: 'Billed' },
      runningCost: null,
      receipt: {
        invoiceNumber: invoice.invoice_number,
        issuedAt: invoice.issued_at.toISOString(),
        currency: 'EUR',
        totalExclVat: '2.80',
        totalVat: '0.54',
        totalInclVat: '3.34',
        captured: { amount: '3.34', currency: 'EUR', minor: '334' },
        pdfPath: `/api/v1/pay/sessions/${paymentId}/receipt.pdf`,
      },
      pollAfterMs: null,
    });
    const pdf = await fetch(`${server.httpUrl}/api/v1/pay/sessions/${paymentId}/receipt.pdf`, {
      headers: { 'x-pay-secret': driverSecret },
    });
    expect([pdf.status, pdf.headers.get('content-type')]).toEqual([200, 'application/pdf']);
    expect(pdf.headers.get('content-disposition')).toBe(`attachment; filename="${invoice.invoice_number}.pdf"`);
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    const noSecret = await fetch(`${server.httpUrl}/api/v1/pay/sessions/${paymentId}/receipt.pdf`);
    expect(noSecret.status).toBe(404);
  });

  it('fails clearly when the station refuses to start, and the hold is released', async () => {
    const { asked } = await station('DEMO-0002', 'Rejected');
    const token = await qrToken('DEMO-0002');
    const started = await api('POST', `/api/v1/pay/${token}/sessions`, {
      paymentMethodRef: await tokenize('4242424242424242'),
    });
    expect(started.status).toBe(201);
    expect(started.body.remoteStart).toBe('Rejected');
    expect(asked).toHaveLength(1);
    await server.payments.worker.runUntilIdle();
    const failed = await status(started.body.paymentId, started.body.driverSecret);
    expect(failed.body).toMatchObject({
      state: 'failed',
      paymentStatus: 'voided',
      failure: {
        code: 'StationRefused',
        message: 'The charger did not start. Your reservation is released; no money was taken.',
      },
      pollAfterMs: null,
    });
  });

  it('takes no card for a charger that is offline', async () => {
    const token = await qrToken('DEMO-0005');
    expect((await api('GET', `/api/v1/pay/${token}`)).body.stationOnline).toBe(false);
    const before = await server.database.db.selectFrom('payments').select('id').execute();
    const refused = await api('POST', `/api/v1/pay/${token}/sessions`, {
      paymentMethodRef: await tokenize('4242424242424242'),
    });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'StationNotConnected']);
    expect((await server.database.db.selectFrom('payments').select('id').execute()).length).toBe(before.length);
  });

  it("lists a driver's own invoices and saved cards, and nobody else's", async () => {
    const drivers = [
      { uid: 'PAYD0001', email: 'one@example.com', card: '4242424242424242' },
      { uid: 'PAYD0002', email: 'two@example.com', card: '5555555555554444' },
    ];
    const { client } = await station('DEMO-0003', 'Accepted');
    const bearer: string[] = [];
    for (const [i, d] of drivers.entries()) {
      const customer = await api('POST', '/api/v1/customers', { name: `Driver ${i + 1}`, email: d.email }, admin());
      await api('POST', '/api/v1/id-tokens', { uid: d.uid, customerId: customer.body.id }, admin());
      await api(
        'POST',
        '/api/v1/users',
        { email: d.email, password: 'a-long-driver-password', role: 'driver', customerId: customer.body.id },
        admin(),
      );
      const saved = await api(
        'POST',
        '/api/v1/payments/methods',
        { idTag: d.uid, paymentMethodRef: await tokenize(d.card) },
        admin(),
      );
      expect(saved.status).toBe(201);
      clock.set(at(200 + i * 120));
      const { transactionId } = await client.call<Json>('StartTransaction', {
        connectorId: 1,
        idTag: d.uid,
        meterStart: 0,
        timestamp: clock.now().toISOString(),
      });
      clock.set(at(260 + i * 120));
      await client.call('StopTransaction', { transactionId, meterStop: 5_000, timestamp: clock.now().toISOString() });
    }
    // Signed in after the sessions: the fixed clock moved past the first access token's lifetime meanwhile.
    for (const d of drivers) {
      const signIn = await api('POST', '/api/v1/auth/sign-in', { email: d.email, password: 'a-long-driver-password' });
      bearer.push(`Bearer ${signIn.body.accessToken}`);
    }
    const invoices = await api('GET', '/api/v1/me/invoices', undefined, { authorization: bearer[0]! });
    expect(invoices.status).toBe(200);
    expect(invoices.body.data).toHaveLength(1);
    expect(invoices.body.data[0]).toMatchObject({ kind: 'invoice', currency: 'EUR', totalInclVat: '3.34' });
    const cards = await api('GET', '/api/v1/me/payment-methods', undefined, { authorization: bearer[0]! });
    expect(cards.body.data.map((c: Json) => [c.brand, c.last4, c.expires, c.status])).toEqual([
      ['visa', '4242', '12/2030', 'active'],
    ]);
    const other = await api('GET', '/api/v1/me/invoices', undefined, { authorization: bearer[1]! });
    expect(other.body.data).toHaveLength(1);
    expect(other.body.data[0].id).not.toBe(invoices.body.data[0].id);
    // Another driver's invoice PDF is "not found"; one's own is a PDF.
    const own = await fetch(`${server.httpUrl}/api/v1/me/invoices/${invoices.body.data[0].id}/pdf`, {
      headers: { authorization: bearer[0]! },
    });
    expect([own.status, own.headers.get('content-type')]).toEqual([200, 'application/pdf']);
    const foreign = await api('GET', `/api/v1/me/invoices/${other.body.data[0].id}/pdf`, undefined, {
      authorization: bearer[0]!,
    });
    expect(foreign.status).toBe(404);
    // Staff have the operator-wide lists instead; anonymous callers nothing.
    expect((await api('GET', '/api/v1/me/invoices', undefined, admin())).body.error.code).toBe('Forbidden');
    expect((await api('GET', '/api/v1/me/payment-methods')).status).toBe(401);
  });
});

describe.skipIf(skip)('ad-hoc payment with Stripe configured', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      VOLTBILL_PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_not_called_in_this_test',
      STRIPE_WEBHOOK_SECRET: 'whsec_not_called_in_this_test',
      VOLTBILL_RECONCILE_INTERVAL_S: '0',
    });
  }, 240_000);
  afterAll(async () => {
    await server?.close();
  });

  it("opens the pay page's policy to exactly what Stripe.js needs, and serves no sandbox card page", async () => {
    const qr = await fetch(`${server.httpUrl}/api/v1/payments/qr-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.seeded!.adminApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stationId: 'DEMO-0001', evseId: 1 }),
    });
    const { token, path } = (await qr.json()) as { token: string; path: string };
    const quote = (await (await fetch(`${server.httpUrl}/api/v1/pay/${token}`)).json()) as Json;
    expect(quote).toMatchObject({ provider: 'stripe', sandbox: false, hostedFieldsUrl: null });
    const page = await fetch(`${server.httpUrl}${path}`);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self' https://api.stripe.com; frame-src 'self' https://js.stripe.com https://hooks.stripe.com; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
    // The dashboard keeps the same-origin policy.
    const app = await fetch(`${server.httpUrl}/app/`);
    expect(app.headers.get('content-security-policy')).not.toContain('stripe');
    expect((await fetch(`${server.httpUrl}/sandbox/hosted-fields`)).status).toBe(404);
  });
});
