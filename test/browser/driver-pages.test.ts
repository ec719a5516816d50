/**
 * The driver pages on a phone-sized viewport, against a real server with a real OCPP 1.6J station:
 * - the ad-hoc pay page opened by an EVSE's signed QR link: price first, the SANDBOX hosted card fields (a declined
 *   card, then a good one), the hold, RemoteStartTransaction at the station, live energy and cost from the
 *   station's meter values, the receipt with the exact invoice total, and its PDF;
 * - its empty and error states: an expired QR code, a forged one, a charger that is offline;
 * - the account page of a signed-in driver: exactly that driver's sessions, invoices, RFID tokens and saved card.
 *
 * VOLTBILL_SCREENSHOT_DIR=docs/screenshots makes the pay flow photograph its steps (the README's pay screenshots).
 */
import { join } from 'node:path';
import type { RPCClient } from 'ocpp-rpc';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { signQrToken } from '../../src/payments/flows/qr-token.ts';
import { fixedClock } from '../../src/shared/clock.ts';
import { connectStation, type Station, startTestServer } from '../support/test-server.ts';
import { browserSkipReason, launchBrowser, openPage } from './support/browser.ts';

const skip = browserSkipReason();
const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  colorScheme: 'dark' as const,
};
const T0 = new Date('2026-11-24T10:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const screenshotDir = process.env.VOLTBILL_SCREENSHOT_DIR;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = any;

describe.skipIf(skip)('driver pages on a phone', () => {
  const clock = fixedClock(at(0));
  let server: RunningServer;
  let browser: Browser;
  const stations: Station[] = [];

  const api = async (method: string, path: string, body?: unknown, bearer?: string | null) => {
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers: {
        ...(bearer !== null && { authorization: `Bearer ${bearer ?? server.seeded!.adminApiKey}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Json };
  };
  const qrPath = async (stationId: string) => {
    const qr = await api('POST', '/api/v1/payments/qr-tokens', { stationId, evseId: 1 });
    expect(qr.status).toBe(201);
    return qr.body.path as string;
  };
  const snap = async (page: Page, name: string) => {
    if (screenshotDir) await page.screenshot({ path: join(screenshotDir, name), fullPage: true });
  };

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_RECONCILE_INTERVAL_S: '0' }, { clock });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const station of stations) await station.close({ force: true });
    await browser?.close();
    await server?.close();
  });

  it('serves the pay page and the SANDBOX card fields each with its own strict content security policy', async () => {
    const response = await fetch(`${server.httpUrl}${await qrPath('DEMO-0001')}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const html = await response.text();
    const script = /src="(\/assets\/pay-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.httpUrl}${script}`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const fields = await fetch(`${server.httpUrl}/sandbox/hosted-fields`);
    expect(fields.status).toBe(200);
    expect(fields.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'self'; " +
        "base-uri 'none'; form-action 'none'",
    );
    expect(fields.headers.get('cache-control')).toBe('no-store');
    expect(await fields.text()).toContain('SANDBOX card fields');
    // Voltbill's own API still refuses a card number (only the sandbox's tokenization endpoint takes one).
    const refused = await api('POST', `/api/v1/pay/x/sessions`, { paymentMethodRef: '4242 4242 4242 4242' }, null);
    expect(refused.body.error.code).toBe('CardDataRefused');
  });

  it('runs the ad-hoc pay flow: price, declined card, good card, hold, remote start, live cost, receipt', async () => {
    // The station is a real OCPP 1.6J client; it starts a transaction when the CSMS asks it to.
    const station = await connectStation(server, 'DEMO-0001');
    stations.push(station);
    let remoteStart: { idTag: string; connectorId?: number } | undefined;
    (station as unknown as RPCClient).handle('RemoteStartTransaction', (({ params }: { params: Json }) => {
      remoteStart = params;
      return { status: 'Accepted' };
    }) as unknown as Parameters<RPCClient['handle']>[1]);
    await station.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'Phone' });
    await station.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });

    const { page, errors } = await openPage(browser, PHONE, [402]);
    await page.goto(`${server.httpUrl}${await qrPath('DEMO-0001')}`);
    // Price before anything else: the first heading of the page is the price.
    await page.getByRole('heading', { name: 'Price at this charger' }).waitFor();
    expect(await page.locator('h1, h2').first().textContent()).toBe('Price at this charger');
    expect(await page.locator('.price-list li').allTextContents()).toEqual([
      'Per sessionEUR 0.35 / session + 19 % VAT',
      'EnergyEUR 0.49 / kWh + 19 % VAT',
      'Parking (not charging)EUR 6.00 / hour + 19 % VAT',
    ]);
    expect(await page.locator('.price-card p.small').first().textContent()).toBe(
      '0.49 EUR/kWh (22:00-06:00: 0.39 EUR/kWh), 0.35 EUR per session, parking 6.00 EUR/h when not charging. Incl. 19% VAT on top.',
    );
    await page.getByText('SANDBOX · test payments only', { exact: false }).waitFor();
    await page.getByText('We reserve EUR 50.00 on your card', { exact: false }).waitFor();
    await snap(page, 'pay-price.png');

    // A declined card: a clear error, no money reserved, nothing started, and a fresh form for another card.
    const card = page.frameLocator('iframe.card-frame');
    await card.getByLabel('Card number').fill('4000 0000 0000 0002');
    await card.getByLabel('Expiry (MM/YY)').fill('12/30');
    await card.getByLabel('CVC').fill('123');
    await snap(page, 'pay-card.png');
    await card.getByRole('button', { name: 'Use this card' }).click();
    const declined = page.getByRole('alert').filter({ hasText: 'Card not accepted.' });
    await declined.waitFor();
    expect(await declined.textContent()).toBe(
      'Card not accepted. Your card was declined (CardDeclined). No money was taken. Try another card.',
    );
    expect(remoteStart).toBeUndefined();
    expect(errors).toEqual([]);
    await snap(page, 'pay-declined.png');

    // The card the sandbox accepts: the hold is placed, the station is asked to start.
    await card.getByLabel('Card number').fill('4242424242424242');
    await card.getByLabel('Expiry (MM/YY)').fill('12/30');
    await card.getByLabel('CVC').fill('123');
    await card.getByRole('button', { name: 'Use this card' }).click();
    await page.getByRole('heading', { name: 'Starting the charger…' }).waitFor();
    expect(await page.locator('[data-state="starting"] p').first().textContent()).toBe(
      'EUR 50.00 reserved on the card ending 4242. Plug in your car if you have not yet: the charger starts on its own.',
    );
    expect(remoteStart).toMatchObject({ connectorId: 1 });
    expect(remoteStart!.idTag).toMatch(/^AH[0-9A-F]{18}$/);
    const payment = await server.database.db
      .selectFrom('payments')
      .selectAll()
      .where('kind', '=', 'adhoc')
      .where('status', '=', 'authorized')
      .executeTakeFirstOrThrow();
    expect(payment).toMatchObject({ station_id: 'DEMO-0001', evse_id: 1, authorized_minor: 5000n });

    // The station starts the transaction with the one-time id tag and meters 2.5 kWh in 30 minutes.
    const { transactionId, idTagInfo } = await station.call<Json>('StartTransaction', {
      connectorId: 1,
      idTag: remoteStart!.idTag,
      meterStart: 100_000,
      timestamp: at(0).toISOString(),
    });
    expect(idTagInfo.status).toBe('Accepted');
    await station.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    clock.set(at(30));
    await station.call('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: at(30).toISOString(),
          sampledValue: [
            { value: '102500', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic' },
          ],
        },
      ],
    });
    await page.getByRole('heading', { name: 'Charging' }).waitFor();
    // 2.5 kWh x 0.49 = 1.225 -> 1.23 excl.; incl. 19 % VAT 1.46; session fee 0.35 -> 0.42 incl.: 1.88 so far.
    await expect.poll(() => page.getByTestId('energy').textContent(), { timeout: 10_000 }).toBe('2.500 kWh');
    await expect.poll(() => page.getByTestId('cost').textContent(), { timeout: 10_000 }).toBe('EUR 1.88');
    await snap(page, 'pay-charging.png');

    // The station stops at 5 kWh: the receipt is the invoice, 5 x 0.49 = 2.45 + 0.35 = 2.80 net, 0.54 VAT, 3.34.
    clock.set(at(60));
    await station.call('StopTransaction', { transactionId, meterStop: 105_000, timestamp: at(60).toISOString() });
    await station.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    const receipt = page.getByTestId('receipt');
    await receipt.waitFor({ timeout: 15_000 });
    const invoice = await server.database.db
      .selectFrom('invoices')
      .innerJoin('invoice_sessions', 'invoice_sessions.invoice_id', 'invoices.id')
      .innerJoin('sessions', 'sessions.id', 'invoice_sessions.session_id')
      .select(['invoices.invoice_number', 'invoices.total_incl_vat_minor', 'invoices.total_vat_minor'])
      .where('sessions.transaction_id', '=', String(transactionId))
      .where('sessions.station_id', '=', 'DEMO-0001')
      .executeTakeFirstOrThrow();
    expect([invoice.total_incl_vat_minor, invoice.total_vat_minor]).toEqual([334n, 54n]);
    expect(await page.getByRole('heading', { name: 'Finished' }).count()).toBe(1);
    expect(await receipt.locator('h3').textContent()).toBe(`Receipt ${invoice.invoice_number}`);
    expect(await receipt.locator('tr').allTextContents()).toEqual(['NetEUR 2.80', 'VATEUR 0.54', 'TotalEUR 3.34']);
    expect(await page.getByTestId('energy').textContent()).toBe('5.000 kWh');
    expect(await page.getByTestId('cost').textContent()).toBe('EUR 3.34');
    await snap(page, 'pay-receipt.png');

    // The receipt as PDF, named by its invoice number.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download receipt (PDF)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${invoice.invoice_number}.pdf`);

    // The hold is captured for exactly the invoice total; the rest is released.
    await server.payments.worker.runUntilIdle();
    await server.payments.sandbox!.flushWebhooks();
    const paid = await server.database.db
      .selectFrom('payments')
      .select(['status', 'captured_minor', 'session_id'])
      .where('id', '=', payment.id)
      .executeTakeFirstOrThrow();
    expect(paid).toMatchObject({ status: 'captured', captured_minor: 334n });

    // The driver secret (kept by the page for this tab) opens this payment and nothing else.
    const kept = JSON.parse(
      (await page.evaluate('Object.values(sessionStorage).find((v) => v.includes("driverSecret"))')) as string,
    ) as { started: { paymentId: string; driverSecret: string; statusPath: string } };
    expect(kept.started.paymentId).toBe(payment.id);
    expect(kept.started.statusPath).toBe(`/api/v1/pay/sessions/${payment.id}`);
    const status = (id: string, secret?: string) =>
      fetch(`${server.httpUrl}/api/v1/pay/sessions/${id}`, { headers: secret ? { 'x-pay-secret': secret } : {} });
    const own = await status(payment.id, kept.started.driverSecret);
    expect(own.status).toBe(200);
    expect(((await own.json()) as Json).receipt).toMatchObject({
      invoiceNumber: invoice.invoice_number,
      totalExclVat: '2.80',
      totalVat: '0.54',
      totalInclVat: '3.34',
      captured: { amount: '3.34', currency: 'EUR', minor: '334' },
    });
    expect((await status(payment.id)).status).toBe(404);
    expect((await status(payment.id, '0'.repeat(64))).status).toBe(404);
    expect((await status('00000000-0000-4000-8000-000000000000', kept.started.driverSecret)).status).toBe(404);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('says clearly when the QR code has expired, is forged, or the charger is offline', async () => {
    const { page, errors } = await openPage(browser, PHONE, [401, 410]);
    const nowS = Math.floor(clock.now().getTime() / 1000);
    const expired = signQrToken(
      { stationId: 'DEMO-0001', evseId: 1, expiresAtS: nowS - 1 },
      server.payments.payLinkSecret,
    );
    await page.goto(`${server.httpUrl}/pay/${expired}`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe(
      'This QR code has expiredScan the QR code on the charger again to get the current price and payment page.',
    );
    expect(await page.locator('iframe').count()).toBe(0);
    await snap(page, 'pay-expired.png');

    const forged = `${expired.split('.')[0]}.${'A'.repeat(43)}`;
    await page.goto(`${server.httpUrl}/pay/${forged}`);
    await page.getByText('This payment link is not valid').waitFor();

    // DEMO-0002 is not connected: the price is shown, no card is asked for.
    await page.goto(`${server.httpUrl}${await qrPath('DEMO-0002')}`);
    await page.getByRole('heading', { name: 'Price at this charger' }).waitFor();
    await page.getByText('This charger is offline right now').waitFor();
    expect(await page.locator('iframe').count()).toBe(0);
    expect(errors).toEqual([]);
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBe(0);
    await page.context().close();
  });
  it('shows a signed-in driver exactly their own sessions, invoices, RFID cards and saved card', async () => {
    // Two real driver accounts, seeded through the API as support and admin would.
    const drivers = [
      { name: 'Erika Mustermann', email: 'erika@example.com', uid: 'ERIKA001', card: '4242424242424242', wh: 5_000 },
      { name: 'Max Muster', email: 'max@example.com', uid: 'MAX00001', card: '5555555555554444', wh: 8_000 },
    ];
    const station = await connectStation(server, 'DEMO-0003');
    stations.push(station);
    await station.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'Account' });
    const sessionIds: string[] = [];
    for (const [i, d] of drivers.entries()) {
      const customer = await api('POST', '/api/v1/customers', { name: d.name, email: d.email });
      expect(customer.status).toBe(201);
      expect((await api('POST', '/api/v1/id-tokens', { uid: d.uid, customerId: customer.body.id })).status).toBe(201);
      const user = await api('POST', '/api/v1/users', {
        email: d.email,
        password: `${d.uid.toLowerCase()}-password!`,
        role: 'driver',
        customerId: customer.body.id,
      });
      expect(user.status).toBe(201);
      // The saved card goes through the SANDBOX's tokenization (the hosted fields' endpoint), never Voltbill's API.
      const tokenized = await fetch(`${server.httpUrl}/sandbox/v1/payment_methods`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ number: d.card, exp_month: 12, exp_year: 2030, cvc: '123' }),
      });
      const ref = ((await tokenized.json()) as Json).id as string;
      const saved = await api('POST', '/api/v1/payments/methods', { idTag: d.uid, paymentMethodRef: ref });
      expect(saved.status).toBe(201);
      clock.set(at(120 + i * 120));
      const { transactionId } = await station.call<Json>('StartTransaction', {
        connectorId: 1,
        idTag: d.uid,
        meterStart: 0,
        timestamp: clock.now().toISOString(),
      });
      clock.set(at(180 + i * 120));
      await station.call('StopTransaction', { transactionId, meterStop: d.wh, timestamp: clock.now().toISOString() });
      const row = await server.database.db
        .selectFrom('sessions')
        .select('id')
        .where('station_id', '=', 'DEMO-0003')
        .where('transaction_id', '=', String(transactionId))
        .executeTakeFirstOrThrow();
      sessionIds.push(row.id);
    }
    const invoiceOf = (sessionId: string) =>
      server.database.db
        .selectFrom('invoices')
        .innerJoin('invoice_sessions', 'invoice_sessions.invoice_id', 'invoices.id')
        .select(['invoices.invoice_number', 'invoices.total_incl_vat_minor'])
        .where('invoice_sessions.session_id', '=', sessionId)
        .executeTakeFirstOrThrow();
    const erikaInvoice = await invoiceOf(sessionIds[0]!);
    // 5 kWh x 0.49 = 2.45 -> 2.92 incl. VAT, session fee 0.42: 3.34.
    expect(erikaInvoice.total_incl_vat_minor).toBe(334n);

    const { page, errors } = await openPage(browser, PHONE, [401]);
    await page.goto(`${server.httpUrl}/account`);
    await page.getByLabel('Email').fill('erika@example.com');
    await page.getByLabel('Password').fill('erika001-password!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    await page.getByText('Signed in as erika@example.com').waitFor();
    const table = (caption: string) =>
      page.locator('table').filter({ has: page.locator('caption', { hasText: caption }) });
    const cells = (caption: string, header: string) =>
      table(caption).locator(`tbody td[data-label="${header}"]`).allTextContents();
    await table('Your sessions').waitFor();
    await table('Your invoices').waitFor();
    await table('Your charging cards').waitFor();
    await table('Your saved card').waitFor();
    expect(await cells('Your sessions', 'Card')).toEqual(['ERIKA001']);
    expect(await cells('Your sessions', 'Energy')).toEqual(['5.000 kWh']);
    expect(await cells('Your sessions', 'Started')).toEqual(['2026-11-24 13:00']);
    expect(await cells('Your invoices', 'Invoice')).toEqual([erikaInvoice.invoice_number]);
    expect(await cells('Your invoices', 'Total incl. VAT')).toEqual(['EUR 3.34']);
    expect(await cells('Your charging cards', 'Card number')).toEqual(['ERIKA001']);
    expect(await cells('Your saved card', 'Card')).toEqual(['visa •••• 4242']);
    expect(await cells('Your saved card', 'Expires')).toEqual(['12/2030']);
    // Nothing of the other driver anywhere on the page.
    const body = (await page.locator('main').textContent()) ?? '';
    expect(body).not.toContain('MAX00001');
    expect(body).not.toContain('4444');
    await snap(page, 'account-phone.png');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      table('Your invoices').getByRole('button', { name: 'PDF' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${erikaInvoice.invoice_number}.pdf`);

    // The other driver's invoice PDF is "not found" for Erika, and staff are pointed to the staff lists.
    const token = JSON.parse((await page.evaluate('sessionStorage.getItem("voltbill.credential")')) as string) as {
      accessToken: string;
    };
    const maxInvoice = await server.database.db
      .selectFrom('invoices')
      .innerJoin('invoice_sessions', 'invoice_sessions.invoice_id', 'invoices.id')
      .select('invoices.id')
      .where('invoice_sessions.session_id', '=', sessionIds[1]!)
      .executeTakeFirstOrThrow();
    expect((await api('GET', `/api/v1/me/invoices/${maxInvoice.id}/pdf`, undefined, token.accessToken)).status).toBe(
      404,
    );
    expect((await api('GET', '/api/v1/me/invoices')).status).toBe(403);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
