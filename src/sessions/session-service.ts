/**
 * Applies SessionEvents to stored sessions. Every event is stored before the station gets its reply; every event
 * can arrive twice (a station's retry) and the second time changes nothing; an event naming a transaction the
 * station never received is answered, logged and never billed to anyone.
 */
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type AuthorizationDecision, authorizeIdTag } from '../auth/authorize-id-tag.ts';
import { findIdTokenForDecision } from '../auth/id-token-store.ts';
import { type BillingOutcome, billSession } from '../billing/bill-session.ts';
import { type BillingHook, runBillingHooks } from '../billing/billing-hooks.ts';
import { type BillingShared, lockSessionForBilling } from '../billing/billing-shared.ts';
import { TariffVersionCache } from '../billing/tariff-version-cache.ts';
import { BatchWriter } from '../db/batch-writer.ts';
import { queryTemplate } from '../db/query-template.ts';
import type { Database, SessionRow } from '../db/schema.ts';
import type { MeterSample } from '../metering/meter-sample.ts';
import type { PlausibilityConfig } from '../metering/plausibility/plausibility-input.ts';
import { assessSessionMetering } from '../meters/assess-session-metering.ts';
import type { PaymentAuthorizer } from '../payments/flows/authorize-payment.ts';
import type { Clock } from '../shared/clock.ts';
import { loadEvseContext } from '../stations/station-store.ts';
import { findTariffInForce } from '../tariff/tariff-store.ts';
import { ActiveSessionCache } from './active-session-cache.ts';
import { decideEnd } from './end-transaction.ts';
import type { Finding } from './finding.ts';
import type { ChargingStateChanged, MeterSampled, TransactionEnded, TransactionStarted } from './session-event.ts';
import {
  type EvseStateChange,
  findSessionForSampling,
  insertSamples,
  insertSessionOnce,
  recordStateChangesOnEvses,
  type SampleRow,
  toSampleRow,
} from './session-store.ts';
import { startKey } from './start-key.ts';

export type StartOutcome =
  | {
      readonly ok: true;
      readonly sessionId: string;
      readonly transactionId: string;
      readonly authorization: AuthorizationDecision;
      readonly duplicate: boolean;
      /** The stored row as the start left it (inserted or found), so that callers need not read it back. */
      readonly session: SessionRow;
    }
  | { readonly ok: false; readonly code: 'StationNotAccepted' | 'UnknownEvse'; readonly message: string };

export type SampleOutcome =
  | { readonly known: false }
  | { readonly known: true; readonly sessionId: string; readonly accepted: number; readonly ignored: number };

export type EndOutcome =
  | { readonly known: false }
  | {
      readonly known: true;
      readonly sessionId: string;
      readonly duplicate: boolean;
      readonly authorization: AuthorizationDecision | undefined;
      readonly billing: BillingOutcome['status'] | 'AlreadyEnded';
    };

export type SessionService = {
  start(event: TransactionStarted): Promise<StartOutcome>;
  sample(event: MeterSampled): Promise<SampleOutcome>;
  /**
   * A reading's sample rows for a caller that stores them itself, atomically with something of its own (the OCPP
   * 2.0.1 readings' event, transaction-event-store.ts): only when this node caches the session as Active and the
   * samples fit its limit, else undefined (then sample() decides, reading the row). The rows are counted towards the
   * limit at once, as sample() counts what it queues; a caller that does not store them gives them back
   * (releaseSampleRows). The database still decides (the session must be Active).
   */
  reserveSampleRows(
    stationId: string,
    transactionId: string,
    samples: readonly MeterSample[],
  ): { readonly sessionId: string; readonly rows: SampleRow[] } | undefined;
  /** Rows reserved with reserveSampleRows that were not stored after all. */
  releaseSampleRows(stationId: string, transactionId: string, count: number): void;
  changeState(event: ChargingStateChanged): Promise<void>;
  end(event: TransactionEnded): Promise<EndOutcome>;
  /** Resolves once every charging-state change queued so far is written (shutdown). */
  flush(): Promise<void>;
  /** The payment side of authorization (wallet balance, blocked cards, velocity), shared by both OCPP versions. */
  readonly paymentAuthorizer?: PaymentAuthorizer;
  /** The immutable tariff versions this service has read, for the running cost of its sessions (session-cost.ts). */
  readonly tariffs?: TariffVersionCache;
};

export type SessionServiceDeps = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sampleWriter: BatchWriter<SampleRow>;
  readonly maxSamplesPerSession: number;
  /** New OCPP 1.6 transaction ids: random, so that a station cannot guess another's. */
  readonly newTransactionId?: () => string;
  /** Run after the billing decision in the stop's transaction (ledger, invoice, payment queue). */
  readonly billingHooks?: readonly BillingHook[];
  /** Limits and severities of the plausibility rules; the defaults of plausibility-input.ts when absent. */
  readonly plausibility?: PlausibilityConfig;
  /** Refuses an Accepted token for payment reasons and records every start decision (src/payments/flows). */
  readonly paymentAuthorizer?: PaymentAuthorizer;
};

/** OCPP 1.6 transactionId is a 32-bit signed integer; Voltbill draws it at random from the positive range. */
export function randomTransactionId(): string {
  return String(randomInt(1, 2 ** 31 - 1));
}

const MAX_ID_ATTEMPTS = 5;
/** Most charging-state changes per statement (each column one array parameter, so the text is the same for any count). */
const STATE_CHANGE_BATCH_ITEMS = 1_000;
/** Active sessions whose id and sample count the meter-value path keeps in memory (about 200 bytes each). */
const MAX_CACHED_SESSIONS = 100_000;

/** The stop's update of its session, built once (src/db/query-template.ts): every stop runs it. */
const completeSessionQuery = queryTemplate(
  'complete session',
  ['id', 'endedAt', 'meterStopWh', 'energyWh', 'stopReason', 'receivedStopAt', 'billingStatus', 'findings'],
  (
    db,
    p: {
      id: string;
      endedAt: Date | null;
      meterStopWh: bigint | null;
      energyWh: bigint | null;
      stopReason: string | null;
      receivedStopAt: Date;
      billingStatus: SessionRow['billing_status'];
      findings: string;
    },
  ) =>
    db
      .updateTable('sessions')
      .set({
        status: 'Completed',
        ended_at: p.endedAt,
        meter_stop_wh: p.meterStopWh,
        energy_wh: p.energyWh,
        stop_reason: p.stopReason,
        received_stop_at: p.receivedStopAt,
        billing_status: p.billingStatus,
        findings: p.findings,
      })
      .where('id', '=', p.id),
);

export function createSessionService(deps: SessionServiceDeps): SessionService {
  const { db, clock, logger } = deps;
  const newTransactionId = deps.newTransactionId ?? randomTransactionId;
  const activeSessions = new ActiveSessionCache(MAX_CACHED_SESSIONS);
  const tariffs = new TariffVersionCache();
  // Charging-state changes (StatusNotification Charging, SuspendedEV, …; TransactionEvent chargingState) are
  // group-committed: every change that queued while a batch was written goes in the next statement. The caller's
  // reply still waits for its change's commit.
  const stateChanges = new BatchWriter<EvseStateChange>(
    async (changes) => {
      await recordStateChangesOnEvses(db, changes);
    },
    { maxBatchItems: STATE_CHANGE_BATCH_ITEMS, maxQueuedItems: STATE_CHANGE_BATCH_ITEMS * 50 },
  );

  async function start(event: TransactionStarted): Promise<StartOutcome> {
    const where = await loadEvseContext(db, event.stationId, event.evseId);
    if (!where) {
      return {
        ok: false,
        code: 'UnknownEvse',
        message: `station ${event.stationId} is not accepted or has no EVSE ${event.evseId}`,
      };
    }
    const key = startKey(event);
    // The token, whether it charges elsewhere and the payment decision's inputs: one statement.
    const token = await findIdTokenForDecision(
      db,
      where.operatorId,
      event.idTag,
      { stationId: event.stationId, evseId: event.evseId },
      deps.paymentAuthorizer?.prefetchInputs,
    );
    let authorization = authorizeIdTag(token, event.startedAt, token?.chargingElsewhere ?? false);
    const where0 = { operatorId: where.operatorId, idTag: event.idTag, stationId: event.stationId };
    const payment =
      token && authorization.status === 'Accepted' && deps.paymentAuthorizer
        ? await deps.paymentAuthorizer.decide({
            ...where0,
            idTokenId: token.id,
            evseId: event.evseId,
            purpose: 'start',
            hasPaymentProfile: token.hasPaymentProfile,
            prefetched: token.paymentInputs,
          })
        : undefined;
    if (payment && payment.status !== 'Accepted') authorization = { status: payment.status };
    const tariff = await findTariffInForce(db, {
      operatorId: where.operatorId,
      locationId: where.locationId,
      stationId: event.stationId,
      evseId: event.evseId,
      at: event.startedAt,
      groupId: token?.groupId ?? null,
      audience: token?.type === 'AD_HOC_USER' ? 'ad_hoc' : 'contract',
    });
    const findings: Finding[] = [];
    if (authorization.status !== 'Accepted') {
      findings.push({
        code: 'Unauthorized',
        severity: 'info',
        message: `idTag ${event.idTag} was ${authorization.status} at start${payment && payment.status !== 'Accepted' ? ` (${payment.reason}: ${payment.detail})` : ''}; the session is not billed`,
      });
    }
    if (!tariff) {
      findings.push({
        code: 'TariffNotFound',
        severity: 'hold',
        message: `no tariff assigned to ${event.stationId}/${event.evseId} at ${event.startedAt.toISOString()}`,
      });
    }
    for (let attempt = 1; ; attempt++) {
      const transactionId = event.transactionId ?? newTransactionId();
      try {
        const { row, created } = await insertSessionOnce(db, {
          operator_id: where.operatorId,
          station_id: event.stationId,
          evse_id: event.evseId,
          connector_id: event.connectorId,
          transaction_id: transactionId,
          start_key: key,
          id_tag: event.idTag,
          id_token_id: token?.id ?? null,
          authorization_status: authorization.status,
          status: 'Active',
          billing_status: authorization.status === 'Accepted' ? 'Pending' : 'NotBillable',
          started_at: event.startedAt,
          meter_start_wh: event.meterStartWh,
          tariff_version_id: tariff?.tariffVersionId ?? null,
          time_zone: where.timeZone,
          currency: tariff?.currency ?? where.currency,
          charging_state: 'Charging',
          findings: JSON.stringify(findings),
          received_start_at: clock.now(),
        });
        if (!created) {
          logger.info({ stationId: event.stationId, transactionId: row.transaction_id }, 'repeated StartTransaction');
          return {
            ok: true,
            sessionId: row.id,
            transactionId: row.transaction_id,
            authorization: { status: row.authorization_status as AuthorizationDecision['status'] },
            duplicate: true,
            session: row,
          };
        }
        // The first MeterValues of the session then needs no read of the row (an entry is only a hint, see
        // active-session-cache.ts: the database still decides whether a sample is stored).
        activeSessions.set(event.stationId, row.transaction_id, {
          sessionId: row.id,
          sampleCount: 0,
          limitReached: false,
        });
        await deps.paymentAuthorizer?.record(
          { ...where0, idTokenId: token?.id ?? null, evseId: event.evseId, purpose: 'start', sessionId: row.id },
          payment ?? {
            status: authorization.status,
            reason: token ? `IdToken${authorization.status}` : 'UnknownIdTag',
          },
        );
        return {
          ok: true,
          sessionId: row.id,
          transactionId: row.transaction_id,
          authorization,
          duplicate: false,
          session: row,
        };
      } catch (error) {
        // A clash of random transaction ids on the same station: draw again (bounded).
        if (event.transactionId === undefined && isUniqueViolation(error) && attempt < MAX_ID_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  async function sample(event: MeterSampled): Promise<SampleOutcome> {
    // The hot path: most MeterValues name an Active session seen before, whose id and count are cached. Near the
    // sample limit the stored samples are counted again, so that the limit is decided on the stored count; once
    // they reach it, further samples are dropped without a read.
    let entry = activeSessions.get(event.stationId, event.transactionId);
    if (!entry || (!entry.limitReached && entry.sampleCount + event.samples.length > deps.maxSamplesPerSession)) {
      const session = await findSessionForSampling(db, event.stationId, event.transactionId);
      if (!session) return { known: false };
      // Readings after the end change nothing that is billed; the message log keeps them.
      if (session.status !== 'Active') {
        activeSessions.delete(event.stationId, event.transactionId);
        return { known: true, sessionId: session.id, accepted: 0, ignored: event.samples.length };
      }
      entry = {
        sessionId: session.id,
        sampleCount: session.storedSamples,
        limitReached: session.storedSamples >= deps.maxSamplesPerSession,
      };
      activeSessions.set(event.stationId, event.transactionId, entry);
    }
    const sessionId = entry.sessionId;
    const room = Math.max(0, deps.maxSamplesPerSession - entry.sampleCount);
    const accepted = event.samples.length <= room ? event.samples : event.samples.slice(0, room);
    if (accepted.length < event.samples.length) {
      logger.warn(
        { stationId: event.stationId, sessionId, limit: deps.maxSamplesPerSession },
        'sample limit of the session reached; further samples are not stored',
      );
    }
    entry.sampleCount += accepted.length;
    if (accepted.length === 1) await deps.sampleWriter.enqueue(toSampleRow(sessionId, accepted[0]!));
    else if (accepted.length > 0)
      await Promise.all(accepted.map((s) => deps.sampleWriter.enqueue(toSampleRow(sessionId, s))));
    return {
      known: true,
      sessionId,
      accepted: accepted.length,
      ignored: event.samples.length - accepted.length,
    };
  }

  function reserveSampleRows(
    stationId: string,
    transactionId: string,
    samples: readonly MeterSample[],
  ): { readonly sessionId: string; readonly rows: SampleRow[] } | undefined {
    const entry = activeSessions.get(stationId, transactionId);
    if (!entry || entry.limitReached || entry.sampleCount + samples.length > deps.maxSamplesPerSession) {
      return undefined;
    }
    entry.sampleCount += samples.length;
    return { sessionId: entry.sessionId, rows: samples.map((s) => toSampleRow(entry.sessionId, s)) };
  }

  function releaseSampleRows(stationId: string, transactionId: string, count: number): void {
    const entry = activeSessions.get(stationId, transactionId);
    if (entry) entry.sampleCount = Math.max(0, entry.sampleCount - count);
  }

  async function changeState(event: ChargingStateChanged): Promise<void> {
    await stateChanges.enqueue({ stationId: event.stationId, evseId: event.evseId, state: event.state, at: event.at });
  }

  async function end(event: TransactionEnded): Promise<EndOutcome> {
    // Forgotten before and after the stop's transaction: a sample racing the stop reads the row again, and the
    // database refuses samples of a session that is no longer Active anyway (insertSamples).
    activeSessions.delete(event.stationId, event.transactionId);
    try {
      return await endInTransaction(event);
    } finally {
      activeSessions.delete(event.stationId, event.transactionId);
    }
  }

  async function endInTransaction(event: TransactionEnded): Promise<EndOutcome> {
    return db.transaction().execute(async (trx) => {
      // The session locked, with what its billing reads first (EVSE context, id token, invoice seller): one statement.
      const shared: BillingShared = {};
      const session = await lockSessionForBilling(trx, shared, event.stationId, event.transactionId);
      if (!session) return { known: false } as const;
      if (session.status === 'Completed') {
        return {
          known: true,
          sessionId: session.id,
          duplicate: true,
          authorization: authorizationOf(session),
          billing: 'AlreadyEnded',
        } as const;
      }
      const endSamples = event.samples.filter((s) => s.at.getTime() <= event.endedAt.getTime());
      await insertSamples(
        trx,
        endSamples.map((s) => toSampleRow(session.id, s)),
      );
      const now = clock.now();
      // Plausibility, calibration and signed data; also the meterStop to bill when the station sent none.
      const metering = await assessSessionMetering(trx, {
        session,
        endedAt: event.endedAt,
        meterStopWh: event.meterStopWh,
        receivedAt: now,
        evse: shared.evse ?? null,
        ...(deps.plausibility && { config: deps.plausibility }),
      });
      const decision = decideEnd({
        meterStartWh: session.meter_start_wh,
        meterStopWh: metering.meterStopWh ?? session.meter_start_wh,
        startedAt: session.started_at,
        endedAt: event.endedAt,
        startIdTag: session.id_tag,
        stopIdTag: event.idTag,
      });
      const findings = [...(session.findings as Finding[]), ...decision.findings, ...metering.findings];
      const ended: SessionRow = {
        ...session,
        status: 'Completed',
        ended_at: event.endedAt,
        meter_stop_wh: metering.meterStopWh,
        energy_wh: metering.meterStopWh === null ? null : decision.energyWh,
        stop_reason: event.reason ?? null,
        received_stop_at: now,
      };
      const billing = await billSession(trx, ended, findings, now, { metering: metering.loaded, tariffs, shared });
      await completeSessionQuery.rows(trx, {
        id: session.id,
        endedAt: ended.ended_at,
        meterStopWh: ended.meter_stop_wh,
        energyWh: ended.energy_wh,
        stopReason: ended.stop_reason,
        receivedStopAt: now,
        billingStatus: billing.status,
        findings: JSON.stringify(billing.findings),
      });
      await runBillingHooks(deps.billingHooks ?? [], trx, {
        session: { ...ended, billing_status: billing.status },
        outcome: billing,
        now,
        shared,
      });
      return {
        known: true,
        sessionId: session.id,
        duplicate: false,
        authorization: authorizationOf(session),
        billing: billing.status,
      } as const;
    });
  }

  return {
    start,
    sample,
    reserveSampleRows,
    releaseSampleRows,
    changeState,
    end,
    flush: () => stateChanges.flush(),
    tariffs,
    ...(deps.paymentAuthorizer && { paymentAuthorizer: deps.paymentAuthorizer }),
  };
}

function authorizationOf(session: SessionRow): AuthorizationDecision {
  return { status: session.authorization_status as AuthorizationDecision['status'] };
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505';
}
