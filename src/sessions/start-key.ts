/**
 * The identity of a StartTransaction: a station that did not get our reply sends the same request again, and it
 * must receive the same transaction id instead of opening a second session. Two starts are the same when station,
 * connector, idTag, timestamp and meterStart are all equal.
 */
import { createHash } from 'node:crypto';
import type { TransactionStarted } from './session-event.ts';

export function startKey(event: TransactionStarted): string {
  const parts = [
    event.stationId,
    String(event.evseId),
    String(event.connectorId),
    event.idTag.toUpperCase(),
    event.startedAt.toISOString(),
    event.meterStartWh.toString(),
    event.transactionId ?? '',
  ];
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 32);
}
