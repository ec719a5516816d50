/**
 * The charging state each OCPP 2.0.1 transaction's last reading carried, as this node applied it, by seqNo. Many
 * stations repeat `chargingState` in every TransactionEvent although it changed in none of them; recording each
 * repeat cost a history row and a rewrite of the session's row per reading (the most expensive statement per
 * reading under load). A state is left unrecorded only when the event with the seqNo just before it was applied
 * here with the same state: in seqNo order (the station's own order) nothing lies between the two, so the history
 * already says that state held, whatever arrives later and out of order. Anything else is recorded as before.
 *
 * Per node and in memory: a station that moves to another node starts with nothing known (everything recorded), and
 * a full map is emptied rather than grown (the same), so the limit only costs some repeats.
 */
const MAX_TRANSACTIONS = 100_000;

export class RecentChargingStates {
  readonly #byTransaction = new Map<string, { readonly seqNo: number; readonly state: string }>();

  /** Whether `state` at `seqNo` repeats what the transaction's previous seqNo carried (then it need not be stored). */
  repeats(stationId: string, transactionId: string, seqNo: number, state: string): boolean {
    const previous = this.#byTransaction.get(key(stationId, transactionId));
    return previous !== undefined && previous.seqNo === seqNo - 1 && previous.state === state;
  }

  /** The state the event at `seqNo` carried, now applied (recorded, or a repeat). */
  applied(stationId: string, transactionId: string, seqNo: number, state: string): void {
    if (this.#byTransaction.size >= MAX_TRANSACTIONS) this.#byTransaction.clear();
    this.#byTransaction.set(key(stationId, transactionId), { seqNo, state });
  }

  /** Nothing known any more: an event was applied another way (out of the fast path), or the transaction ended. */
  forget(stationId: string, transactionId: string): void {
    this.#byTransaction.delete(key(stationId, transactionId));
  }

  get size(): number {
    return this.#byTransaction.size;
  }
}

function key(stationId: string, transactionId: string): string {
  return `${stationId}\u0000${transactionId}`;
}
