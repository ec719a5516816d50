/**
 * Reconciliation as a scheduled job in the server: runs every `intervalMs`, records each run in
 * reconciliation_runs and publishes the last result on /metrics. On a cluster one node per interval runs it
 * (claimRun); runs are read-only apart from their own record, so even an overlapping run would be harmless.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { Clock } from '../shared/clock.ts';
import { reconcile, recordReconcileRun } from './reconcile.ts';
import type { ReconcileReport } from './reconcile-report.ts';

/** Delay of the first run after the server starts. */
const FIRST_RUN_AFTER_MS = 60_000;

export type ReconcileJob = { runNow(): Promise<ReconcileReport>; stop(): Promise<void> };

export function startReconcileJob(deps: {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  intervalMs: number;
  /** Cluster: true on the one node that runs this period's scheduled run (manual runNow() calls always run). */
  claimRun?: (job: string, periodMs: number) => Promise<boolean>;
}): ReconcileJob {
  let running: Promise<ReconcileReport> | undefined;
  let stopped = false;
  const runNow = (): Promise<ReconcileReport> => {
    if (running) return running;
    running = (async () => {
      const startedAt = deps.clock.now();
      const started = performance.now();
      try {
        const report = await reconcile(deps.db, deps.clock);
        await recordReconcileRun(deps.db, report, startedAt);
        deps.metrics.reconcileClean.set(report.clean ? 1 : 0);
        deps.metrics.reconcileLastRunSeconds.set(Math.floor(startedAt.getTime() / 1000));
        deps.metrics.reconcileDurationSeconds.set((performance.now() - started) / 1000);
        for (const check of report.checks)
          deps.metrics.reconcileDifferences.set({ check: check.check }, check.differences);
        if (!report.clean)
          deps.logger.error({ differences: report.differences.slice(0, 20) }, 'reconciliation found differences');
        return report;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const tick = () => {
    if (stopped) return;
    const claimed = deps.claimRun ? deps.claimRun('reconcile', deps.intervalMs) : Promise.resolve(true);
    claimed
      .then((won) => (won ? runNow() : undefined))
      .catch((error) => deps.logger.error({ err: error }, 'reconciliation run failed'));
  };
  // The first run comes soon after start (so /metrics has a result), then one every interval.
  const first = setTimeout(tick, Math.min(deps.intervalMs, FIRST_RUN_AFTER_MS));
  const timer = setInterval(tick, deps.intervalMs);
  first.unref();
  timer.unref();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
