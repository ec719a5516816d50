/**
 * The dunning pay page in a real browser: the link from a dunning notice shows the amount due, a declined card in
 * the SANDBOX hosted fields says so and changes nothing, a good card pays: the dunning closes, the driver's card is
 * unblocked, the ledger books the capture; the page shows the paid state on reload.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { signDunningLink } from '../../src/payments/flows/dunning-link.ts';
import { startTestServer } from '../support/test-server.ts';
import { browserSkipReason, launchBrowser, openPage } from './support/browser.ts';

const skip = browserSkipReason();

describe.skipIf(skip)('dunning pay page', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ VOLTBILL_PAYMENT_RETRY_BASE_MS: '1' });
    browser = await launchBrowser();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the amount due and pays it with a card from the hosted fields', async () => {
    const db = server.database.db;
    const token = await db
      .selectFrom('id_tokens')
      .select(['id', 'operator_id'])
      .where('uid', '=', 'DEMO0001')
      .executeTakeFirstOrThrow();
    // A saved card that was blocked after a failed charge, and the failed payment in dunning.
    const method = await db
      .insertInto('payment_methods')
      .values({
        operator_id: token.operator_id,
        id_token_id: token.id,
        customer_id: null,
        provider: 'sandbox',
        provider_customer_id: 'cus_sbx_test',
        token: 'pm_sbx_blocked',
        brand: 'visa',
        last4: '0341',
        exp_month: 12,
        exp_year: 2034,
        status: 'blocked',
        blocked_reason: 'CardDeclined',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const failed = await db
      .insertInto('payments')
      .values({
        operator_id: token.operator_id,
        kind: 'extra',
        provider: 'sandbox',
        session_id: null,
        id_token_id: token.id,
        payment_method_id: method.id,
        wallet_id: null,
        payment_method_token: 'pm_sbx_blocked',
        provider_customer_id: 'cus_sbx_test',
        provider_payment_id: null,
        currency: 'EUR',
        requested_minor: 1234n,
        due_minor: 1234n,
        invoice_id: null,
        status: 'failed',
        hold_expires_at: null,
        failure_code: 'CardDeclined',
        station_id: null,
        evse_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('payment_dunning')
      .values({
        payment_id: failed.id,
        operator_id: token.operator_id,
        failure_code: 'CardDeclined',
        notified_at: new Date(),
        resolved_at: null,
        amount_minor: 1234n,
        currency: 'EUR',
      })
      .execute();
    const link = signDunningLink(
      { paymentId: failed.id, expiresAtS: Math.floor(Date.now() / 1000) + 3600 },
      server.payments.payLinkSecret,
    );

    const { page, errors } = await openPage(browser, { viewport: { width: 390, height: 844 } }, [402]);
    await page.goto(`${server.httpUrl}/pay-invoice/${link}`);
    await page.locator('#amount').filter({ hasText: '12.34 EUR' }).waitFor();
    const card = page.frameLocator('#card-frame');
    await card.getByLabel('Card number').fill('4000 0000 0000 0002');
    await card.getByLabel('Expiry (MM/YY)').fill('12/30');
    await card.getByLabel('CVC').fill('123');
    await card.getByRole('button', { name: 'Use this card' }).click();
    await page.locator('#result').filter({ hasText: 'not accepted' }).waitFor();
    expect(await page.locator('#result').textContent()).toBe('the card was not accepted (CardDeclined)');

    await card.getByLabel('Card number').fill('4242 4242 4242 4242');
    await card.getByLabel('Expiry (MM/YY)').fill('12/30');
    await card.getByLabel('CVC').fill('123');
    await card.getByRole('button', { name: 'Use this card' }).click();
    await page.locator('#result').filter({ hasText: 'Paid.' }).waitFor();
    expect(errors).toEqual([]);

    const dunning = await db
      .selectFrom('payment_dunning')
      .selectAll()
      .where('payment_id', '=', failed.id)
      .executeTakeFirstOrThrow();
    expect(dunning.resolved_at).not.toBeNull();
    const paid = await db
      .selectFrom('payments')
      .selectAll()
      .where('id', '=', dunning.paid_by_payment_id!)
      .executeTakeFirstOrThrow();
    expect(paid).toMatchObject({
      kind: 'dunning',
      status: 'captured',
      captured_minor: 1234n,
      settles_payment_id: failed.id,
    });
    const unblocked = await db
      .selectFrom('payment_methods')
      .select(['status', 'failure_count'])
      .where('id', '=', method.id)
      .executeTakeFirstOrThrow();
    expect(unblocked).toEqual({ status: 'active', failure_count: 0 });
    await page.reload();
    await page.locator('#state').filter({ hasText: 'This bill is paid. Thank you.' }).waitFor();
  });
});
