/**
 * The driver pages on a phone-sized viewport: the ad-hoc pay page opened by an EVSE's QR code and the account
 * page. Where the payments or accounts API is not on this server yet, the pages must say so clearly and stay free of
 * script errors; once it is, the full pay flow runs (price first, sandbox hosted fields, live cost, receipt).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { startTestServer } from '../support/test-server.ts';
import { browserSkipReason, launchBrowser, openPage } from './support/browser.ts';

const skip = browserSkipReason();
const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  colorScheme: 'dark' as const,
};
const EVSE = 'DE*VBL*E0001*1';

describe.skipIf(skip)('driver pages on a phone', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const routeMissing = async (method: string, path: string) => {
    const response = await fetch(`${server.httpUrl}${path}`, { method });
    if (response.status !== 404) return false;
    const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    return body.error?.message?.startsWith('no route') ?? false;
  };

  it('serves the pay page with a strict content security policy and no horizontal scrolling', async () => {
    const response = await fetch(`${server.httpUrl}/pay/${encodeURIComponent(EVSE)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const html = await response.text();
    const script = /src="(\/assets\/pay-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.httpUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    // A signed, short-lived QR link from the payments API when it exists; else the plain EVSE id.
    const qr = await fetch(`${server.httpUrl}/api/v1/payments/qr-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.seeded!.adminApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stationId: 'DEMO-0001', evseId: 1 }),
    });
    const payPath =
      qr.status === 201 ? ((await qr.json()) as { path: string }).path : `/pay/${encodeURIComponent(EVSE)}`;
    const { page, errors } = await openPage(browser, PHONE, [404]);
    if (qr.status !== 201) {
      await page.goto(`${server.httpUrl}${payPath}`);
      await page.getByText('Card payment is not available at this charger.', { exact: false }).waitFor();
      expect(await page.getByRole('status').first().textContent()).toContain('Not available');
    } else {
      await page.goto(`${server.httpUrl}${payPath}`);
      // Price before anything else: the first heading of the page is the price, then the tariff's own text.
      await page.getByRole('heading', { name: 'Price at this charger' }).waitFor();
      expect(await page.locator('h1, h2').first().textContent()).toBe('Price at this charger');
      expect(await page.locator('.price-list li').first().textContent()).toBe(
        'Per sessionEUR 0.35 / session + 19 % VAT',
      );
      expect(await page.locator('.price-list li').nth(1).textContent()).toBe('EnergyEUR 0.49 / kWh + 19 % VAT');
      await page.getByText('SANDBOX · test payments only', { exact: false }).waitFor();
    }
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('runs the full ad-hoc pay flow once the payments API exists', async (ctx) => {
    // Needs, besides GET /api/v1/pay/:token: the provider's hosted-fields page (its URL in that answer as
    // hostedFieldsUrl) and a status endpoint a driver may poll (GET /api/v1/pay/payments/:id); see docs/dashboard.md.
    const info = await fetch(`${server.httpUrl}/api/v1/pay/${encodeURIComponent(EVSE)}`);
    const body = (await info.json().catch(() => ({}))) as {
      hostedFieldsUrl?: string;
      provider?: { hostedFieldsUrl?: string };
    };
    if (!info.ok || !(body.hostedFieldsUrl ?? body.provider?.hostedFieldsUrl)) {
      console.warn('*** SKIPPING the ad-hoc pay flow: the payments API offers no hosted card fields yet (issue 8) ***');
      ctx.skip();
    }
    const { page, errors } = await openPage(browser, PHONE);
    await page.goto(`${server.httpUrl}/pay/${encodeURIComponent(EVSE)}`);
    await page.getByRole('heading', { name: 'Price at this charger' }).waitFor();
    const card = page.frameLocator('iframe.card-frame');
    await card.getByLabel(/card number/i).fill('4242 4242 4242 4242');
    await card.getByLabel(/expir/i).fill('12/30');
    await card.getByLabel(/cvc/i).fill('123');
    await card.getByRole('button').first().click();
    await page.getByRole('heading', { name: /Starting the charger|Charging/ }).waitFor();
    expect(errors).toEqual([]);
  });

  it('shows the account page sign-in, accessible and readable in dark mode', async () => {
    const { page, errors } = await openPage(browser, PHONE, [404]);
    await page.goto(`${server.httpUrl}/account`);
    await page.getByRole('heading', { name: 'My charging account' }).waitFor();
    await page.getByLabel('Email').fill('driver@example.com');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const expected = (await routeMissing('POST', '/api/v1/auth/sign-in'))
      ? 'Driver accounts are not available on this server yet.'
      : 'Wrong email or password.';
    await page.getByText(expected).waitFor();
    const colors = (await page.evaluate(
      '[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]',
    )) as string[];
    expect(colors).toEqual(['rgb(15, 18, 21)', 'rgb(232, 235, 238)']);
    expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    await page.context().close();
  });
});
