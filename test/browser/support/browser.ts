/**
 * Debian's Chromium driven by playwright-core, headless, for the browser tests. Each page records console errors
 * and uncaught exceptions so that a test can assert there were none.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';

const CANDIDATES = [process.env.VOLTBILL_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Path of the Chromium binary, or undefined when none is installed (the tests then skip, loudly). */
export const chromiumPath: string | undefined = CANDIDATES.find((p): p is string => Boolean(p && existsSync(p)));

/** Why the browser tests skip, or null when they run; in CI (VOLTBILL_REQUIRE_BROWSER=1) a missing browser fails. */
export function browserSkipReason(): string | null {
  if (chromiumPath) return null;
  const reason = 'Chromium not found (install the Debian package: apt-get install -y chromium)';
  if (process.env.VOLTBILL_REQUIRE_BROWSER === '1') throw new Error(`browser tests required but ${reason}`);
  console.warn(`\n*** SKIPPING browser tests: ${reason} ***\n`);
  return reason;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath!,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export type WatchedPage = { page: Page; errors: string[] };

/**
 * Chromium reports every HTTP error response as a console error ("Failed to load resource: ... 404"). A section
 * whose API the server does not offer yet is probed with exactly such a request, so those are expected; the test
 * names the statuses it expects and every other console error counts.
 */
export async function openPage(
  browser: Browser,
  options: BrowserContextOptions = {},
  expectedHttpErrors: readonly number[] = [],
): Promise<WatchedPage> {
  const context = await browser.newContext({
    timezoneId: 'Europe/Berlin',
    locale: 'en-GB',
    acceptDownloads: true,
    ...options,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const status = /status of (\d{3})/.exec(text)?.[1];
    if (status && expectedHttpErrors.includes(Number(status))) return;
    errors.push(text);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return { page, errors };
}
