/** What the simulator reports about one session, so that a demo can print it and a test can compare it with the server. */
import type { StopReason } from './ocpp16-types.ts';
import type { SessionOrigin } from './plan-sessions.ts';

/**
 * completed: StartTransaction and StopTransaction were both acknowledged.
 * refused: the CSMS refused the idTag (Authorize, or StartTransaction's idTagInfo, which stops the transaction).
 * failed: anything else: no connection, messages given up, the run stopped before the session could run.
 */
export type SessionStatus = 'completed' | 'refused' | 'failed';

export interface SessionRecord {
  readonly stationId: string;
  readonly connectorId: number;
  readonly idTag: string;
  /** The CSMS's transaction id; null when no StartTransaction was acknowledged. */
  readonly transactionId: number | null;
  /** The register at StartTransaction (or at plug-in when the session never started), in Wh. */
  readonly meterStartWh: number;
  /** The register at StopTransaction (equal to meterStartWh when the session never started), in Wh. */
  readonly meterStopWh: number;
  /** StartTransaction's timestamp (plug-in time when the session never started), ISO 8601 UTC. */
  readonly startedAt: string;
  /** StopTransaction's timestamp (the time the station gave up or returned to Available otherwise). */
  readonly endedAt: string;
  readonly status: SessionStatus;
  readonly origin: SessionOrigin;
  readonly stopReason: StopReason | null;
  /** Why a session failed or was refused, in words. */
  readonly note: string | null;
}

export interface NotStartedSession {
  readonly stationId: string;
  readonly connectorId: number;
  readonly idTag: string;
  readonly origin: SessionOrigin;
  readonly registerWh: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly status: SessionStatus;
  readonly note: string;
}

/** The record of a session that never had a transaction: refused by Authorize, or never run. */
export function notStartedRecord(session: NotStartedSession): SessionRecord {
  return {
    stationId: session.stationId,
    connectorId: session.connectorId,
    idTag: session.idTag,
    transactionId: null,
    meterStartWh: session.registerWh,
    meterStopWh: session.registerWh,
    startedAt: new Date(session.fromMs).toISOString(),
    endedAt: new Date(session.toMs).toISOString(),
    status: session.status,
    origin: session.origin,
    stopReason: null,
    note: session.note,
  };
}
