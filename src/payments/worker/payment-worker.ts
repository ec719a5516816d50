/**
 * The payment worker: after commit, it places holds that sessions need, releases holds nearing expiry, and works
 * the outbox (provider calls under idempotency keys). Several workers (one per node) may run: claims are leased
 * rows taken with SKIP LOCKED, so each item has one worker at a time, each payment one step at a time (the claim
 * leases the payment too), and a killed worker's item comes back.
 */

import { linkAdHocSessions, placeMissingHolds, releaseExpiringHolds } from '../flows/place-holds.ts';
import type { PaymentContext } from '../payment-context.ts';
import { retryDelayMs } from './backoff.ts';
import { claimNextOutboxItem, releasePaymentLease, retryOutboxItem } from './outbox-store.ts';
import { processOutboxItem } from './process-outbox-item.ts';

/** Outbox items one pass works at most, so a pass (and shutdown) stays short. */
const ITEMS_PER_PASS = 100;

export type PaymentWorker = {
  /** One pass: sweeps, then due outbox items. Returns how many items it processed. */
  runOnce(): Promise<number>;
  /** Passes until nothing is due (tests, demo); bounded by `maxPasses`. */
  runUntilIdle(maxPasses?: number): Promise<void>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
};

/**
 * `sweeps` run at the start of every pass after the hold sweeps (e.g. stopping wallet sessions whose balance is used
 * up); a failing sweep is logged and does not stop the pass.
 */
export function createPaymentWorker(
  ctx: PaymentContext,
  sweeps: readonly (() => Promise<unknown>)[] = [],
): PaymentWorker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  async function pass(): Promise<number> {
    await placeMissingHolds(ctx);
    await linkAdHocSessions(ctx);
    await releaseExpiringHolds(ctx);
    for (const sweep of sweeps) {
      try {
        await sweep();
      } catch (error) {
        ctx.logger.error({ err: error }, 'payment worker sweep failed');
      }
    }
    // Lanes claim and work items side by side, as workers on several nodes do (claims skip each other's rows; an
    // item whose payment waits for another step is put back without spending an attempt). Together they work at
    // most ITEMS_PER_PASS items, and never two items of one payment at once, on this node or across nodes: a claim
    // leases the item's payment and skips leased ones (outbox-store.ts says why).
    let claimed = 0;
    let processed = 0;
    const lane = async () => {
      while (claimed < ITEMS_PER_PASS && !stopped) {
        claimed++;
        const item = await claimNextOutboxItem(ctx.db, ctx.clock.now(), ctx.settings.leaseMs);
        if (!item) return;
        let ended = false;
        try {
          await processOutboxItem(ctx, item);
          ended = true;
        } catch (error) {
          // Retried under the same key after a backoff (nothing moves twice), so that a step that fails the same way
          // every time neither spins nor, being due first, keeps its payment's other steps waiting forever. The
          // payment's lease is kept: it lapses as the claim would have, so no other step of the payment starts
          // while this one's outcome is open.
          ctx.logger.error(
            { err: error, outboxId: String(item.id) },
            'payment outbox item failed unexpectedly; retried after a backoff',
          );
          const now = ctx.clock.now();
          const at = new Date(now.getTime() + retryDelayMs(item.attempts, ctx.settings.retryBaseMs));
          await retryOutboxItem(ctx.db, item, at, now, `unexpected: ${String(error)}`.slice(0, 500)).catch(
            () => undefined, // the database is down: the claim lapses after its lease instead
          );
        }
        if (ended) {
          // The step ended (done, failed, or put back): the payment's other steps may go now.
          await releasePaymentLease(ctx.db, item).catch((error: unknown) =>
            ctx.logger.warn({ err: error, paymentId: item.payment_id }, 'payment lease not released; it lapses'),
          );
        }
        processed++;
      }
    };
    const lanes = Math.max(1, Math.min(ctx.settings.workerConcurrency, ITEMS_PER_PASS));
    // Every lane has ended before the pass does, even when one failed (a claim during a database outage): the pass
    // is then reported failed, and no lane outlives it into the next pass or past stop().
    const outcomes = await Promise.allSettled(Array.from({ length: lanes }, lane));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return processed;
  }

  function runOnce(): Promise<number> {
    // One pass at a time per worker; a tick during a pass waits for it instead of starting a second one.
    if (!running) running = pass().finally(() => (running = undefined));
    return running;
  }

  return {
    runOnce,
    async runUntilIdle(maxPasses = 200) {
      for (let i = 0; i < maxPasses; i++) {
        const processed = await runOnce();
        if (processed === 0) {
          const due = await ctx.db
            .selectFrom('payment_outbox')
            .select('id')
            .where('status', '=', 'pending')
            .where('next_attempt_at', '<=', ctx.clock.now())
            .limit(1)
            .executeTakeFirst();
          if (!due) return;
        }
      }
    },
    start(intervalMs) {
      stopped = false;
      // The interval is the idle poll: a pass that worked its full quota leaves more due, so the next starts at once.
      const tick = (delayMs: number) => {
        timer = setTimeout(async () => {
          let processed = 0;
          try {
            processed = await runOnce();
          } catch (error) {
            ctx.logger.error({ err: error }, 'payment worker pass failed');
          }
          if (!stopped) tick(processed >= ITEMS_PER_PASS ? 0 : intervalMs);
        }, delayMs);
        timer.unref();
      };
      tick(intervalMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
