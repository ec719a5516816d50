/**
 * Ends the OCPP 2.0.1 transactions whose Ended event has waited longer than allowed for missing earlier events: the
 * station may never send them (lost in its offline queue), and a session must not stay unbilled forever. Such a
 * session is billed on what did arrive; the missing seqNos are logged.
 */
import { type ApplyDeps, applyTransactionEvents } from './apply-transaction-events.ts';
import { findOverdueEnds } from './transaction-event-store.ts';

export async function sweepOverdueEnds(deps: ApplyDeps, maxWaitMs: number): Promise<number> {
  const overdue = await findOverdueEnds(deps.db, new Date(deps.clock.now().getTime() - maxWaitMs));
  for (const { stationId, transactionId } of overdue) {
    try {
      await applyTransactionEvents(deps, stationId, transactionId, { force: true });
    } catch (error) {
      // One transaction that fails must not keep the sweep from ending the others (it is tried again next period).
      deps.logger.error({ err: error, stationId, transactionId }, 'ending an overdue OCPP 2.0.1 transaction failed');
    }
  }
  return overdue.length;
}
