/**
 * One simulated station of a load run: a small state machine over a LeanConnection. It connects (retrying with
 * backoff), boots until Accepted, reports its status, then runs sessions until the run drains: Authorize, start,
 * periodic meter values, stop. Transaction messages (StartTransaction, StopTransaction, every TransactionEvent)
 * are retried until acknowledged, across reconnects, as OCPP requires of a station; other messages are sent once.
 * Every wait goes through the run's Scheduler, so a station owns no timer.
 */
import { chance, createPrng, deriveSeed, type Prng, randomInt } from '../sim/prng.ts';
import { type CallOutcome, LeanConnection } from './lean-connection.ts';
import { LoadMeter, type TransactionEdge } from './load-meter.ts';
import { loadIdTag, loadStationId, type ResolvedLoadOptions } from './load-options.ts';
import { type LoadProtocol, protocolOfStation } from './load-protocol.ts';
import { type LoadStats, recordAck, recordCallError } from './load-stats.ts';
import { type Payload, type SignedMeterValue, v16, v201 } from './ocpp-payloads.ts';
import type { Scheduler } from './scheduler.ts';

/** A session whose final message the CSMS acknowledged. */
export interface CompletedSession {
  readonly stationId: string;
  readonly protocol: LoadProtocol;
  /** OCPP 1.6: the CSMS's integer id as a string; 2.0.1: the station's own id. */
  readonly transactionId: string;
  readonly energyWh: number;
  readonly stopReason: string;
  /**
   * Set when the station, after this session, had its Available status acknowledged and then delivered an older
   * status of the session (staleStatusRate): if this is the station's last session, its EVSE must read Available.
   */
  staleStatusAfter?: boolean;
}

export interface StormState {
  readonly startedMs: number;
  remaining: number;
  completedMs: number | undefined;
  readonly bootsFailedBefore: number;
  readonly connectFailuresBefore: number;
}

export interface LoadContext {
  readonly settings: ResolvedLoadOptions;
  readonly scheduler: Scheduler;
  readonly stats: LoadStats;
  /** A short random tag that keeps 2.0.1 transaction ids unique across runs on the same database. */
  readonly runTag: string;
  /** Resolves when the run's duration is over (stations end their sessions and start no new one). */
  readonly drained: Promise<void>;
  readonly phase: { draining: boolean; hardStop: boolean; windowOpen: boolean };
  readonly completed: CompletedSession[] | undefined;
  storm: StormState | undefined;
  readonly log: (line: string) => void;
}

/** CALLERROR codes a station retries a transaction message after (the CSMS failed, not the message). */
const RETRYABLE_ERRORS = new Set(['InternalError', 'GenericError']);
const RECONNECT_BASE_MS = 500;
const RECONNECT_MAX_MS = 10_000;
/** Real ms a station waits after a retryable CALLERROR before it sends the message again. */
const RETRY_PAUSE_MS = 1000;
/** Nominal charging power of a load station, in W. */
const NOMINAL_POWER_W = 11_000;

export class LeanStation {
  readonly stationId: string;
  readonly idTag: string;
  readonly protocol: LoadProtocol;
  readonly connection: LeanConnection;
  #prng: Prng;
  #online = false;
  #connecting: Promise<boolean> | undefined;
  #lock: Promise<unknown> = Promise.resolve();
  #callsQueued = 0;
  #lastSendMs = 0;
  #heartbeatMs = 300_000;
  #registerWh: number;
  #sessionCount = 0;
  #inSession = false;
  #nextConnectDelayMs: number | undefined;
  #stormPending = false;
  /** The station's Eichrecht meter (`signed`), made at its first signed reading. */
  #meter: LoadMeter | undefined;

  constructor(
    readonly stationNumber: number,
    readonly context: LoadContext,
  ) {
    const { settings } = context;
    this.stationId = loadStationId(settings.stationPrefix, stationNumber);
    this.idTag = loadIdTag(settings.idTagPrefix, stationNumber);
    this.protocol = protocolOfStation(settings.protocol, stationNumber);
    this.#prng = createPrng(deriveSeed(settings.seed, stationNumber));
    this.#registerWh = randomInt(this.#prng, 0, 5_000_000);
    this.connection = new LeanConnection({
      urls: settings.urls,
      firstUrl: stationNumber,
      stationId: this.stationId,
      protocol: this.protocol,
      password: settings.password,
      tls: settings.tls,
      connectTimeoutMs: Math.max(settings.callTimeoutMs, 10_000),
      onServerCall: (action) => this.#answerServerCall(action),
      onClose: () => this.#onClose(),
    });
  }

  get online(): boolean {
    return this.#online;
  }

  async run(): Promise<void> {
    const { phase, settings } = this.context;
    if (!(await this.ensureOnline())) return;
    if (!settings.sessions) {
      await this.context.drained;
      return;
    }
    // The first session starts at a random point of one idle gap, so the fleet does not start in lockstep.
    await this.#idle(randomInt(this.#prng, 0, Math.round(settings.idleS * 1000)));
    while (!phase.draining && !phase.hardStop) {
      await this.#session();
      if (phase.draining) break;
      await this.#idle(Math.round(settings.idleS * 1000 * (0.5 + this.#prng.nextUint32() / 0x1_0000_0000)));
    }
  }

  /** Connected and booted; connects (and boots) when not. False only when the run stops first. */
  ensureOnline(): Promise<boolean> {
    if (this.#online) return Promise.resolve(true);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** The run's once-a-second sweep: expires an overdue call and sends a Heartbeat when the line was quiet. */
  sweep(nowMs: number): void {
    const { settings, stats } = this.context;
    const since = this.connection.pendingSinceMs;
    if (since !== undefined && nowMs - since > settings.callTimeoutMs) {
      stats.timeouts += 1;
      this.connection.expireCall();
    }
    const idle = this.#callsQueued === 0 && this.connection.pendingSinceMs === undefined;
    if (this.#online && idle && nowMs - this.#lastSendMs >= this.#heartbeatMs) {
      void this.#attempt('Heartbeat', {});
    }
  }

  /** Drops the connection now and reconnects after `delayMs` (a reconnect storm). */
  dropForStorm(delayMs: number): void {
    this.#nextConnectDelayMs = delayMs;
    this.#stormPending = true;
    if (this.connection.isOpen) this.connection.terminate();
    else void this.ensureOnline();
  }

  close(): void {
    this.connection.terminate();
  }

  async #connect(): Promise<boolean> {
    const { phase, scheduler, stats, settings } = this.context;
    let delayMs = this.#nextConnectDelayMs ?? 0;
    this.#nextConnectDelayMs = undefined;
    for (;;) {
      if (delayMs > 0) await scheduler.sleep(delayMs);
      if (phase.hardStop) return false;
      delayMs = Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_BASE_MS, delayMs * 2)) * (0.75 + 0.5 * this.#rand());
      stats.connectAttempts += 1;
      const opened = await this.connection.open();
      if (!opened.ok) {
        stats.connectFailures += 1;
        continue;
      }
      const booted = await this.#boot();
      if (!booted) continue;
      this.#online = true;
      stats.stationsOnline += 1;
      stats.peakStationsOnline = Math.max(stats.peakStationsOnline, stats.stationsOnline);
      this.#noteStormBoot();
      await this.#reportStatus();
      if (settings.heartbeatIntervalS !== undefined) this.#heartbeatMs = settings.heartbeatIntervalS * 1000;
      return true;
    }
  }

  /** BootNotification until Accepted; false when the connection closed first (the caller reconnects). */
  async #boot(): Promise<boolean> {
    const { stats, scheduler, phase } = this.context;
    const serial = `VB-LOAD-${String(this.stationNumber).padStart(7, '0')}`;
    for (;;) {
      if (phase.hardStop) return false;
      const payload = this.protocol === 'ocpp1.6' ? v16.boot(serial) : v201.boot(serial);
      const outcome = await this.#attempt('BootNotification', payload);
      if (outcome.ok && outcome.payload.status === 'Accepted') {
        stats.bootsAccepted += 1;
        const intervalS = Number(outcome.payload.interval);
        if (Number.isFinite(intervalS) && intervalS > 0) this.#heartbeatMs = intervalS * 1000;
        return true;
      }
      stats.bootsFailed += 1;
      if (!outcome.ok && outcome.kind === 'closed') return false;
      const intervalS = outcome.ok ? Number(outcome.payload.interval) : 0;
      await scheduler.sleep(Math.min(60, intervalS > 0 ? intervalS : 10) * 1000);
      if (!this.connection.isOpen) return false;
    }
  }

  async #reportStatus(): Promise<void> {
    const now = new Date();
    const status = this.#inSession ? 'Occupied' : 'Available';
    if (this.protocol === 'ocpp1.6') {
      await this.#attempt('StatusNotification', v16.status(0, 'Available', now));
      await this.#attempt('StatusNotification', v16.status(1, this.#inSession ? 'Charging' : 'Available', now));
    } else {
      await this.#attempt('StatusNotification', v201.status(1, status, now));
    }
  }

  #onClose(): void {
    const { stats, phase } = this.context;
    if (this.#online) {
      this.#online = false;
      stats.stationsOnline -= 1;
      stats.disconnects += 1;
    }
    // A real station reconnects on its own at once (after its backoff), not only when it next has to send.
    if (!phase.hardStop) void this.ensureOnline();
  }

  #noteStormBoot(): void {
    const storm = this.context.storm;
    if (!this.#stormPending || storm === undefined) return;
    this.#stormPending = false;
    storm.remaining -= 1;
    if (storm.remaining === 0) storm.completedMs = this.context.scheduler.nowMs();
  }

  #answerServerCall(action: string): Payload | undefined {
    // Load stations accept nothing remotely; the answers are valid in both versions.
    if (action === 'TriggerMessage' || action === 'RemoteStartTransaction' || action === 'RequestStartTransaction') {
      return { status: 'Rejected' };
    }
    return undefined;
  }

  /** One attempt of one call, serialized behind the station's other calls (one call in flight per connection). */
  #attempt(action: string, payload: Payload): Promise<CallOutcome> {
    const { stats } = this.context;
    this.#callsQueued += 1;
    const run = async (): Promise<CallOutcome> => {
      this.#callsQueued -= 1;
      if (!this.connection.isOpen) {
        stats.callsLost += 1;
        return { ok: false, kind: 'closed' };
      }
      stats.callsSent += 1;
      this.#lastSendMs = performance.now();
      const outcome = await this.connection.call(action, payload);
      if (outcome.ok) recordAck(stats, action, outcome.latencyMs, this.context.phase.windowOpen);
      else if (outcome.kind === 'callError') recordCallError(stats, outcome.code);
      else if (outcome.kind === 'closed') stats.callsLost += 1;
      return outcome;
    };
    const result = this.#lock.then(run);
    this.#lock = result;
    return result;
  }

  /** Sends once when online; undefined when it failed (counted) or the run stopped. */
  async #send(action: string, payload: Payload): Promise<Payload | undefined> {
    if (!(await this.ensureOnline())) return undefined;
    const outcome = await this.#attempt(action, payload);
    return outcome.ok ? outcome.payload : undefined;
  }

  /** Sends until acknowledged (transaction messages); undefined only when the run stopped hard first. */
  async #sendUntilAcknowledged(action: string, payload: Payload): Promise<Payload | undefined> {
    const { stats, phase, scheduler } = this.context;
    for (let attempt = 0; ; attempt += 1) {
      if (phase.hardStop) return undefined;
      if (attempt > 0) stats.retries += 1;
      if (!(await this.ensureOnline())) return undefined;
      const outcome = await this.#attempt(action, payload);
      if (outcome.ok) return outcome.payload;
      if (outcome.kind === 'callError') {
        if (!RETRYABLE_ERRORS.has(outcome.code)) return undefined;
        await scheduler.sleep(RETRY_PAUSE_MS);
      }
    }
  }

  async #idle(ms: number): Promise<void> {
    if (ms <= 0 || this.context.phase.draining) return;
    await Promise.race([this.context.scheduler.sleep(ms), this.context.drained]);
  }

  /** True with probability `rate`; draws nothing when the rate is 0, so runs without these faults stay as they were. */
  #roll(rate: number): boolean {
    return rate > 0 && chance(this.#prng, rate);
  }

  /** The sample this session holds back and sends after the next one (swappedMeterValueRate), or -1 for none. */
  #swapAt(): number {
    const samples = this.context.settings.samplesPerSession;
    if (samples < 2 || !this.#roll(this.context.settings.swappedMeterValueRate)) return -1;
    return randomInt(this.#prng, 0, samples - 2);
  }

  /** The register now, unchanged, with a plausible power: a reading for a meter value that is not the last. */
  #reading(): { registerWh: number; powerW: number } {
    return { registerWh: this.#registerWh, powerW: Math.round(NOMINAL_POWER_W * (0.9 + 0.2 * this.#rand())) };
  }

  #rand(): number {
    return this.#prng.nextUint32() / 0x1_0000_0000;
  }

  /** Energy drawn since `sinceMs` at about the nominal power, in whole Wh. */
  #advanceRegister(sinceMs: number): { registerWh: number; powerW: number } {
    const powerW = Math.round(NOMINAL_POWER_W * (0.9 + 0.2 * this.#rand()));
    this.#registerWh += Math.round((powerW * Math.max(0, performance.now() - sinceMs)) / 3_600_000);
    return { registerWh: this.#registerWh, powerW };
  }

  /** The meter's signed reading of the register now, when the run signs (`signed`); else undefined. */
  #signed(edge: TransactionEdge, at: Date): SignedMeterValue | undefined {
    if (!this.context.settings.signed) return undefined;
    this.#meter ??= new LoadMeter(`LM-${this.stationId}`, this.stationId);
    this.context.stats.signedReadings += 1;
    return this.#meter.sign(edge, at, this.#registerWh, this.idTag);
  }

  async #session(): Promise<void> {
    if (this.protocol === 'ocpp1.6') await this.#session16();
    else await this.#session201();
  }

  async #authorize(): Promise<boolean> {
    const { stats } = this.context;
    const answer =
      this.protocol === 'ocpp1.6'
        ? await this.#send('Authorize', v16.authorize(this.idTag))
        : await this.#send('Authorize', v201.authorize(this.idTag));
    const info = (answer?.idTagInfo ?? answer?.idTokenInfo) as { status?: string } | undefined;
    if (info?.status === 'Accepted') return true;
    if (answer !== undefined) stats.sessionsRefused += 1;
    return false;
  }

  async #session16(): Promise<void> {
    const { settings, stats, phase } = this.context;
    const preparingAt = new Date();
    await this.#send('StatusNotification', v16.status(1, 'Preparing', preparingAt));
    if (!(await this.#authorize())) {
      await this.#send('StatusNotification', v16.status(1, 'Available', new Date()));
      return;
    }
    this.#inSession = true;
    const startAt = new Date();
    const started = await this.#sendUntilAcknowledged(
      'StartTransaction',
      v16.start(this.idTag, this.#registerWh, startAt),
    );
    if (started === undefined) return;
    const transactionId = Number(started.transactionId);
    const accepted = (started.idTagInfo as { status?: string } | undefined)?.status === 'Accepted';
    stats.sessionsStarted += 1;
    if (transactionId === 0) {
      // The CSMS refused the start outright (transaction id 0 names no session): nothing to stop.
      stats.sessionsRefused += 1;
      this.#inSession = false;
      return;
    }
    const startWh = this.#registerWh;
    // The signed begin (the register of meterStart) follows in a MeterValues: StartTransaction has no room for it.
    const signedBegin = this.#signed('B', startAt);
    if (
      signedBegin !== undefined &&
      (await this.#sendUntilAcknowledged('MeterValues', v16.signedBegin(transactionId, startAt, signedBegin))) ===
        undefined
    ) {
      return;
    }
    let lastMs = performance.now();
    let earlier = { status: 'Preparing', at: preparingAt };
    if (accepted) {
      earlier = { status: 'Charging', at: new Date() };
      await this.#send('StatusNotification', v16.status(1, 'Charging', earlier.at));
      const swapAt = this.#swapAt();
      let held: Record<string, unknown> | undefined;
      for (let sample = 0; sample < settings.samplesPerSession && !phase.draining; sample += 1) {
        await this.#idle(settings.meterIntervalS * 1000);
        const { registerWh, powerW } = this.#advanceRegister(lastMs);
        lastMs = performance.now();
        const payload = v16.meterValues(transactionId, { at: new Date(), registerWh, powerW });
        if (sample === swapAt) {
          held = payload;
          continue;
        }
        await this.#send('MeterValues', payload);
        if (held !== undefined) {
          stats.swappedMeterValues += 1;
          await this.#send('MeterValues', held);
          held = undefined;
        }
      }
      // Draining ended the samples before the later one: the held one goes now, in order.
      if (held !== undefined) await this.#send('MeterValues', held);
    }
    const reason = !accepted ? 'DeAuthorized' : phase.draining || chance(this.#prng, 0.3) ? 'Local' : 'EVDisconnected';
    // A meter value taken before the stop but delivered after it (reordered), chosen now so its reading is earlier.
    const late =
      accepted && this.#roll(settings.lateMeterValueRate) ? { at: new Date(), ...this.#reading() } : undefined;
    const stopAt = new Date();
    const stopPayload = v16.stop(
      transactionId,
      this.idTag,
      this.#registerWh,
      stopAt,
      reason,
      this.#signed('E', stopAt),
    );
    const stopped = await this.#sendUntilAcknowledged('StopTransaction', stopPayload);
    this.#inSession = false;
    if (stopped === undefined) return;
    const record = this.#complete(String(transactionId), this.#registerWh - startWh, reason);
    if (this.#roll(settings.duplicateStopRate)) {
      // The same StopTransaction again, as a station sends it that lost the first acknowledgement.
      stats.duplicateStops += 1;
      await this.#sendUntilAcknowledged('StopTransaction', stopPayload);
    }
    if (late !== undefined) {
      stats.lateMeterValues += 1;
      await this.#sendUntilAcknowledged('MeterValues', v16.meterValues(transactionId, late));
    }
    await this.#endStatus(record, v16.status(1, 'Available', new Date()), v16.status(1, earlier.status, earlier.at));
  }

  async #session201(): Promise<void> {
    const { settings, stats, phase } = this.context;
    const occupiedAt = new Date();
    await this.#send('StatusNotification', v201.status(1, 'Occupied', occupiedAt));
    if (!(await this.#authorize())) {
      await this.#send('StatusNotification', v201.status(1, 'Available', new Date()));
      return;
    }
    this.#inSession = true;
    this.#sessionCount += 1;
    const transactionId = `${this.context.runTag}-${this.stationNumber}-${this.#sessionCount}`;
    const startWh = this.#registerWh;
    let seqNo = 0;
    const event = (
      eventType: 'Started' | 'Updated' | 'Ended',
      triggerReason: 'Authorized' | 'MeterValuePeriodic' | 'EVCommunicationLost' | 'StopAuthorized',
      context: 'Transaction.Begin' | 'Sample.Periodic' | 'Transaction.End',
      powerW: number,
      stoppedReason?: 'EVDisconnected' | 'Local',
    ) => {
      const at = new Date();
      // The begin and the end carry the meter's signed register with the plain one (`signed`).
      const signedMeterValue =
        eventType === 'Updated' ? undefined : this.#signed(eventType === 'Started' ? 'B' : 'E', at);
      return v201.transactionEvent({
        eventType,
        triggerReason,
        seqNo: seqNo++,
        transactionId,
        idToken: this.idTag,
        reading: { at, registerWh: this.#registerWh, powerW },
        context,
        ...(stoppedReason !== undefined && { stoppedReason }),
        ...(signedMeterValue !== undefined && { signedMeterValue }),
      });
    };
    const started = await this.#sendUntilAcknowledged(
      'TransactionEvent',
      event('Started', 'Authorized', 'Transaction.Begin', 0),
    );
    if (started === undefined) return;
    stats.sessionsStarted += 1;
    const accepted = (started.idTokenInfo as { status?: string } | undefined)?.status ?? 'Accepted';
    let lastMs = performance.now();
    if (accepted === 'Accepted') {
      const swapAt = this.#swapAt();
      let held: Record<string, unknown> | undefined;
      for (let sample = 0; sample < settings.samplesPerSession && !phase.draining; sample += 1) {
        await this.#idle(settings.meterIntervalS * 1000);
        const { powerW } = this.#advanceRegister(lastMs);
        lastMs = performance.now();
        const payload = event('Updated', 'MeterValuePeriodic', 'Sample.Periodic', powerW);
        if (sample === swapAt) {
          held = payload;
          continue;
        }
        if ((await this.#sendUntilAcknowledged('TransactionEvent', payload)) === undefined) return;
        if (held !== undefined) {
          // The lower seqNo and earlier reading after the higher one.
          stats.swappedMeterValues += 1;
          if ((await this.#sendUntilAcknowledged('TransactionEvent', held)) === undefined) return;
          held = undefined;
        }
      }
      if (held !== undefined && (await this.#sendUntilAcknowledged('TransactionEvent', held)) === undefined) return;
    }
    const local = phase.draining || chance(this.#prng, 0.3);
    const stoppedReason = local ? 'Local' : 'EVDisconnected';
    // An Updated event with a lower seqNo and an earlier reading than the Ended event, delivered after it (reordered).
    const late =
      accepted === 'Accepted' && this.#roll(settings.lateMeterValueRate)
        ? event('Updated', 'MeterValuePeriodic', 'Sample.Periodic', this.#reading().powerW)
        : undefined;
    const endedPayload = event(
      'Ended',
      local ? 'StopAuthorized' : 'EVCommunicationLost',
      'Transaction.End',
      0,
      stoppedReason,
    );
    const ended = await this.#sendUntilAcknowledged('TransactionEvent', endedPayload);
    this.#inSession = false;
    if (ended === undefined) return;
    const record = this.#complete(transactionId, this.#registerWh - startWh, stoppedReason);
    if (this.#roll(settings.duplicateStopRate)) {
      stats.duplicateStops += 1;
      await this.#sendUntilAcknowledged('TransactionEvent', endedPayload);
    }
    if (late !== undefined) {
      stats.lateMeterValues += 1;
      await this.#sendUntilAcknowledged('TransactionEvent', late);
    }
    await this.#endStatus(record, v201.status(1, 'Available', new Date()), v201.status(1, 'Occupied', occupiedAt));
  }

  /**
   * The session's last status, Available. With staleStatusRate, it is sent until acknowledged (so it is stored) and
   * then an older status of the session follows, as from a station delivering its queue out of order: the CSMS must
   * keep the newer status (the record says so for the crash test's check).
   */
  async #endStatus(record: CompletedSession | undefined, available: Payload, older: Payload): Promise<void> {
    if (!this.#roll(this.context.settings.staleStatusRate)) {
      await this.#send('StatusNotification', available);
      return;
    }
    if ((await this.#sendUntilAcknowledged('StatusNotification', available)) === undefined) return;
    if ((await this.#sendUntilAcknowledged('StatusNotification', older)) === undefined) return;
    this.context.stats.staleStatuses += 1;
    if (record) record.staleStatusAfter = true;
  }

  #complete(transactionId: string, energyWh: number, stopReason: string): CompletedSession | undefined {
    this.context.stats.sessionsCompleted += 1;
    if (!this.context.completed) return undefined;
    const record: CompletedSession = {
      stationId: this.stationId,
      protocol: this.protocol,
      transactionId,
      energyWh,
      stopReason,
    };
    this.context.completed.push(record);
    return record;
  }
}
