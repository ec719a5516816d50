import { createRPCError } from 'ocpp-rpc';
import { authorizeIdTag } from '../../auth/authorize-id-tag.ts';
import { findIdTokenForDecision } from '../../auth/id-token-store.ts';
import { normalizeV16MeterValues, type V16MeterValue } from '../../metering/normalize-v16.ts';
import { extractV16SignedValues } from '../../meters/extract-signed-values.ts';
import { storeSignedValues } from '../../meters/signed-values-store.ts';
import type { ChargingState } from '../../sessions/session-event.ts';
import { type BootInfo, recordBoot, registerPendingStation } from '../../stations/station-store.ts';
import type { OcppHandler, OcppHandlerDeps } from '../handler-deps.ts';
import { requireNonNegative } from '../value-rules.ts';

export type V16Deps = OcppHandlerDeps;

export type V16Handler = OcppHandler;

/** Requests a station may send before an operator accepted it (OCPP 1.6 §4.2: only BootNotification). */
export const V16_ALLOWED_BEFORE_ACCEPTED = new Set(['BootNotification']);

const STATUS_TO_CHARGING_STATE: Record<string, ChargingState | undefined> = {
  Charging: 'Charging',
  SuspendedEV: 'SuspendedEV',
  SuspendedEVSE: 'SuspendedEVSE',
  Finishing: 'EVConnected',
};

export function createV16Handlers(deps: V16Deps): Record<string, V16Handler> {
  const { db, clock, logger, metrics, sessions } = deps;

  const idTagInfo = (status: string, expiresAt?: Date) => ({
    status,
    ...(expiresAt && { expiryDate: expiresAt.toISOString() }),
  });

  return {
    async BootNotification(station, params) {
      const now = clock.now();
      const info: BootInfo = {
        vendor: String(params.chargePointVendor),
        model: String(params.chargePointModel),
        ...(typeof params.chargePointSerialNumber === 'string' && { serialNumber: params.chargePointSerialNumber }),
        ...(typeof params.firmwareVersion === 'string' && { firmwareVersion: params.firmwareVersion }),
        ocppVersion: 'ocpp1.6',
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
      const connectorId = Number(params.connectorId);
      const at = typeof params.timestamp === 'string' ? new Date(params.timestamp) : clock.now();
      const status = String(params.status);
      if (connectorId > 0) {
        await deps.evseStatus.enqueue({
          stationId: station.stationId,
          evseId: connectorId,
          status,
          errorCode: String(params.errorCode),
          at,
        });
        const state = STATUS_TO_CHARGING_STATE[status];
        if (state)
          await sessions.changeState({
            kind: 'ChargingStateChanged',
            stationId: station.stationId,
            evseId: connectorId,
            state,
            at,
          });
      }
      return {};
    },

    async Authorize(station, params) {
      const operatorId = await station.operatorId();
      const uid = String(params.idTag);
      const payments = sessions.paymentAuthorizer;
      // The token, whether it charges anywhere and the payment decision's inputs: one statement.
      const token = operatorId
        ? await findIdTokenForDecision(db, operatorId, uid, { stationId: '', evseId: 0 }, payments?.prefetchInputs)
        : undefined;
      let decision = authorizeIdTag(token, clock.now(), token?.chargingElsewhere ?? false);
      if (payments && operatorId) {
        // The payment side (wallet balance, blocked card, velocity) decides the same way as at StartTransaction.
        const at = {
          operatorId,
          idTag: uid,
          stationId: station.stationId,
          evseId: null,
          purpose: 'authorize' as const,
        };
        const payment =
          token && decision.status === 'Accepted'
            ? await payments.decide({
                ...at,
                idTokenId: token.id,
                hasPaymentProfile: token.hasPaymentProfile,
                prefetched: token.paymentInputs,
              })
            : undefined;
        if (payment && payment.status !== 'Accepted') decision = { status: payment.status };
        await payments.record(
          { ...at, idTokenId: token?.id ?? null },
          payment ?? { status: decision.status, reason: token ? `IdToken${decision.status}` : 'UnknownIdTag' },
        );
      }
      return { idTagInfo: idTagInfo(decision.status, decision.expiresAt) };
    },

    async StartTransaction(station, params) {
      requireNonNegative('meterStart', params.meterStart);
      const outcome = await sessions.start({
        kind: 'TransactionStarted',
        stationId: station.stationId,
        evseId: Number(params.connectorId),
        connectorId: 1,
        idTag: String(params.idTag),
        meterStartWh: BigInt(params.meterStart as number),
        startedAt: new Date(String(params.timestamp)),
        ...(typeof params.reservationId === 'number' && { reservationId: params.reservationId }),
      });
      if (!outcome.ok) {
        // StartTransaction must always be answered; a start on an EVSE we do not know is refused (and never
        // billed): the station is told the idTag is invalid and gets transaction id 0, which names no session.
        logger.warn({ stationId: station.stationId, code: outcome.code }, outcome.message);
        return { transactionId: 0, idTagInfo: idTagInfo('Invalid') };
      }
      if (!outcome.duplicate) metrics.sessionsStarted.inc();
      return {
        transactionId: Number(outcome.transactionId),
        idTagInfo: idTagInfo(outcome.authorization.status, outcome.authorization.expiresAt),
      };
    },

    async MeterValues(station, params) {
      const { samples, problems } = normalizeV16MeterValues(params.meterValue as V16MeterValue[]);
      if (problems.length > 0) logger.warn({ stationId: station.stationId, problems }, 'unreadable meter values');
      if (params.transactionId === undefined) return {};
      // Signed meter data (SignedData) is kept raw with the session and verified when the session ends.
      await storeSignedValues(
        db,
        { stationId: station.stationId, transactionId: String(params.transactionId) },
        'MeterValues',
        extractV16SignedValues(params.meterValue as V16MeterValue[]),
        clock.now(),
      );
      const outcome = await sessions.sample({
        kind: 'MeterSampled',
        stationId: station.stationId,
        transactionId: String(params.transactionId),
        samples,
      });
      if (!outcome.known) {
        metrics.unknownTransactions.inc({ action: 'MeterValues' });
        logger.warn(
          { stationId: station.stationId, transactionId: params.transactionId },
          'MeterValues for an unknown transaction',
        );
      }
      return {};
    },

    async StopTransaction(station, params) {
      const { samples, problems } = normalizeV16MeterValues((params.transactionData as V16MeterValue[]) ?? []);
      if (problems.length > 0) logger.warn({ stationId: station.stationId, problems }, 'unreadable transaction data');
      const idTag = typeof params.idTag === 'string' ? params.idTag : undefined;
      await storeSignedValues(
        db,
        { stationId: station.stationId, transactionId: String(params.transactionId) },
        'StopTransaction',
        extractV16SignedValues(params.transactionData as V16MeterValue[] | undefined),
        clock.now(),
      );
      const outcome = await sessions.end({
        kind: 'TransactionEnded',
        stationId: station.stationId,
        transactionId: String(params.transactionId),
        meterStopWh: BigInt(params.meterStop as number),
        endedAt: new Date(String(params.timestamp)),
        ...(typeof params.reason === 'string' && { reason: params.reason }),
        ...(idTag !== undefined && { idTag }),
        samples,
      });
      if (!outcome.known) {
        metrics.unknownTransactions.inc({ action: 'StopTransaction' });
        logger.warn(
          { stationId: station.stationId, transactionId: params.transactionId },
          'StopTransaction for a transaction this station never received: answered, not billed',
        );
        return idTag ? { idTagInfo: idTagInfo('Invalid') } : {};
      }
      if (!outcome.duplicate && outcome.billing !== 'AlreadyEnded')
        metrics.sessionsEnded.inc({ billing: outcome.billing });
      return idTag && outcome.authorization ? { idTagInfo: idTagInfo(outcome.authorization.status) } : {};
    },

    async DataTransfer() {
      return { status: 'UnknownVendorId' };
    },
  };
}

/** Raised for requests a not-accepted station may not send. */
export function notAcceptedError(stationId: string, status: string) {
  return createRPCError(
    'SecurityError',
    `station ${stationId} is ${status === 'Unknown' ? 'not registered' : status}: only BootNotification is allowed`,
  );
}
