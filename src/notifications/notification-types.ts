/**
 * The notifications Voltbill sends to drivers (e-mail outbox) and operators (signed webhooks). Payloads carry ids,
 * amounts and links, never card data; amounts are decimal strings in the currency's major unit plus the exact
 * minor-unit integer.
 */
export const NOTIFICATION_TYPES = [
  'payment.dunning_notice',
  'payment.receipt',
  'tokens.blocked',
  'tokens.unblocked',
  'dispute.opened',
  'dispute.closed',
] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export type AmountJson = { readonly amount: string; readonly minor: string; readonly currency: string };

export type NotificationPayload = Readonly<Record<string, unknown>>;
