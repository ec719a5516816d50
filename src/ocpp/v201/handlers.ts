import type { AuthorizationStatus } from '../../auth/authorize-id-tag.ts';
import { normalizeV201SampledValues, type V201MeterValue } from '../../metering/normalize-v201.ts';
import { findSessionByTransaction } from '../../sessions/session-store.ts';
import { type BootInfo, recordBoot, registerPendingStation } from '../../stations/station-store.ts';
import type { OcppHandler, OcppHandlerDeps, OcppParams } from '../handler-deps.ts';
import type { StationConnection } from '../station-connection.ts';
import { requireNonEmpty, requireNonNegative } from '../value-rules.ts';
import {
  type ApplyDeps,
  type ApplyResult,
  applyTransactionEvents,
  applyUpdatedEvent,
  sameContent,
} from './apply-transaction-events.ts';
import { authorizeV201Token, idTokenInfo, type V201IdToken } from './id-token.ts';
import { RecentChargingStates } from './recent-charging-states.ts';
import { finalSessionCost, loadPricingInputs, priceRunningSession, totalCostNumber } from './session-cost.ts';
import { tariffTextFor } from './tariff-text.ts';
import { storeTransactionEvent, type TransactionEventRequest } from './transaction-event-store.ts';

export type V201Deps = OcppHandlerDeps & {
  /** Least charging time (by the station's readings) between two CostUpdated of one transaction; 0 = never. */
  readonly costUpdateIntervalS: number;
  /** The group commits of readings' events (createReadingEventWriters); without them, one statement per step. */
  readonly readingWriters?: ApplyDeps['readingWriters'];
};

type Params = OcppParams;
export type V201Handler = OcppHandler;

/** Requests a station may send before an operator accepted it. */
export const V201_ALLOWED_BEFORE_ACCEPTED = new Set(['BootNotification', 'SecurityEventNotification']);

export function createV201Handlers(deps: V201Deps): Record<string, V201Handler> {
  const { db, clock, logger, metrics, sessions } = deps;
  /** Reading time of the last running cost sent, per station and transaction (this node's connections only). */
  const lastCostAtMs = new Map<string, number>();
  /** The charging states of this node's transactions' last readings: a repeat is not recorded again. */
  const recentStates = new RecentChargingStates();

  /**
   * `applied`: what applyTransactionEvents or applyUpdatedEvent returned (the session's status is current; the rest
   * of the row never changes while it is Active).
   */
  async function runningCostToSend(station: StationConnection, transactionId: string, applied: ApplyResult) {
    if (deps.costUpdateIntervalS <= 0 || !station.call) return undefined;
    const key = `${station.stationId}\u0000${transactionId}`;
    const session = applied.session;
    if (session?.status !== 'Active') return undefined;
    const previous = lastCostAtMs.get(key) ?? session.started_at.getTime();
    // No stored reading is later than the latest of the transaction's events: when even that one is not due, the
    // stored latest is not either, and nothing needs to be read.
    const upToMs = applied.readingsUpToMs;
    if (upToMs === undefined || upToMs - previous < deps.costUpdateIntervalS * 1000) return undefined;
    // The whole row (a reading's fast path reads only what it needs), then one read for both: the latest stored
    // reading and everything the price needs.
    const row = applied.sessionRow ?? (await findSessionByTransaction(db, station.stationId, transactionId));
    if (row?.status !== 'Active') return undefined;
    const inputs = await loadPricingInputs(db, row);
    const latestMs = inputs.samples.at(-1)?.at.getTime();
    if (latestMs === undefined) return undefined;
    if (latestMs - previous < deps.costUpdateIntervalS * 1000) return undefined;
    const totalCost = totalCostNumber(await priceRunningSession(db, row, sessions.tariffs, inputs));
    if (totalCost === undefined) return undefined;
    lastCostAtMs.set(key, latestMs);
    return { totalCost, transactionId };
  }

  return {
    async BootNotification(station, params) {
      const now = clock.now();
      const cs = params.chargingStation as {
        model: string;
        vendorName: string;
        serialNumber?: string;
        firmwareVersion?: string;
      };
      const info: BootInfo = {
        vendor: cs.vendorName,
        model: cs.model,
        ...(cs.serialNumber !== undefined && { serialNumber: cs.serialNumber }),
        ...(cs.firmwareVersion !== undefined && { firmwareVersion: cs.firmwareVersion }),
        ocppVersion: 'ocpp2.0.1',
      };
      const known = await station.rowForBoot();
      let status: string;
      if (known) {
        status = known.registration_status;
        if (status !== 'Rejected') await recordBoot(db, station.stationId, info, now);
      } else if (deps.autoRegisterStations) {
        status = await registerPendingStation(db, station.stationId, info, now);
        logger.info({ stationId: station.stationId }, 'unknown station registered as Pending');
      } else {
        status = 'Rejected';
        logger.warn({ stationId: station.stationId }, 'unknown station rejected');
      }
      station.registrationStatus = status;
      return { status, currentTime: now.toISOString(), interval: deps.heartbeatIntervalS };
    },

    async Heartbeat(station) {
      const now = clock.now();
      deps.lastSeen.touch(station.stationId, now);
      return { currentTime: now.toISOString() };
    },

    async StatusNotification(station, params) {
      const at = new Date(String(params.timestamp));
      await deps.evseStatus.enqueue({
        stationId: station.stationId,
        evseId: Number(params.evseId),
        status: String(params.connectorStatus),
        errorCode: null,
        at,
      });
      return {};
    },

    async Authorize(station, params) {
      const token = params.idToken as V201IdToken;
      const now = clock.now();
      // The payment side (wallet balance, blocked card, velocity) answers here too, as in 1.6's Authorize.
      const { decision, record } = await authorizeV201Token(
        db,
        await station.operatorId(),
        token,
        now,
        { stationId: station.stationId, evseId: 0 },
        sessions.paymentAuthorizer,
      );
      const message =
        decision.status === 'Accepted' ? await tariffTextFor(db, station.stationId, undefined, record, now) : undefined;
      return { idTokenInfo: idTokenInfo(decision, message) };
    },

    async TransactionEvent(station, params) {
      const event = params as unknown as TransactionEventRequest;
      requireNonNegative('seqNo', event.seqNo);
      const transactionId = event.transactionInfo.transactionId;
      requireNonEmpty('transactionInfo.transactionId', transactionId);
      const applyDeps: ApplyDeps = {
        db,
        clock,
        logger,
        sessions,
        recentStates,
        ...(deps.readingWriters && { readingWriters: deps.readingWriters }),
      };
      // A reading of a started session (nearly every TransactionEvent) takes the fast path; the rest is stored first
      // and applied with the transaction's other events.
      const fast = await applyUpdatedEvent(applyDeps, station.stationId, event, clock.now());
      const { created, stored } = fast ?? (await storeTransactionEvent(db, station.stationId, event, clock.now()));
      if (!created) {
        metrics.errors.inc({ code: 'DuplicateTransactionEvent' });
        // A reading applied as it was stored kept no payload (transaction-event-store.ts): its time is compared.
        const differs =
          stored.payload === undefined
            ? stored.eventAt.getTime() !== new Date(event.timestamp).getTime()
            : !sameContent(stored.payload, event);
        if (differs) {
          logger.warn(
            { stationId: station.stationId, transactionId, seqNo: event.seqNo },
            'a TransactionEvent repeats a seqNo with different content; the first one counts',
          );
        }
      }
      if (!fast) recentStates.forget(station.stationId, transactionId);
      const result = fast?.result ?? (await applyTransactionEvents(applyDeps, station.stationId, transactionId));
      if (result.waiting) logger.info({ stationId: station.stationId, transactionId }, result.waiting);
      if (result.ended?.known && !result.ended.duplicate && result.ended.billing !== 'AlreadyEnded') {
        metrics.sessionsEnded.inc({ billing: result.ended.billing });
      }
      const reply: Params = {};
      if (event.idToken) {
        // The session's own decision at its start stands for the event that started it (a repeated start must
        // not turn into ConcurrentTx with itself); only another token is looked up (no side effects, so nothing
        // is lost by not looking up the session's own).
        const own = result.session && result.session.id_tag.toUpperCase() === event.idToken.idToken.toUpperCase();
        const status =
          own && result.session
            ? { status: result.session.authorization_status as AuthorizationStatus }
            : (
                await authorizeV201Token(db, await station.operatorId(), event.idToken, clock.now(), {
                  stationId: station.stationId,
                  evseId: result.session?.evse_id ?? event.evse?.id ?? 0,
                })
              ).decision;
        reply.idTokenInfo = idTokenInfo(status);
      }
      if (event.eventType === 'Ended' && result.sessionRow?.status === 'Completed') {
        const totalCost = totalCostNumber(await finalSessionCost(db, result.sessionRow));
        if (totalCost !== undefined) reply.totalCost = totalCost;
      }
      if (result.newReadings) {
        const cost = await runningCostToSend(station, transactionId, result);
        // Sent after the reply: the station answers one request at a time and must first get this one's answer.
        if (cost && station.call) {
          const call = station.call;
          setImmediate(() => {
            call('CostUpdated', cost).catch((error) =>
              logger.warn({ err: error, stationId: station.stationId }, 'CostUpdated failed'),
            );
          });
        }
      }
      if (result.session?.status === 'Completed') {
        lastCostAtMs.delete(`${station.stationId}\u0000${transactionId}`);
        recentStates.forget(station.stationId, transactionId);
      }
      return reply;
    },

    async MeterValues(station, params) {
      // Readings outside TransactionEvents belong to no transaction in OCPP 2.0.1; they are logged, not billed.
      const { problems } = normalizeV201SampledValues(params.meterValue as V201MeterValue[]);
      if (problems.length > 0) logger.warn({ stationId: station.stationId, problems }, 'unreadable meter values');
      return {};
    },

    async NotifyEvent(station, params) {
      const data = params.eventData as { trigger: string; actualValue: string; component: { name: string } }[];
      logger.info(
        {
          stationId: station.stationId,
          seqNo: params.seqNo,
          events: data.slice(0, 20).map((e) => `${e.component.name}=${e.actualValue} (${e.trigger})`),
        },
        'NotifyEvent',
      );
      return {};
    },

    async SecurityEventNotification(station, params) {
      logger.warn(
        { stationId: station.stationId, type: params.type, techInfo: params.techInfo },
        'station security event',
      );
      return {};
    },

    async NotifyReport() {
      return {};
    },

    async FirmwareStatusNotification() {
      return {};
    },

    async LogStatusNotification() {
      return {};
    },

    async DataTransfer() {
      return { status: 'UnknownVendorId' };
    },
  };
}
