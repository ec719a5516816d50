import { describe, expect, it } from 'vitest';
import type { PaymentRow } from '../db/schema.ts';
import type { CurrencyCode } from '../shared/money.ts';
import type { ProviderPayment } from './provider.ts';
import { reportChangesNothing } from './report-changes-nothing.ts';

const EUR = 'EUR' as CurrencyCode;
const HOLD_UNTIL = new Date('2026-12-04T10:00:00Z');

function stored(overrides: Partial<PaymentRow> = {}): PaymentRow {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    provider_payment_id: 'pi_1',
    currency: 'EUR',
    status: 'captured',
    authorized_minor: 5000n,
    captured_minor: 1234n,
    refunded_minor: 0n,
    hold_expires_at: null,
    ...overrides,
  } as PaymentRow;
}

const captured: ProviderPayment = {
  providerPaymentId: 'pi_1',
  status: 'captured',
  currency: EUR,
  authorizedMinor: 5000n,
  capturedMinor: 1234n,
  refundedMinor: 0n,
};

describe('reportChangesNothing (webhooks that only repeat what is stored)', () => {
  it('is true for the same report and for an older one (created, authorized) once captured', () => {
    expect(reportChangesNothing(stored(), captured)).toBe(true);
    expect(reportChangesNothing(stored(), { ...captured, status: 'pending', capturedMinor: 0n })).toBe(true);
    expect(reportChangesNothing(stored(), { ...captured, status: 'authorized', capturedMinor: 0n })).toBe(true);
    // A tie in rank (voided next to captured) does not move the status either.
    expect(reportChangesNothing(stored(), { ...captured, status: 'voided' })).toBe(true);
  });

  it('is false for anything the merge would change or refuse', () => {
    expect(reportChangesNothing(stored(), { ...captured, status: 'partially_refunded', refundedMinor: 1n })).toBe(
      false,
    );
    expect(reportChangesNothing(stored(), { ...captured, refundedMinor: 1n })).toBe(false);
    expect(reportChangesNothing(stored({ status: 'authorized', captured_minor: 0n }), captured)).toBe(false);
    expect(reportChangesNothing(stored({ captured_minor: 1000n }), captured)).toBe(false);
    expect(reportChangesNothing(stored(), { ...captured, currency: 'USD' as CurrencyCode })).toBe(false);
    expect(reportChangesNothing(stored(), { ...captured, providerPaymentId: 'pi_2' })).toBe(false);
    expect(reportChangesNothing(stored({ provider_payment_id: null }), captured)).toBe(false);
  });

  it("moves an authorized hold's expiry through the merge, and clears a stale one", () => {
    const held = stored({ status: 'authorized', captured_minor: 0n, hold_expires_at: HOLD_UNTIL });
    const authorized = { ...captured, status: 'authorized' as const, capturedMinor: 0n };
    expect(reportChangesNothing(held, authorized)).toBe(true);
    expect(reportChangesNothing(held, { ...authorized, holdExpiresAt: new Date(HOLD_UNTIL) })).toBe(true);
    expect(reportChangesNothing(held, { ...authorized, holdExpiresAt: new Date('2026-12-05T10:00:00Z') })).toBe(false);
    expect(reportChangesNothing(stored({ hold_expires_at: HOLD_UNTIL }), captured)).toBe(false);
  });
});
