/**
 * Works the notification outbox after commit, in two steps:
 * 1. dispatch: each pending notification becomes, in one transaction, a delivery per matching operator webhook
 *    endpoint and (when the driver's customer has an e-mail address) a rendered message in the e-mail outbox, with
 *    recipient and body encrypted; a dunning notice gets its signed pay link here;
 * 2. deliver: due webhook deliveries are claimed with a lease (SKIP LOCKED, so several nodes share the work),
 *    POSTed with a `Voltbill-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` header (the same
 *    scheme as Stripe's), and retried with exponential backoff up to a capped number of attempts.
 * No SMTP server is used: a mail relay reads email_outbox (docs/payments.md, "Connecting a mail relay").
 */

import type { Selectable } from 'kysely';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { CUSTOMER_FIELDS } from '../accounts/customer-json.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Database, NotificationDeliveriesTable } from '../db/schema.ts';
import { signDunningLink } from '../payments/flows/dunning-link.ts';
import { signWebhook } from '../payments/webhook-signature.ts';
import { retryDelayMs } from '../payments/worker/backoff.ts';
import type { Clock } from '../shared/clock.ts';
import type { NotificationType } from './notification-types.ts';
import { renderEmail } from './render-email.ts';
import { ENDPOINT_SECRET_CONTEXT } from './webhook-endpoints.ts';

export const EMAIL_FIELDS = { recipient: 'email_outbox.recipient', body: 'email_outbox.body' } as const;
export const SIGNATURE_HEADER = 'voltbill-signature';

const BATCH = 100;
const LEASE_MS = 60_000;
const RETRY_BASE_MS = 5_000;
/** Bytes of an endpoint's answer kept for support (the rest is not read). */
const MAX_ERROR_CHARS = 300;

export type NotificationWorkerDeps = {
  readonly db: Kysely<Database>;
  readonly cipher: FieldCipher;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where pay links point: the public base URL of the driver pages. */
  readonly publicBaseUrl: () => string;
  readonly payLinkSecret: string;
  readonly dunningLinkTtlS: number;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  /** Tests: the first retry delay (default 5 s, doubling, capped at an hour). */
  readonly retryBaseMs?: number;
};

export type NotificationWorker = {
  /** One pass: dispatch pending notifications, then deliver due webhooks. Returns deliveries attempted. */
  runOnce(): Promise<number>;
  /** Passes until nothing is due now (tests). */
  runUntilIdle(maxPasses?: number): Promise<void>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
};

export function createNotificationWorker(deps: NotificationWorkerDeps): NotificationWorker {
  const { db, clock, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  async function dispatch(): Promise<void> {
    const pending = await db
      .selectFrom('notifications')
      .selectAll()
      .where('status', '=', 'pending')
      .orderBy('created_at')
      .limit(BATCH)
      .execute();
    for (const n of pending) {
      const now = clock.now();
      let payload = (typeof n.payload === 'string' ? JSON.parse(n.payload) : n.payload) as Record<string, unknown>;
      if (n.type === 'payment.dunning_notice' && typeof payload.paymentId === 'string' && !payload.payUrl) {
        const expiresAtS = Math.floor(now.getTime() / 1000) + deps.dunningLinkTtlS;
        const token = signDunningLink({ paymentId: payload.paymentId, expiresAtS }, deps.payLinkSecret);
        payload = {
          ...payload,
          payUrl: `${deps.publicBaseUrl()}/pay-invoice/${token}`,
          payToken: token,
          expiresAt: new Date(expiresAtS * 1000).toISOString(),
        };
      }
      const recipient = n.id_token_id ? await customerEmail(n.id_token_id) : null;
      const email = recipient ? renderEmail(n.type as NotificationType, payload) : undefined;
      await db.transaction().execute(async (trx) => {
        const claimed = await trx
          .updateTable('notifications')
          .set({ status: 'dispatched', dispatched_at: now, payload: JSON.stringify(payload) })
          .where('id', '=', n.id)
          .where('status', '=', 'pending')
          .returning('id')
          .executeTakeFirst();
        if (!claimed) return;
        const endpoints = await trx
          .selectFrom('notification_endpoints')
          .select(['id', 'event_types'])
          .where('operator_id', '=', n.operator_id)
          .where('active', '=', true)
          .execute();
        for (const e of endpoints) {
          if (e.event_types.length > 0 && !e.event_types.includes(n.type)) continue;
          await trx
            .insertInto('notification_deliveries')
            .values({
              notification_id: n.id,
              endpoint_id: e.id,
              next_attempt_at: now,
              locked_until: null,
              last_error: null,
              response_status: null,
              delivered_at: null,
            })
            .onConflict((oc) => oc.columns(['notification_id', 'endpoint_id']).doNothing())
            .execute();
        }
        if (recipient && email) {
          await trx
            .insertInto('email_outbox')
            .values({
              operator_id: n.operator_id,
              notification_id: n.id,
              recipient_enc: deps.cipher.encrypt(EMAIL_FIELDS.recipient, recipient),
              subject: email.subject,
              body_enc: deps.cipher.encrypt(EMAIL_FIELDS.body, email.text),
              created_at: now,
              sent_at: null,
            })
            .onConflict((oc) => oc.column('notification_id').doNothing())
            .execute();
        }
      });
    }
  }

  async function customerEmail(idTokenId: string): Promise<string | null> {
    const row = await db
      .selectFrom('id_tokens as t')
      .innerJoin('customers as c', 'c.id', 't.customer_id')
      .select('c.email_enc')
      .where('t.id', '=', idTokenId)
      .executeTakeFirst();
    return row?.email_enc ? deps.cipher.decrypt(CUSTOMER_FIELDS.email, row.email_enc) : null;
  }

  async function claimDelivery(): Promise<Selectable<NotificationDeliveriesTable> | undefined> {
    const now = clock.now();
    const until = new Date(now.getTime() + LEASE_MS);
    const result = await sql<Selectable<NotificationDeliveriesTable>>`
      update notification_deliveries set locked_until = ${until}, attempts = attempts + 1
      where id = (
        select id from notification_deliveries
        where status = 'pending' and next_attempt_at <= ${now} and (locked_until is null or locked_until <= ${now})
        order by next_attempt_at, id
        limit 1
        for update skip locked
      )
      returning *`.execute(db);
    return result.rows[0];
  }

  async function deliver(item: Selectable<NotificationDeliveriesTable>): Promise<void> {
    const row = await db
      .selectFrom('notification_deliveries as d')
      .innerJoin('notifications as n', 'n.id', 'd.notification_id')
      .innerJoin('notification_endpoints as e', 'e.id', 'd.endpoint_id')
      .select(['n.id', 'n.type', 'n.payload', 'n.created_at', 'e.url', 'e.secret_enc', 'e.active'])
      .where('d.id', '=', item.id)
      .executeTakeFirstOrThrow();
    const finish = (set: Partial<Record<'status' | 'last_error' | 'response_status' | 'delivered_at', unknown>>) =>
      db
        .updateTable('notification_deliveries')
        .set({ locked_until: null, ...(set as object) })
        .where('id', '=', item.id)
        .execute();
    if (!row.active) {
      await finish({ status: 'failed', last_error: 'endpoint deactivated' });
      return;
    }
    const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
    const body = JSON.stringify({ id: row.id, type: row.type, createdAt: row.created_at.toISOString(), data: payload });
    const secret = await deps.cipher.decrypt(ENDPOINT_SECRET_CONTEXT, row.secret_enc);
    const signature = signWebhook(secret, body, Math.floor(clock.now().getTime() / 1000));
    let status: number | undefined;
    let problem: string | undefined;
    try {
      const response = await fetch(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signature,
          'voltbill-event-id': row.id,
          'voltbill-event-type': row.type,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
      status = response.status;
      if (status < 200 || status >= 300)
        problem = `HTTP ${status}: ${(await response.text()).slice(0, MAX_ERROR_CHARS)}`;
      else await response.body?.cancel();
    } catch (error) {
      problem = `${(error as Error).name}: ${(error as Error).message}`.slice(0, MAX_ERROR_CHARS);
    }
    const now = clock.now();
    if (!problem) {
      await finish({ status: 'delivered', response_status: status, delivered_at: now, last_error: null });
      return;
    }
    if (item.attempts >= deps.maxAttempts) {
      await finish({ status: 'failed', response_status: status ?? null, last_error: problem });
      logger.warn({ deliveryId: String(item.id), url: row.url }, 'webhook delivery failed after the last attempt');
      return;
    }
    const at = new Date(now.getTime() + retryDelayMs(item.attempts, deps.retryBaseMs ?? RETRY_BASE_MS));
    await db
      .updateTable('notification_deliveries')
      .set({ locked_until: null, next_attempt_at: at, last_error: problem, response_status: status ?? null })
      .where('id', '=', item.id)
      .execute();
  }

  async function pass(): Promise<number> {
    await dispatch();
    let attempted = 0;
    while (attempted < BATCH && !stopped) {
      const item = await claimDelivery();
      if (!item) break;
      try {
        await deliver(item);
      } catch (error) {
        logger.error({ err: error, deliveryId: String(item.id) }, 'webhook delivery crashed; retried after its lease');
      }
      attempted++;
    }
    return attempted;
  }

  function runOnce(): Promise<number> {
    if (!running) running = pass().finally(() => (running = undefined));
    return running;
  }

  return {
    runOnce,
    async runUntilIdle(maxPasses = 50) {
      for (let i = 0; i < maxPasses; i++) {
        const attempted = await runOnce();
        if (attempted === 0) return;
      }
    },
    start(intervalMs) {
      stopped = false;
      const tick = () => {
        timer = setTimeout(async () => {
          try {
            await runOnce();
          } catch (error) {
            logger.error({ err: error }, 'notification worker pass failed');
          }
          if (!stopped) tick();
        }, intervalMs);
        timer.unref();
      };
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
