/**
 * The payment worker: after commit, it places holds that sessions need, releases holds nearing expiry, and works
 * the outbox (provider calls under idempotency keys). Several workers (one per node) may run: claims are leased
 * rows taken with SKIP LOCKED, so each item has one worker at a time, each payment one step at a time (the claim
 * leases the payment too), and a killed worker's item comes back.
 *
 * Running (`start`), the worker is loops of their own: the sweeps every interval, and `workerConcurrency` lanes,
 * each claiming a due item, working it, and claiming the next. A provider call waits on the network (Stripe takes a
 * few hundred ms; a timeout, 20 s): it holds its own lane and nothing else. (Until
 * 2026-11-28 the items were worked in passes, each pass waiting for its slowest call before the next pass's claims
 * and sweeps: one timed-out call held a node's captures back for the whole timeout, and 8 calls of 300 ms capped
 * a node at about 12 captured sessions a second. BENCHMARKS.md, twentieth session.)
 */

import { linkAdHocSessions, placeMissingHolds, releaseExpiringHolds } from '../flows/place-holds.ts';
import type { PaymentContext } from '../payment-context.ts';
import { type ClaimedOutboxItem, claimNextOutboxItem } from './outbox-store.ts';
import { workClaimedItem } from './work-claimed-item.ts';

/**
 * An idle lane other than the watcher claims again on its own after this long at the latest (a bound, should a wake
 * ever be missed); a lane that finds work wakes it sooner.
 */
const IDLE_LANE_MAX_NAP_MS = 60_000;

/** Outbox items one `runOnce` pass works at most, so that a pass (a test's, the demo's) stays short. */
const ITEMS_PER_PASS = 100;

export type PaymentWorker = {
  /** One pass: sweeps, then due outbox items, at most `workerConcurrency` at once. Returns how many it worked. */
  runOnce(): Promise<number>;
  /** Passes until nothing is due (tests, demo); bounded by `maxPasses`. */
  runUntilIdle(maxPasses?: number): Promise<void>;
  /** Runs the sweeps every `intervalMs`, and lanes that work due items as they come (see above). */
  start(intervalMs: number): void;
  /** Ends both loops and waits for the items being worked. */
  stop(): Promise<void>;
  /**
   * Something was just queued (a refund, a top-up): running, the watching lane claims now instead of at its next
   * interval; not running (tests, the demo), one pass runs. Never throws, never waits.
   */
  kick(): void;
};

/**
 * `sweeps` run after the hold sweeps (e.g. stopping wallet sessions whose balance is used up); a failing sweep is
 * logged and does not stop the others.
 */
export function createPaymentWorker(
  ctx: PaymentContext,
  sweeps: readonly (() => Promise<unknown>)[] = [],
): PaymentWorker {
  let running: Promise<number> | undefined;
  let stopped = false;
  let loops: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  /** What the last call of start or stop asked for: a start during a stop runs after it, unless stopped again. */
  let wanted = false;
  function startWhenStopped(intervalMs: number): void {
    if (stopping) {
      void stopping.then(() => startWhenStopped(intervalMs));
      return;
    }
    if (loops || !wanted) return;
    stopped = false;
    loops = startLoops(intervalMs).catch((error: unknown) => {
      // The loops catch their own failures; this is the last guard against an unhandled rejection.
      ctx.logger.error({ err: error }, 'payment worker loops ended unexpectedly');
    });
  }
  const lanes = Math.max(1, ctx.settings.workerConcurrency);
  const claim = (): Promise<ClaimedOutboxItem | undefined> =>
    claimNextOutboxItem(ctx.db, ctx.clock.now(), ctx.settings.leaseMs);

  async function sweepAll(): Promise<void> {
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
  }

  async function pass(): Promise<number> {
    await sweepAll();
    // Lanes claim and work items side by side, as workers on several nodes do (claims skip each other's rows; an
    // item whose payment waits for another step is put back without spending an attempt). Together they work at
    // most ITEMS_PER_PASS items, and never two items of one payment at once, on this node or across nodes: a claim
    // leases the item's payment and skips leased ones (outbox-store.ts says why).
    let claimed = 0;
    let processed = 0;
    const lane = async () => {
      while (claimed < ITEMS_PER_PASS && !stopped) {
        claimed++;
        const item = await claim();
        if (!item) return;
        await workClaimedItem(ctx, item);
        processed++;
      }
    };
    // Every lane has ended before the pass does, even when one failed (a claim during a database outage): the pass
    // is then reported failed, and no lane outlives it into the next pass or past stop().
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(lanes, ITEMS_PER_PASS) }, lane));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return processed;
  }

  function runOnce(): Promise<number> {
    // One pass at a time per worker; a call during a pass waits for it instead of starting a second one.
    if (!running) running = pass().finally(() => (running = undefined));
    return running;
  }

  /**
   * A wait of up to `ms` that `wake` (or stop) ends early. A wake while not napping (the lane is claiming) is kept
   * for the next nap, which then ends at once: a kick during a claim that found nothing is not lost.
   */
  function napper() {
    let wakeNow: (() => void) | undefined;
    let wokenEarly = false;
    return {
      nap(ms: number): Promise<void> {
        if (wokenEarly) {
          wokenEarly = false;
          return Promise.resolve();
        }
        return new Promise((resolve) => {
          const timer = setTimeout(done, ms);
          timer.unref();
          wakeNow = done;
          function done() {
            clearTimeout(timer);
            wakeNow = undefined;
            resolve();
          }
        });
      },
      wake: () => {
        if (wakeNow) wakeNow();
        else wokenEarly = true;
      },
    };
  }

  function startLoops(intervalMs: number): Promise<void> {
    const sweepNap = napper();
    const laneNaps = Array.from({ length: lanes }, napper);

    async function sweepLoop(): Promise<void> {
      while (!stopped) {
        try {
          await sweepAll();
        } catch (error) {
          ctx.logger.error({ err: error }, 'payment worker sweep failed');
        }
        wakeWatcher();
        if (!stopped) await sweepNap.nap(intervalMs);
      }
    }

    // Each lane: claim, work, claim again. The lanes' claims go side by side, as several nodes' do (a single claimer
    // feeding the lanes, tried first, was the bottleneck under load: one claim at a time, each waiting for the pool).
    // Idle, they do not all poll: one idle lane, the watcher, claims every interval; the others sleep until a lane
    // that found work wakes one of them (so a burst wakes the lanes one claim after another), or at the latest after
    // IDLE_LANE_MAX_NAP_MS. (Until 2026-11-29 every idle lane claimed every interval: 32 claims a second on an idle
    // node with Stripe's 32 lanes.)
    let watcher: number | undefined;
    const sleeping = new Set<number>();
    const wakeOneSleeper = () => {
      for (const lane of sleeping) {
        sleeping.delete(lane);
        laneNaps[lane]?.wake();
        return;
      }
    };
    async function laneLoop(lane: number): Promise<void> {
      const nap = laneNaps[lane] as ReturnType<typeof napper>;
      while (!stopped) {
        try {
          await laneTurn(lane, nap);
        } catch (error) {
          // workClaimedItem does not throw; should anything else here ever do, the lane logs it, naps and goes on:
          // a lane that died would leave its share of the work to the others and its rejection unhandled.
          ctx.logger.error({ err: error, lane }, 'payment worker lane failed; it goes on after the interval');
          if (watcher === lane) watcher = undefined;
          if (!stopped) await nap.nap(intervalMs);
        }
      }
      if (watcher === lane) watcher = undefined;
    }

    /** One claim and what follows it: the item worked, or a nap. */
    async function laneTurn(lane: number, nap: ReturnType<typeof napper>): Promise<void> {
      let item: ClaimedOutboxItem | undefined;
      try {
        item = await claim();
      } catch (error) {
        // The database unreachable: every lane finds the same, the watcher says so.
        if (watcher === undefined || watcher === lane) {
          ctx.logger.error({ err: error }, 'payment outbox claim failed; tried again after the interval');
        }
      }
      if (item) {
        if (watcher === lane) watcher = undefined;
        // More may be due: one more lane looks. The last lane of such a chain finds nothing and, when no lane
        // watches, becomes the watcher.
        wakeOneSleeper();
        await workClaimedItem(ctx, item);
      } else if (stopped) {
        return;
      } else if (watcher === undefined || watcher === lane) {
        watcher = lane;
        await nap.nap(intervalMs); // nothing due: the idle node costs one claim an interval
      } else {
        sleeping.add(lane);
        await nap.nap(Math.max(intervalMs, IDLE_LANE_MAX_NAP_MS));
        sleeping.delete(lane);
      }
    }

    wakeLoops = () => {
      sweepNap.wake();
      for (const nap of laneNaps) nap.wake();
    };
    wakeWatcher = () => {
      if (watcher !== undefined) laneNaps[watcher]?.wake();
      else wakeOneSleeper();
    };
    // Stopped: each lane ends after its item (bounded by the provider's timeout).
    return Promise.all([sweepLoop(), ...laneNaps.map((_, lane) => laneLoop(lane))]).then(() => undefined);
  }
  let wakeLoops: () => void = () => undefined;
  /** The holds a sweep has just queued are claimed now, not an interval later. */
  let wakeWatcher: () => void = () => undefined;

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
      wanted = true;
      startWhenStopped(intervalMs);
    },
    async stop() {
      wanted = false;
      if (stopping) return stopping;
      stopped = true;
      wakeLoops();
      stopping = (async () => {
        await loops;
        loops = undefined;
        await running?.catch(() => undefined);
      })();
      try {
        await stopping;
      } finally {
        stopping = undefined;
      }
    },
    kick() {
      if (loops) wakeWatcher();
      else void runOnce().catch((error: unknown) => ctx.logger.warn({ err: error }, 'payment worker pass failed'));
    },
  };
}
