/**
 * What the payment outbox holds, for alerting: how many provider calls wait (pending items) and how long the oldest
 * has waited. A provider outage or a storm of 429s shows here first: the steps are retried for hours before any
 * payment fails (docs/payments.md), so "oldest pending over 15 minutes" is the alert to set. Read from the database
 * at each scrape (one statement over the pending items' partial index), so every node shows the cluster's outbox.
 */
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Database } from '../../db/schema.ts';

/** A scrape does not wait longer than this for the outbox (a busy pool, a database that hangs). */
const READ_TIMEOUT_MS = 2_000;

export function registerOutboxMetrics(registry: Registry, db: Kysely<Database>, logger: Logger): void {
  const failures = new Counter({
    name: 'voltbill_payment_outbox_metrics_failures_total',
    help: 'Scrapes that could not read the payment outbox in time (its two gauges then keep their last values)',
    registers: [registry],
  });
  let last: Promise<{ pending: number; oldestS: number } | undefined> | undefined;
  // Both gauges are read in one scrape: one statement for the two, shared.
  const read = () => {
    last ??= Promise.race([query(), timeout()])
      .then((value) => {
        if (!value) failures.inc();
        return value;
      })
      .finally(() => setImmediate(() => (last = undefined)));
    return last;
  };
  const timeout = () =>
    new Promise<undefined>((resolve) => {
      setTimeout(() => resolve(undefined), READ_TIMEOUT_MS).unref();
    });
  const query = () =>
    sql<{ pending: number; oldest_s: number | null }>`
      select count(*)::int as pending,
             coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest_s
      from payment_outbox where status = 'pending'`
      .execute(db)
      .then((result) => {
        const row = result.rows[0];
        return row && { pending: row.pending, oldestS: Math.max(0, row.oldest_s ?? 0) };
      })
      .catch((error: unknown) => {
        // The database unreachable: the gauges keep their last values; the scrape itself still answers.
        logger.warn({ err: error }, 'payment outbox metrics not read');
        return undefined;
      });
  new Gauge({
    name: 'voltbill_payment_outbox_pending',
    help: 'Provider calls waiting in the payment outbox (all nodes), due or retried later',
    registers: [registry],
    async collect() {
      const value = await read();
      if (value) this.set(value.pending);
    },
  });
  new Gauge({
    name: 'voltbill_payment_outbox_oldest_pending_seconds',
    help: 'Age of the oldest pending provider call in the payment outbox (0 when none): alert when it grows',
    registers: [registry],
    async collect() {
      const value = await read();
      if (value) this.set(value.oldestS);
    },
  });
}
