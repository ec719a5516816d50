/**
 * The operator dashboard in a real browser against a real server: sign in, watch a session that a real OCPP client
 * drives appear live with its energy, power and running cost, then finish with its billed cost; find it in the
 * sessions and CDR lists, export a list as CSV, preview a tariff's price; sections whose API this server lacks say
 * "not available" without breaking the page.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { fixedClock } from '../../src/shared/clock.ts';
import { connectStation, type Station, startTestServer } from '../support/test-server.ts';
import { browserSkipReason, launchBrowser, openPage, type WatchedPage } from './support/browser.ts';

const skip = browserSkipReason();
const T0 = new Date('2026-11-24T10:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

describe.skipIf(skip)('operator dashboard', () => {
  const clock = fixedClock(at(0));
  let server: RunningServer;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let station: Station;

  beforeAll(async () => {
    server = await startTestServer({}, { clock });
    browser = await launchBrowser();
    // 404: sections whose API is not on this server yet probe for it (see openPage).
    watched = await openPage(browser, { viewport: { width: 1280, height: 900 } }, [404]);
    page = watched.page;
  });
  afterAll(async () => {
    await station?.close({ force: true });
    await browser?.close();
    await server?.close();
  });

  /** Waits (up to 10 s: the live view updates every 2 s) until the element's text is `expected`. */
  const expectText = (locator: Locator, expected: string) =>
    expect.poll(() => locator.textContent(), { timeout: 10_000 }).toBe(expected);
  const activeRows = () => page.locator('section[aria-labelledby="active-heading"] tbody tr');
  const recentRows = () => page.locator('section[aria-labelledby="recent-heading"] tbody tr');

  it('refuses a wrong API key and signs in with the seeded admin key', async () => {
    await page.goto(`${server.httpUrl}/`);
    await expect.poll(() => page.url()).toBe(`${server.httpUrl}/app/`);
    await page.getByLabel('API key').fill('vb_not-a-key');
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.getByText('This API key is unknown or revoked.').waitFor();
    // The refused key's 401 is the one console error this test expects.
    expect(watched.errors).toEqual([
      'Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
    watched.errors.length = 0;
    await page.getByLabel('API key').fill(server.seeded!.adminApiKey);
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    await page.getByText('No session is charging right now.').waitFor();
    expect(await page.locator('li.station').count()).toBe(10);
    expect(await page.locator('[data-state="offline"] .tile-value').textContent()).toBe('10');
  });

  it("signs in with the demo admin's email and password, and signs out", async (ctx) => {
    const user = server.seeded?.adminUser;
    if (!user) {
      console.warn('*** SKIPPING password sign-in: the demo seed created no admin user (issue 7) ***');
      ctx.skip();
    }
    const other = await openPage(browser, { viewport: { width: 1280, height: 900 } }, [401]);
    await other.page.goto(`${server.httpUrl}/app/`);
    await other.page.getByLabel('Email').fill(user!.email);
    await other.page.getByLabel('Password').fill('wrong password');
    await other.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.page.getByText('Wrong email or password.').waitFor();
    await other.page.getByLabel('Password').fill(user!.password);
    await other.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(await other.page.locator('.who').textContent()).toBe(user!.email);
    await other.page.getByText('Live', { exact: true }).waitFor();
    await other.page.getByRole('button', { name: 'Sign out' }).click();
    await other.page.getByRole('heading', { name: 'Sign in', level: 2 }).waitFor();
    expect(other.errors).toEqual([]);
    await other.page.context().close();
  });

  it('shows a simulated session live with energy, power and running cost, then its billed cost', async () => {
    station = await connectStation(server, 'DEMO-0001');
    await station.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'Browser' });
    await station.call('StatusNotification', { connectorId: 1, status: 'Preparing', errorCode: 'NoError' });
    const { transactionId } = await station.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 100_000,
      timestamp: at(0).toISOString(),
    });
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
            { value: '11000', measurand: 'Power.Active.Import', unit: 'W', context: 'Sample.Periodic' },
          ],
        },
      ],
    });

    const row = activeRows().filter({ hasText: 'DEMO-0001' });
    await row.waitFor();
    await expectText(row.locator('td[data-label="Energy (Wh)"]'), '2.500 kWh');
    await expectText(row.locator('td[data-label="Power (W)"]'), '11.0 kW');
    // 2.5 kWh x 0.49 = 1.225 -> 1.23 excl; incl. 19 % VAT 1.45775 -> 1.46; session fee 0.35 -> 0.4165 -> 0.42.
    await expectText(row.locator('td[data-label="Cost so far (est., incl. VAT)"]'), 'EUR 1.88');
    await expectText(row.locator('td[data-label="Token"]'), 'DEMO0001');
    await expectText(page.locator('[data-state="charging"] .tile-value'), '1');
    expect(await page.locator('li.station[data-station="DEMO-0001"]').getAttribute('data-state')).toBe('charging');

    clock.set(at(60));
    await station.call('StopTransaction', { transactionId, meterStop: 105_000, timestamp: at(60).toISOString() });
    await station.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });

    await page.getByText('No session is charging right now.').waitFor();
    const done = recentRows().filter({ hasText: 'DEMO-0001' });
    await done.waitFor();
    await expectText(done.locator('td[data-label="Energy (Wh)"]'), '5.000 kWh');
    await expectText(done.locator('td[data-label="Billing"]'), 'Billed');
    // 5 kWh x 0.49 = 2.45 -> incl. 2.9155 -> 2.92; session fee 0.42: 3.34 incl. VAT (the CDR's total).
    await expectText(done.locator('td[data-label="Cost (incl. VAT)"]'), 'EUR 3.34');
    await expectText(page.locator('[data-state="available"] .tile-value'), '1');
  });

  it('lists the session and its CDR with filters, and exports the list as CSV', async () => {
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    const sessionRow = page.locator('tbody tr').filter({ hasText: 'DEMO0001' });
    await sessionRow.waitFor();
    expect(await sessionRow.locator('td[data-label="Started"]').textContent()).toBe('2026-11-24 11:00');
    expect(await sessionRow.locator('td[data-label="Energy (Wh)"]').textContent()).toBe('5.000 kWh');

    await page.getByLabel('Station').fill('DEMO-0002');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No sessions match.').waitFor();
    await page.getByLabel('Station').fill('DEMO-0001');
    await page.getByRole('button', { name: 'Apply' }).click();
    await sessionRow.waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('sessions.csv');
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'Started,Ended,Station,EVSE,Token,Energy (Wh),Status,Billing,Stop reason,Findings,Session id',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /^2026-11-24T10:00:00\.000Z,2026-11-24T11:00:00\.000Z,DEMO-0001,1,DEMO0001,5000,Completed,Billed,,,[0-9a-f-]{36}$/,
    );

    await page.getByRole('link', { name: 'CDRs' }).click();
    const cdrRow = page.locator('tbody tr').filter({ hasText: 'Demo Charging Park' });
    await cdrRow.waitFor();
    expect(await cdrRow.locator('td[data-label="Excl. VAT"]').textContent()).toBe('EUR 2.80');
    expect(await cdrRow.locator('td[data-label="Incl. VAT"]').textContent()).toBe('EUR 3.34');
    expect(await cdrRow.locator('td[data-label="EVSE"]').textContent()).toBe('DE*VBL*E0001*1');
  });

  it('previews a tariff price with the same engine as the bill', async () => {
    await page.getByRole('link', { name: 'Tariffs' }).click();
    await page.getByRole('heading', { name: 'DEMO-STANDARD', level: 2 }).waitFor();
    await page.getByLabel('Energy (kWh)').fill('20');
    await page.getByLabel('Duration (minutes)').fill('60');
    await page.getByLabel('Start (your local time)').fill('2026-11-24T11:00');
    await page.getByRole('button', { name: 'Preview price' }).click();
    // 20 kWh x 0.49 = 9.80 -> incl. 11.662 -> 11.66; session fee 0.35 -> 0.42: 12.08 incl., 10.15 excl.
    await page.getByText('Total EUR 12.08 incl. VAT (EUR 10.15 excl. VAT)').waitFor();
  });

  it('shows revenue and energy charts from the CDRs', async () => {
    await page.getByRole('link', { name: 'Revenue & energy' }).click();
    await page.getByText('from 1 CDRs', { exact: false }).waitFor();
    const row = page.locator('tbody tr[data-row="2026-11-24"]');
    await row.waitFor();
    await expectText(row.locator('td[data-label="Revenue incl. VAT"]'), 'EUR 3.34');
    expect(await page.locator('svg rect.bar').count()).toBe(2);
  });

  const routeMissing = async (path: string) => {
    const response = await fetch(`${server.httpUrl}${path}`, {
      headers: { authorization: `Bearer ${server.seeded!.adminApiKey}` },
    });
    const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    return response.status === 404 && (body.error?.message?.startsWith('no route') ?? false);
  };

  it('downloads the invoice of the billed session as a PDF', async (ctx) => {
    if (await routeMissing('/api/v1/invoices')) {
      console.warn('*** SKIPPING the invoice download: GET /api/v1/invoices is not on this server yet (issue 6) ***');
      ctx.skip();
    }
    await page.getByRole('link', { name: 'Invoices' }).click();
    const row = page.locator('tbody tr').filter({ hasText: 'EUR 3.34' }).first();
    await row.waitFor();
    const number = (await row.locator('td[data-label="Invoice"]').textContent())!;
    expect(await row.locator('td[data-label="Kind"]').textContent()).toBe('invoice');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: 'PDF' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${number}.pdf`);
    const pdf = await readFile((await download.path())!);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('reviews a held session: release with a reason bills it', async (ctx) => {
    if (await routeMissing('/api/v1/review-queue')) {
      console.warn('*** SKIPPING the review test: GET /api/v1/review-queue is not on this server yet (issue 4) ***');
      ctx.skip();
    }
    // 20 kWh in 15 minutes is 80 kW on a 22 kW EVSE: the implied-power rule holds the session for review.
    const other = await connectStation(server, 'DEMO-0002');
    await other.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'Browser' });
    clock.set(at(70));
    const { transactionId } = await other.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: 'DEMO0002',
      meterStart: 0,
      timestamp: at(70).toISOString(),
    });
    clock.set(at(85));
    await other.call('StopTransaction', { transactionId, meterStop: 20_000, timestamp: at(85).toISOString() });
    await other.close({ force: true });

    await page.getByRole('link', { name: 'Meters & review' }).click();
    const held = page.locator('section[aria-labelledby="review-heading"] tbody tr').filter({ hasText: 'DEMO-0002' });
    await held.waitFor();
    expect(await held.locator('td[data-label="Why held"]').textContent()).not.toBe('');
    await held.getByRole('button', { name: 'Release' }).click();
    await held.getByLabel('Reason for release').fill('meter checked on site, reading confirmed');
    await held.getByRole('button', { name: 'Confirm release' }).click();
    await page.getByText('Nothing to review.').waitFor();

    const sessions = await fetch(`${server.httpUrl}/api/v1/sessions?stationId=DEMO-0002`, {
      headers: { authorization: `Bearer ${server.seeded!.adminApiKey}` },
    });
    const [released] = ((await sessions.json()) as { data: { billingStatus: string; energyWh: number }[] }).data;
    expect(released).toMatchObject({ billingStatus: 'Billed', energyWh: 20_000 });
  });

  it('keeps every section usable whether or not its API exists yet', async () => {
    for (const [link, probe] of [
      ['Invoices', '/api/v1/invoices'],
      ['Payments', '/api/v1/payments'],
      ['Meters & review', '/api/v1/review-queue'],
      ['Audit log', '/api/v1/audit'],
    ] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: link, level: 1 }).waitFor();
      const response = await fetch(`${server.httpUrl}${probe}`, {
        headers: { authorization: `Bearer ${server.seeded!.adminApiKey}` },
      });
      if (response.status === 404) {
        await page.getByText('not available.', { exact: false }).first().waitFor();
      } else {
        await page.locator('.table-block, .notice').first().waitFor();
      }
    }
    expect(watched.errors).toEqual([]);
  });
});
