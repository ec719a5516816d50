/**
 * One transaction on the station's connector, from StartTransaction to StopTransaction: periodic MeterValues from
 * the vehicle's charging curve, SuspendedEV when the car is full, and the record of how it ended. The transaction
 * messages go through the station's outbox, which delivers them in order and keeps them through outages.
 */
import type { Result } from '../shared/result.ts';
import {
  CONNECTOR_ID,
  isoTimestamp,
  type MeterReading,
  meterValuesRequest,
  startTransactionRequest,
  stopTransactionRequest,
} from './messages.ts';
import type { ChargePointStatus, StartTransactionResponse, StopReason } from './ocpp16-types.ts';
import type { OutboxMessage, SendFailure } from './outbox.ts';
import type { SessionPlan } from './plan-sessions.ts';
import { type ChargeCursor, createChargeCursor, J_PER_WH } from './power-curve.ts';
import type { RunStats } from './run-stats.ts';
import type { SessionRecord, SessionStatus } from './session-record.ts';
import type { StationClock } from './station-clock.ts';

/** What a session needs from its station. */
export interface SessionHost {
  readonly stationId: string;
  readonly time: StationClock;
  readonly maxPowerW: number;
  readonly meterIntervalS: number;
  readonly stats: RunStats;
  log(line: string): void;
  send(message: OutboxMessage): Promise<Result<unknown, SendFailure>>;
  sendStatus(connectorId: number, status: ChargePointStatus, atMs: number): void;
  /** Why the station must end the charge now (run stopped, reset, remote stop, unlock), if it must. */
  stationInterrupt(): StopReason | null;
}

export interface FinishedSession {
  /** The connector's register after the session, in J. */
  readonly registerJ: number;
  /** StopTransaction's timestamp. */
  readonly stopAtMs: number;
  /** Settles when StopTransaction is acknowledged or given up. */
  readonly record: Promise<SessionRecord>;
}

export class ChargingSession {
  /** The CSMS's id, once StartTransaction is answered. */
  transactionId: number | null = null;
  /** StartTransaction was given up: the messages after it are obsolete. */
  startFailed = false;
  /** StartTransaction's idTagInfo was not Accepted: the station stops the transaction (StopTransactionOnInvalidId). */
  deauthorized = false;
  private readonly cursor: ChargeCursor;
  private readonly begin: MeterReading;
  private readonly startSettled: Promise<void>;
  private markStartSettled: () => void = () => {};
  private lastElapsedS = 0;

  private constructor(
    private readonly host: SessionHost,
    readonly plan: SessionPlan,
    private readonly startRegisterJ: number,
    private readonly startAtMs: number,
  ) {
    this.cursor = createChargeCursor({ ...plan.vehicle, maxPowerW: host.maxPowerW });
    this.begin = {
      atMs: startAtMs,
      registerWh: Math.floor(startRegisterJ / J_PER_WH),
      powerW: 0,
      socPercent: plan.vehicle.startSocPercent,
    };
    this.startSettled = new Promise((resolve) => {
      this.markStartSettled = resolve;
    });
  }

  /** Sends StartTransaction at (or just after) `desiredMs` with the connector's register as meterStart. */
  static async start(
    host: SessionHost,
    plan: SessionPlan,
    registerJ: number,
    desiredMs: number,
  ): Promise<ChargingSession> {
    const startAtMs = await host.time.reach(desiredMs);
    const session = new ChargingSession(host, plan, registerJ, startAtMs);
    host.stats.sessionsStarted += 1;
    void host.send({
      method: 'StartTransaction',
      durable: true,
      build: () => startTransactionRequest(plan.idTag, session.begin.registerWh, startAtMs),
      onSettled: (result) => session.onStartSettled(result),
    });
    return session;
  }

  /** Resolves once StartTransaction is answered or given up. */
  whenStartSettled(): Promise<void> {
    return this.startSettled;
  }

  /**
   * Sends the samples and status changes until the driver comes back (at the planned time) or something stops the
   * charge (now); returns why and when the transaction ends.
   */
  async charge(): Promise<{ reason: StopReason; atMs: number }> {
    const { timeline } = this.plan;
    const offsetMs = (seconds: number): number => this.startAtMs + (seconds - timeline.startS) * 1000;
    const { time } = this.host;
    this.host.sendStatus(CONNECTOR_ID, 'Charging', await time.reach(offsetMs(timeline.chargingStatusS)));
    const chargeEndAtMs = offsetMs(timeline.chargeEndS);
    const finishingAtMs = offsetMs(timeline.finishingS);
    const intervalMs = this.host.meterIntervalS * 1000;
    let nextSampleAtMs = this.startAtMs + intervalMs;
    let suspended = false;
    for (;;) {
      const interrupt = this.interrupt();
      if (interrupt !== null) return { reason: interrupt, atMs: time.nowFloorMs() };
      const sampleDue = nextSampleAtMs < finishingAtMs;
      const nextAtMs = Math.min(
        sampleDue ? nextSampleAtMs : Number.POSITIVE_INFINITY,
        suspended ? Number.POSITIVE_INFINITY : chargeEndAtMs,
        finishingAtMs,
      );
      if (!(await time.sleepUntil(nextAtMs))) continue;
      if (sampleDue && nextAtMs === nextSampleAtMs) {
        this.sendSample(await time.reach(nextSampleAtMs));
        nextSampleAtMs += intervalMs;
      } else if (!suspended && nextAtMs === chargeEndAtMs) {
        // The car is full: it stops drawing power but stays plugged in until the driver returns.
        this.host.sendStatus(CONNECTOR_ID, 'SuspendedEV', await time.reach(chargeEndAtMs));
        suspended = true;
      } else {
        return { reason: this.plan.stopReason, atMs: finishingAtMs };
      }
    }
  }

  /** StatusNotification Finishing, then StopTransaction a second later with the final reading. */
  async finish(reason: StopReason, desiredMs: number): Promise<FinishedSession> {
    const { time } = this.host;
    this.host.sendStatus(CONNECTOR_ID, 'Finishing', await time.reach(desiredMs));
    const stopAtMs = await time.reach(time.latestStampMs + 1000);
    const end = this.readingAt(stopAtMs);
    const stopped = this.host.send({
      method: 'StopTransaction',
      durable: true,
      build: () =>
        this.startFailed || this.transactionId === null
          ? null
          : stopTransactionRequest({
              transactionId: this.transactionId,
              idTag: this.plan.idTag,
              reason,
              begin: this.begin,
              // The car draws nothing once the transaction has stopped.
              end: { ...end, powerW: 0 },
            }),
    });
    const record = stopped.then((result) => this.record(result, reason, end, stopAtMs));
    return { registerJ: this.startRegisterJ + this.cursor.at(this.lastElapsedS).energyJ, stopAtMs, record };
  }

  /** The meter and the car at a stamped instant of the session (never earlier than the previous reading). */
  readingAt(atMs: number): MeterReading {
    const elapsedS = Math.max(this.lastElapsedS, Math.round((atMs - this.startAtMs) / 1000));
    this.lastElapsedS = elapsedS;
    const reading = this.cursor.at(elapsedS);
    return {
      atMs,
      registerWh: Math.floor((this.startRegisterJ + reading.energyJ) / J_PER_WH),
      powerW: reading.powerW,
      socPercent: reading.socPercent,
    };
  }

  private sendSample(atMs: number): void {
    const reading = this.readingAt(atMs);
    void this.host.send({
      method: 'MeterValues',
      durable: true,
      build: () => (this.startFailed ? null : meterValuesRequest(this.transactionId, reading, 'Sample.Periodic')),
    });
  }

  private onStartSettled(result: Result<unknown, SendFailure>): void {
    this.markStartSettled();
    if (!result.ok) {
      this.startFailed = true;
      this.host.log(`${this.host.stationId}: StartTransaction given up (${describeFailure(result.error)})`);
      this.host.time.wake();
      return;
    }
    const response = result.value as StartTransactionResponse;
    this.transactionId = response.transactionId;
    if (response.idTagInfo.status !== 'Accepted') {
      this.deauthorized = true;
      this.host.time.wake();
    }
  }

  /** Which reason, if any, ends the charge now. */
  private interrupt(): StopReason | null {
    const fromStation = this.host.stationInterrupt();
    if (fromStation !== null) return fromStation;
    if (this.deauthorized) return 'DeAuthorized';
    if (this.startFailed) return 'Other';
    return null;
  }

  private record(
    result: Result<unknown, SendFailure>,
    reason: StopReason,
    end: MeterReading,
    stopAtMs: number,
  ): SessionRecord {
    const status: SessionStatus =
      !result.ok || this.startFailed ? 'failed' : this.deauthorized ? 'refused' : 'completed';
    const note = this.startFailed
      ? 'StartTransaction was given up'
      : !result.ok
        ? `StopTransaction was not acknowledged (${describeFailure(result.error)})`
        : this.deauthorized
          ? 'StartTransaction answered an idTag status other than Accepted'
          : null;
    return {
      stationId: this.host.stationId,
      connectorId: CONNECTOR_ID,
      idTag: this.plan.idTag,
      transactionId: this.transactionId,
      meterStartWh: this.begin.registerWh,
      meterStopWh: end.registerWh,
      startedAt: isoTimestamp(this.startAtMs),
      endedAt: isoTimestamp(stopAtMs),
      status,
      origin: this.plan.origin,
      stopReason: reason,
      note,
    };
  }
}

export function describeFailure(failure: SendFailure): string {
  switch (failure.code) {
    case 'CallError':
      return `CALLERROR ${failure.rpcErrorCode}`;
    case 'Dropped':
      return `dropped: ${failure.why}`;
    default:
      return failure.code;
  }
}
