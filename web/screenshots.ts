/**
 * Screenshots of the main screens with real data, for docs/screenshots/ and the README: starts a Voltbill server
 * on a throwaway embedded database with the demo data, drives two weeks of sessions through real OCPP 1.6J
 * connections (on a shifted clock, so that the charts have history), leaves some sessions running, one station
 * faulted and one session held for review, then photographs the pages in Debian's Chromium.
 *
 *   npx tsx web/screenshots.ts [outDir]     (default docs/screenshots)
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/main.ts';

type Client = {
  call(method: string, params?: unknown): Promise<Record<string, unknown>>;
  close(o?: unknown): Promise<unknown>;
};

const outDir = process.argv[2] ?? join(import.meta.dirname, '..', 'docs', 'screenshots');
const DAY_MS = 86_400_000;
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

/** A small deterministic generator, so that every run draws the same network. */
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

const server = await startServer({
  config: loadConfig({
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: '0',
    VOLTBILL_HTTP_PORT: '0',
    VOLTBILL_LOG_LEVEL: 'silent',
  }),
  seed: true,
  logger: pino({ level: 'silent' }),
  clock,
  database: { kind: 'pglite', dataDir: 'memory' },
  command: 'screenshots',
});
const key = server.seeded!.adminApiKey;

const stations = new Map<string, Client>();
for (let i = 1; i <= 8; i++) {
  const id = `DEMO-${String(i).padStart(4, '0')}`;
  const client = new RPCClient({
    endpoint: server.ocppUrl,
    identity: id,
    protocols: ['ocpp1.6'],
    strictMode: false,
    reconnect: false,
  } as ConstructorParameters<typeof RPCClient>[0]) as unknown as Client & { connect(): Promise<void> };
  await client.connect();
  await client.call('BootNotification', { chargePointVendor: 'Voltbill', chargePointModel: 'Demo 22' });
  // Dated before the history below: a station's status older than the stored one is ignored, as a late retry.
  const bootedAt = new Date(Date.now() - 15 * 86_400_000).toISOString();
  await client.call('StatusNotification', {
    connectorId: 1,
    status: 'Available',
    errorCode: 'NoError',
    timestamp: bootedAt,
  });
  stations.set(id, client);
}
const meters = new Map<string, number>();

async function session(stationId: string, startAt: Date, minutes: number, energyWh: number, stop: boolean) {
  const client = stations.get(stationId)!;
  const meterStart = meters.get(stationId) ?? 1_000_000;
  const idTag = `DEMO${stationId.slice(-4)}`;
  offsetMs = startAt.getTime() - Date.now();
  await client.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
  const { transactionId } = (await client.call('StartTransaction', {
    connectorId: 1,
    idTag,
    meterStart,
    timestamp: startAt.toISOString(),
  })) as { transactionId: number };
  const sampleAt = new Date(startAt.getTime() + minutes * 60_000);
  await client.call('MeterValues', {
    connectorId: 1,
    transactionId,
    meterValue: [
      {
        timestamp: sampleAt.toISOString(),
        sampledValue: [
          { value: String(meterStart + energyWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          { value: String(Math.round((energyWh / minutes) * 60)), measurand: 'Power.Active.Import', unit: 'W' },
        ],
      },
    ],
  });
  meters.set(stationId, meterStart + energyWh);
  if (!stop) return;
  offsetMs = sampleAt.getTime() - Date.now();
  await client.call('StopTransaction', {
    transactionId,
    meterStop: meterStart + energyWh,
    timestamp: sampleAt.toISOString(),
  });
  await client.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
}

// Two weeks of history: 3 to 8 sessions a day, 20 to 120 minutes at up to 22 kW.
const today = new Date();
today.setUTCHours(0, 0, 0, 0);
for (let day = 14; day >= 1; day--) {
  const count = 3 + Math.floor(random() * 6);
  for (let n = 0; n < count; n++) {
    const stationId = `DEMO-${String(1 + Math.floor(random() * 8)).padStart(4, '0')}`;
    const startAt = new Date(today.getTime() - day * DAY_MS + (6 + n * 2) * 3_600_000);
    const minutes = 20 + Math.floor(random() * 100);
    const energyWh = Math.floor(((minutes / 60) * 22_000 * (0.3 + random() * 0.6)) / 10) * 10;
    await session(stationId, startAt, minutes, energyWh, true);
  }
}
// One session whose energy is impossible for its EVSE (80 kW on 22 kW): held for review.
await session('DEMO-0006', new Date(Date.now() - 3 * 3_600_000), 15, 20_000, true);
// Running now: four sessions at different stages; one station faulted; DEMO-0009 and DEMO-0010 never connect.
offsetMs = 0;
await session('DEMO-0001', new Date(Date.now() - 95 * 60_000), 90, 24_310, false);
await session('DEMO-0002', new Date(Date.now() - 40 * 60_000), 38, 9_870, false);
await session('DEMO-0003', new Date(Date.now() - 12 * 60_000), 10, 2_740, false);
await session('DEMO-0004', new Date(Date.now() - 62 * 60_000), 60, 7_020, false);
offsetMs = 0;
await stations
  .get('DEMO-0007')!
  .call('StatusNotification', { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' });

const browser = await chromium.launch({
  executablePath: process.env.VOLTBILL_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
await mkdir(outDir, { recursive: true });
try {
  const shoot = async (
    name: string,
    path: string,
    options: {
      width: number;
      height: number;
      dark?: boolean;
      fullPage?: boolean;
      ready: string;
      action?: (page: import('playwright-core').Page) => Promise<void>;
    },
  ) => {
    const context = await browser.newContext({
      viewport: { width: options.width, height: options.height },
      deviceScaleFactor: options.width < 500 ? 2 : 1,
      colorScheme: options.dark ? 'dark' : 'light',
      timezoneId: 'Europe/Berlin',
      locale: 'en-GB',
    });
    const page = await context.newPage();
    await page.goto(`${server.httpUrl}/app/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.goto(`${server.httpUrl}${path}`);
    try {
      await page.getByText(options.ready, { exact: false }).first().waitFor({ timeout: 15_000 });
    } catch (error) {
      await page.screenshot({ path: join(outDir, `${name}-failed.png`) });
      throw error;
    }
    await options.action?.(page);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: options.fullPage ?? false });
    console.log(`${name}.png`);
    await context.close();
  };
  await shoot('overview', '/app/#/overview', { width: 1280, height: 1000, ready: 'DEMO-0004', fullPage: true });
  await shoot('overview-phone-dark', '/app/#/overview', { width: 390, height: 844, dark: true, ready: 'DEMO-0004' });
  await shoot('revenue', '/app/#/charts', { width: 1280, height: 900, ready: 'Revenue (EUR)', fullPage: true });
  await shoot('sessions', '/app/#/sessions', { width: 1280, height: 900, ready: 'DEMO-0001' });
  await shoot('invoices', '/app/#/invoices', { width: 1280, height: 900, ready: 'invoice' });
  await shoot('review', '/app/#/meters', { width: 1280, height: 900, ready: 'DEMO-0006' });
  await shoot('tariff-preview', '/app/#/tariffs', {
    width: 1280,
    height: 900,
    ready: 'DEMO-STANDARD',
    action: async (page) => {
      await page.getByRole('button', { name: 'Preview price' }).click();
      await page.getByText('incl. VAT (', { exact: false }).waitFor();
    },
  });
  // The driver's pay page on a phone, opened by a signed QR link (when the payments API is on this server).
  const qr = await fetch(`${server.httpUrl}/api/v1/payments/qr-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ stationId: 'DEMO-0005', evseId: 1 }),
  });
  if (qr.status === 201) {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
    });
    const page = await context.newPage();
    await page.goto(`${server.httpUrl}${((await qr.json()) as { path: string }).path}`);
    await page.getByText('SANDBOX', { exact: false }).first().waitFor();
    await page.screenshot({ path: join(outDir, 'pay-phone.png') });
    console.log('pay-phone.png');
    await context.close();
  }
} finally {
  await browser.close();
  for (const client of stations.values()) await client.close({ force: true });
  await server.close();
}
