/**
 * What both OCPP adapters (1.6J and 2.0.1) need to turn a station's request into domain calls, and the shape of one
 * request handler. A version adds only what is its own (2.0.1: the CostUpdated interval).
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { Clock } from '../shared/clock.ts';
import type { EvseStatusWriter } from '../stations/evse-status-writer.ts';
import type { LastSeenWriter } from '../stations/last-seen-writer.ts';
import type { StationConnection } from './station-connection.ts';

export type OcppHandlerDeps = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly sessions: SessionService;
  readonly heartbeatIntervalS: number;
  readonly autoRegisterStations: boolean;
  /** Heartbeats record the station's last-seen time here, written in batches (not one UPDATE per heartbeat). */
  readonly lastSeen: LastSeenWriter;
  /** StatusNotification writes the EVSE's status here: group-committed, the reply waits for the commit. */
  readonly evseStatus: EvseStatusWriter;
};

export type OcppParams = Record<string, unknown>;
export type OcppHandler = (station: StationConnection, params: OcppParams) => Promise<OcppParams>;
