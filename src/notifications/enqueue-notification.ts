/**
 * The notification outbox: a notification is written in the same database transaction as the event it reports
 * (a payment given up, a card blocked, a dunning payment captured), so an event is never without its notice and a
 * rolled-back event never notifies. The dedupe key derives from the event's domain id: a repeated event (a
 * duplicated webhook, a retried worker step) notifies once. The notification worker fans it out after commit.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { NotificationPayload, NotificationType } from './notification-types.ts';

export type NewNotification = {
  readonly operatorId: string;
  readonly type: NotificationType;
  readonly dedupeKey: string;
  /** The driver's token whose customer gets the e-mail; null for operator-only notices. */
  readonly idTokenId: string | null;
  readonly payload: NotificationPayload;
  readonly now: Date;
};

/** Records a notification; the same dedupe key again changes nothing (returns false). */
export async function enqueueNotification(trx: Kysely<Database>, n: NewNotification): Promise<boolean> {
  const inserted = await trx
    .insertInto('notifications')
    .values({
      operator_id: n.operatorId,
      type: n.type,
      dedupe_key: `${n.type}:${n.dedupeKey}`,
      id_token_id: n.idTokenId,
      payload: JSON.stringify(n.payload),
      created_at: n.now,
      dispatched_at: null,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}
