/** Plain-text e-mails for drivers, rendered from a notification's payload. Pure. */
import type { NotificationPayload, NotificationType } from './notification-types.ts';

export type RenderedEmail = { readonly subject: string; readonly text: string };

type Amount = { amount?: string; currency?: string };

const money = (a: unknown) => {
  const x = (a ?? {}) as Amount;
  return `${x.amount ?? '?'} ${x.currency ?? ''}`.trim();
};

/** The e-mail for a notification type, or undefined for types drivers do not get (disputes: operator only). */
export function renderEmail(type: NotificationType, p: NotificationPayload): RenderedEmail | undefined {
  switch (type) {
    case 'payment.dunning_notice':
      return {
        subject: `Payment failed: ${money(p.amount)} due`,
        text: [
          `We could not collect ${money(p.amount)} for your charging (payment ${p.paymentId}).`,
          `Reason: ${p.failureCode}.`,
          '',
          `Pay now with a card of your choice: ${p.payUrl}`,
          `This link is valid until ${p.expiresAt}. Until the amount is paid, your charging cards may be blocked.`,
        ].join('\n'),
      };
    case 'payment.receipt':
      return {
        subject: `Receipt: ${money(p.amount)} paid`,
        text: `Thank you. We received ${money(p.amount)} (payment ${p.paymentId}${p.invoiceId ? `, invoice ${p.invoiceId}` : ''}).`,
      };
    case 'tokens.blocked':
      return {
        subject: 'Your charging cards are blocked',
        text: `Your card ending in ${p.last4 ?? '????'} could not be charged (${p.reason}). Charging cards ${(p.idTags as string[] | undefined)?.join(', ') ?? ''} cannot start sessions until the open amount is paid.`,
      };
    case 'tokens.unblocked':
      return {
        subject: 'Your charging cards work again',
        text: `Thank you for your payment. Charging cards ${(p.idTags as string[] | undefined)?.join(', ') ?? ''} can start sessions again.`,
      };
    case 'dispute.opened':
    case 'dispute.closed':
      return undefined;
  }
}
