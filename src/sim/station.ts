/**
 * One simulated OCPP 1.6J charging station with one connector: it connects, boots, and runs its planned sessions on
 * the simulated clock, answering the CSMS's calls on the way. It holds one RPCClient and one timer of its own at a
 * time (the next event or heartbeat), so that one process can run thousands of stations.
 *
 * Every timestamp it sends comes from the plan (offsets from the station's origin) and is strictly later than the
 * previous one of the station; a message is sent only once the simulated clock has reached its timestamp.
 */
import type { RPCClient } from 'ocpp-rpc';
import type { Result } from '../shared/result.ts';
import { ChargingSession, type SessionHost } from './charging-session.ts';
import { registerCsmsHandlers, type StationControl, type TriggerableMessage } from './csms-handlers.ts';
import {
  bootNotificationRequest,
  CONNECTOR_ID,
  type MeterReading,
  meterValuesRequest,
  statusNotificationRequest,
} from './messages.ts';
import type { AuthorizeResponse, BootNotificationResponse, ChargePointStatus, StopReason } from './ocpp16-types.ts';
import { createOutbox, type Outbox, type OutboxMessage, type SendFailure } from './outbox.ts';
import { planSession, remoteSessionPrng, type SessionPlan, type StationPlan } from './plan-sessions.ts';
import { J_PER_WH } from './power-curve.ts';
import type { Prng } from './prng.ts';
import type { RunStats } from './run-stats.ts';
import { notStartedRecord, type SessionRecord, type SessionStatus } from './session-record.ts';
import type { SimClock } from './sim-clock.ts';
import { protocolOfSimStation, type SimProtocolChoice } from './sim-protocol.ts';
import { StationClock } from './station-clock.ts';
import {
  changeConfiguration,
  getConfiguration,
  MAX_HEARTBEAT_INTERVAL_S,
  MIN_HEARTBEAT_INTERVAL_S,
} from './station-configuration.ts';
import { connectWithRetry, createStationClient, type SimTlsOptions } from './station-connection.ts';
import { createV201Translator } from './v201-translator.ts';

/** BootNotifications sent (answered Pending or Rejected, or failed) before the station gives up. */
export const MAX_BOOT_ATTEMPTS = 20;
/** Bounds of the simulated wait before retrying a boot the CSMS did not accept, in simulated seconds. */
export const MIN_BOOT_RETRY_INTERVAL_S = 1;
export const MAX_BOOT_RETRY_INTERVAL_S = 3600;
/** Simulated seconds before retrying a boot when the CSMS gave no interval or the call failed. */
export const DEFAULT_BOOT_RETRY_INTERVAL_S = 60;
/** Heartbeat interval when the CSMS answers 0, in seconds. */
export const DEFAULT_HEARTBEAT_INTERVAL_S = 300;
/** Real milliseconds a station waits for its queued transaction messages at the end of the run. */
export const DRAIN_TIMEOUT_MS = 10_000;
/** Real milliseconds a station waits for its connection to close cleanly. */
export const CLOSE_TIMEOUT_MS = 2000;
/** ocpp-rpc's RPCClient.OPEN (the WebSocket OPEN state). */
const OPEN_STATE = 1;

export interface StationContext {
  readonly url: string;
  readonly password: string | undefined;
  /** The OCPP version of the whole run, or `mixed` (odd-numbered stations 1.6, even-numbered ones 2.0.1). */
  readonly protocol?: SimProtocolChoice;
  /** TLS material for wss:// (security profiles 2 and 3). */
  readonly tls?: SimTlsOptions | undefined;
  readonly seed: number;
  readonly maxPowerW: number;
  readonly meterIntervalS: number;
  readonly callTimeoutMs: number;
  readonly reconnectDelayMs: number;
  /** After the plan, stay connected (answering the CSMS, heartbeating) until the signal aborts. */
  readonly stayConnected: boolean;
  readonly clock: SimClock;
  readonly stats: RunStats;
  readonly log: (line: string) => void;
  /** Aborting stops the run: running sessions are stopped (reason Other), later ones are not started. */
  readonly signal: AbortSignal;
}

export class SimulatedStation implements StationControl, SessionHost {
  readonly records: SessionRecord[] = [];
  readonly time: StationClock;
  private readonly client: RPCClient;
  private readonly outbox: Outbox;
  private readonly remotePrng: Prng;
  private readonly authorizationCache = new Set<string>();
  private readonly settling = new Set<Promise<void>>();
  private registerJ: number;
  /** The end of the station's latest activity (its last Available), simulated epoch ms. */
  private cursorMs = 0;
  private heartbeatIntervalS = DEFAULT_HEARTBEAT_INTERVAL_S;
  private lastActivityRealMs = 0;
  private connectorStatus: ChargePointStatus = 'Available';
  private booted = false;
  private busy = false;
  private closing = false;
  private connectedOnce = false;
  /** The connection is gone for good, or the station could not boot again: nothing more can be sent. */
  private givenUp = false;
  private available = true;
  private unavailableAfterSession = false;
  private active: ChargingSession | null = null;
  private plannedIndex = 0;
  private requestedRemoteStart: string | null = null;
  private requestedStop: 'Remote' | 'UnlockCommand' | null = null;
  private requestedReset: 'Hard' | 'Soft' | null = null;
  private requestedBoot = false;
  private openWaiters: (() => void)[] = [];

  /**
   * @param originMs the simulated time of the connector's first Available: the plan's offsets count from here, so
   *   that every timestamp is fixed before the run starts. A station that boots later than its origin catches up,
   *   sending the events already due at once (their timestamps are in the past, never in the future).
   */
  constructor(
    readonly plan: StationPlan,
    private readonly ctx: StationContext,
    private readonly originMs: number,
  ) {
    this.registerJ = plan.initialRegisterWh * J_PER_WH;
    this.remotePrng = remoteSessionPrng(ctx.seed, plan.stationNumber);
    this.time = new StationClock(ctx.clock, {
      dueInMs: () => this.heartbeatDueInMs(),
      send: () => void this.send({ method: 'Heartbeat', durable: false, build: () => ({}) }),
    });
    const protocol = protocolOfSimStation(ctx.protocol ?? 'ocpp1.6', plan.stationNumber);
    this.client = createStationClient({
      url: ctx.url,
      stationId: plan.stationId,
      protocol,
      tls: ctx.tls,
      password: ctx.password,
      callTimeoutMs: ctx.callTimeoutMs,
      reconnectDelayMs: ctx.reconnectDelayMs,
    });
    const translator = protocol === 'ocpp2.0.1' ? createV201Translator() : undefined;
    const call = async (method: string, params: unknown): Promise<unknown> => {
      if (translator === undefined) return this.client.call(method, params);
      const request = (params ?? {}) as Record<string, unknown>;
      const translated = translator.request(method, request);
      if (!translated.send) return {};
      const answer = (await this.client.call(translated.method, translated.params)) as Record<string, unknown>;
      return translator.response(method, request, answer ?? {});
    };
    this.outbox = createOutbox({ isOpen: () => this.client.state === OPEN_STATE, call }, ctx.stats);
    registerCsmsHandlers(this.client, this, () => {
      ctx.stats.callsReceived += 1;
    });
    this.watchConnection();
    ctx.signal.addEventListener('abort', this.time.wake, { once: true });
  }

  get stationId(): string {
    return this.plan.stationId;
  }

  get maxPowerW(): number {
    return this.ctx.maxPowerW;
  }

  get meterIntervalS(): number {
    return this.ctx.meterIntervalS;
  }

  get stats(): RunStats {
    return this.ctx.stats;
  }

  log(line: string): void {
    this.ctx.log(line);
  }

  /** Runs the whole plan; never rejects. */
  async run(): Promise<void> {
    try {
      const connected = await connectWithRetry(this.client, this.ctx.signal);
      if (!connected.ok) {
        this.ctx.stats.stationsFailed += 1;
        this.log(`${this.stationId}: not connected: ${connected.reason}`);
        return;
      }
      this.connectedOnce = true;
      this.ctx.stats.stationsConnected += 1;
      if (!(await this.bootUntilAccepted())) {
        this.ctx.stats.stationsFailed += 1;
        this.log(`${this.stationId}: boot not accepted, giving up`);
        return;
      }
      await this.announceStatus(this.originMs - 1000);
      while (this.plannedIndex < this.plan.sessions.length && !this.stopping()) {
        const sessionPlan = this.plan.sessions[this.plannedIndex]!;
        this.plannedIndex += 1;
        await this.runPlannedSession(sessionPlan);
      }
      if (this.ctx.stayConnected) await this.idleUntilStopped();
    } catch (error) {
      this.log(`${this.stationId}: stopped by an unexpected error: ${(error as Error).stack ?? String(error)}`);
    } finally {
      await this.shutDown();
    }
  }

  // ---- sessions ----

  private async runPlannedSession(sessionPlan: SessionPlan): Promise<void> {
    for (;;) {
      if (this.stopping()) return this.recordNotRun(sessionPlan, 'the run stopped before this session');
      // As planned, unless a remote session or a reset has pushed the station past the planned time.
      const plugInAtMs = Math.max(
        this.originMs + sessionPlan.plugInOffsetS * 1000,
        this.cursorMs + sessionPlan.idleBeforeS * 1000,
      );
      const due = await this.time.sleepUntil(plugInAtMs);
      if (await this.handleIdleRequests()) continue;
      if (!due) continue;
      if (!this.available) return this.recordNotRun(sessionPlan, 'the connector was made unavailable');
      return this.runSession(sessionPlan, plugInAtMs);
    }
  }

  private async idleUntilStopped(): Promise<void> {
    while (!this.stopping()) {
      await this.time.sleepUntil(Number.POSITIVE_INFINITY);
      await this.handleIdleRequests();
    }
  }

  /** Runs what the CSMS asked for while the connector is free; true when something was done. */
  private async handleIdleRequests(): Promise<boolean> {
    if (this.stopping()) return false;
    if (this.requestedReset !== null) {
      await this.reboot();
      return true;
    }
    const idTag = this.requestedRemoteStart;
    if (idTag === null) return false;
    this.requestedRemoteStart = null;
    const remotePlan = planSession(this.remotePrng, {
      origin: 'remote',
      idTag,
      idleBeforeS: 0,
      plugInOffsetS: 0,
      maxPowerW: this.ctx.maxPowerW,
      meterIntervalS: this.ctx.meterIntervalS,
    });
    await this.runSession(remotePlan, this.time.nowFloorMs());
    return true;
  }

  private async runSession(sessionPlan: SessionPlan, plugInAtMs: number): Promise<void> {
    this.busy = true;
    try {
      const { timeline } = sessionPlan;
      const plugInMs = await this.time.reach(plugInAtMs);
      this.sendStatus(CONNECTOR_ID, 'Preparing', plugInMs);
      if (sessionPlan.origin === 'planned') {
        if (!(await this.sleepBeforeStart(plugInMs + timeline.authorizeS * 1000))) {
          return this.abandon(sessionPlan, plugInMs, 'interrupted before the driver presented the card');
        }
        const decision = await this.authorize(sessionPlan.idTag);
        if (decision !== 'Accepted') {
          const unreachable = decision === 'Unreachable';
          const note = unreachable
            ? 'the CSMS was unreachable and the idTag was not in the authorization cache'
            : `Authorize answered ${decision}`;
          return this.endWithoutTransaction(sessionPlan, plugInMs, unreachable ? 'failed' : 'refused', note);
        }
      }
      if (!(await this.sleepBeforeStart(plugInMs + timeline.startS * 1000))) {
        return this.abandon(sessionPlan, plugInMs, 'interrupted before StartTransaction');
      }
      const session = await ChargingSession.start(this, sessionPlan, this.registerJ, plugInMs + timeline.startS * 1000);
      this.active = session;
      const end = await session.charge();
      const finished = await session.finish(end.reason, end.atMs);
      this.registerJ = finished.registerJ;
      this.active = null;
      if (this.unavailableAfterSession) {
        this.available = false;
        this.unavailableAfterSession = false;
      }
      const availableAtMs = await this.time.reach(finished.stopAtMs + 1000);
      this.sendStatus(CONNECTOR_ID, this.available ? 'Available' : 'Unavailable', availableAtMs);
      this.cursorMs = availableAtMs;
      this.track(finished.record.then((record) => this.settle(record)));
    } finally {
      this.busy = false;
      this.active = null;
      this.requestedStop = null;
    }
  }

  private async authorize(idTag: string): Promise<string> {
    const result = await this.send({ method: 'Authorize', durable: false, build: () => ({ idTag }) });
    if (!result.ok) {
      // OCPP 1.6 LocalAuthorizeOffline: an idTag the CSMS accepted before is accepted while it cannot be asked.
      return this.authorizationCache.has(idTag) ? 'Accepted' : 'Unreachable';
    }
    const status = (result.value as AuthorizeResponse).idTagInfo.status;
    if (status === 'Accepted') this.authorizationCache.add(idTag);
    else this.authorizationCache.delete(idTag);
    return status;
  }

  /** Why the running charge must end now, from the station's side; the session adds its own reasons. */
  stationInterrupt(): StopReason | null {
    if (this.stopping()) return 'Other';
    if (this.requestedReset !== null) return this.requestedReset === 'Hard' ? 'HardReset' : 'SoftReset';
    return this.requestedStop;
  }

  /** Sleeps until `simMs` unless the run stops or a reset is requested; false when interrupted. */
  private async sleepBeforeStart(simMs: number): Promise<boolean> {
    for (;;) {
      if (this.stopping() || this.requestedReset !== null) return false;
      if (await this.time.sleepUntil(simMs)) return true;
    }
  }

  /** The driver leaves before a transaction started: refused card, unreachable CSMS. */
  private async endWithoutTransaction(
    sessionPlan: SessionPlan,
    plugInMs: number,
    status: SessionStatus,
    note: string,
  ): Promise<void> {
    const atMs = await this.time.reach(plugInMs + (sessionPlan.timeline.authorizeS + 1) * 1000);
    this.sendStatus(CONNECTOR_ID, this.available ? 'Available' : 'Unavailable', atMs);
    this.cursorMs = atMs;
    this.settle(this.notStarted(sessionPlan, plugInMs, atMs, status, note));
  }

  private async abandon(sessionPlan: SessionPlan, plugInMs: number, note: string): Promise<void> {
    const atMs = await this.time.reach(this.time.nowFloorMs());
    this.sendStatus(CONNECTOR_ID, this.available ? 'Available' : 'Unavailable', atMs);
    this.cursorMs = atMs;
    this.settle(this.notStarted(sessionPlan, plugInMs, atMs, 'failed', note));
  }

  private recordNotRun(sessionPlan: SessionPlan, note: string): void {
    const atMs = this.time.nowFloorMs();
    this.settle(this.notStarted(sessionPlan, atMs, atMs, 'failed', note));
  }

  private notStarted(
    sessionPlan: SessionPlan,
    fromMs: number,
    toMs: number,
    status: SessionStatus,
    note: string,
  ): SessionRecord {
    return notStartedRecord({
      stationId: this.stationId,
      connectorId: CONNECTOR_ID,
      idTag: sessionPlan.idTag,
      origin: sessionPlan.origin,
      registerWh: Math.floor(this.registerJ / J_PER_WH),
      fromMs,
      toMs,
      status,
      note,
    });
  }

  private settle(record: SessionRecord): void {
    this.records.push(record);
    const { stats } = this.ctx;
    if (record.status === 'completed') stats.sessionsCompleted += 1;
    else if (record.status === 'refused') stats.sessionsRefused += 1;
    else stats.sessionsFailed += 1;
    if (record.origin === 'planned') stats.plannedSessionsSettled += 1;
  }

  private track(promise: Promise<void>): void {
    this.settling.add(promise);
    void promise.finally(() => this.settling.delete(promise));
  }

  // ---- boot, status, heartbeat ----

  private async bootUntilAccepted(): Promise<boolean> {
    this.booted = false;
    for (let attempt = 1; attempt <= MAX_BOOT_ATTEMPTS; attempt += 1) {
      if (this.stopping()) return false;
      if (this.client.state !== OPEN_STATE) await this.untilOpen();
      this.requestedBoot = false;
      const result = await this.send({
        method: 'BootNotification',
        durable: false,
        build: () => bootNotificationRequest(this.plan.serialNumber),
      });
      let retryAfterS = DEFAULT_BOOT_RETRY_INTERVAL_S;
      if (result.ok) {
        const response = result.value as BootNotificationResponse;
        const intervalS = response.interval > 0 ? response.interval : null;
        if (response.status === 'Accepted') {
          this.ctx.stats.bootsAccepted += 1;
          this.heartbeatIntervalS = clamp(
            intervalS ?? DEFAULT_HEARTBEAT_INTERVAL_S,
            MIN_HEARTBEAT_INTERVAL_S,
            MAX_HEARTBEAT_INTERVAL_S,
          );
          this.booted = true;
          return true;
        }
        if (response.status === 'Pending') this.ctx.stats.bootsPending += 1;
        else this.ctx.stats.bootsRejected += 1;
        retryAfterS = clamp(
          intervalS ?? DEFAULT_BOOT_RETRY_INTERVAL_S,
          MIN_BOOT_RETRY_INTERVAL_S,
          MAX_BOOT_RETRY_INTERVAL_S,
        );
        this.log(`${this.stationId}: boot ${response.status}, retrying in ${retryAfterS} simulated s`);
      } else if (result.error.code === 'ConnectionLost') {
        // A boot lost with the connection is sent again as soon as the connection is back.
        continue;
      }
      const retryAtMs = this.ctx.clock.nowMs() + retryAfterS * 1000;
      // Woken early by anything but a TriggerMessage(BootNotification) or the end of the run: keep waiting.
      while (!this.stopping() && !this.requestedBoot && !(await this.time.sleepUntil(retryAtMs))) {}
    }
    return false;
  }

  private async reboot(): Promise<void> {
    this.log(`${this.stationId}: ${this.requestedReset} reset`);
    this.requestedReset = null;
    this.requestedRemoteStart = null;
    if (!(await this.bootUntilAccepted())) {
      this.log(`${this.stationId}: boot after reset not accepted, giving up`);
      this.givenUp = true;
      return;
    }
    await this.announceStatus(this.time.nowFloorMs());
  }

  /** StatusNotification for the station (connector 0) at `desiredMs` and its connector a second later. */
  private async announceStatus(desiredMs: number): Promise<void> {
    const status: ChargePointStatus = this.available ? 'Available' : 'Unavailable';
    this.sendStatus(0, status, await this.time.reach(desiredMs));
    const connectorAtMs = await this.time.reach(this.time.latestStampMs + 1000);
    this.sendStatus(CONNECTOR_ID, status, connectorAtMs);
    this.cursorMs = connectorAtMs;
  }

  sendStatus(connectorId: number, status: ChargePointStatus, atMs: number): void {
    if (connectorId === CONNECTOR_ID) this.connectorStatus = status;
    void this.send({
      method: 'StatusNotification',
      durable: false,
      build: () => statusNotificationRequest(connectorId, status, atMs),
    });
  }

  send(message: OutboxMessage): Promise<Result<unknown, SendFailure>> {
    this.lastActivityRealMs = performance.now();
    return this.outbox.send(message);
  }

  /**
   * Real ms until a heartbeat is due. The interval is in real seconds: the heartbeat tells the CSMS that the
   * connection is alive, in the CSMS's own time. OCPP lets a station skip it while other messages keep the link busy.
   */
  private heartbeatDueInMs(): number {
    if (!this.booted || this.closing) return Number.POSITIVE_INFINITY;
    return this.lastActivityRealMs + this.heartbeatIntervalS * 1000 - performance.now();
  }

  // ---- connection ----

  private watchConnection(): void {
    this.client.on('open', () => {
      this.outbox.notifyOpen();
      this.releaseOpenWaiters();
    });
    this.client.on('disconnect', () => {
      if (this.closing) return;
      this.ctx.stats.disconnects += 1;
      this.log(`${this.stationId}: connection lost, reconnecting`);
    });
    this.client.on('close', () => {
      if (this.closing || !this.connectedOnce) return;
      // ocpp-rpc gave up reconnecting: nothing queued can be delivered any more.
      this.log(`${this.stationId}: connection closed for good`);
      this.givenUp = true;
      this.outbox.close();
      this.releaseOpenWaiters();
      this.time.wake();
    });
    this.client.on('strictValidationFailure', (event: { method?: string; outbound?: boolean; error?: Error }) => {
      const direction = event.outbound ? 'sent by the simulator' : 'received from the CSMS';
      this.log(`${this.stationId}: ${event.method} ${direction} failed schema validation: ${event.error?.message}`);
    });
  }

  private untilOpen(): Promise<void> {
    if (this.client.state === OPEN_STATE || this.stopping()) return Promise.resolve();
    return new Promise((resolve) => this.openWaiters.push(resolve));
  }

  private releaseOpenWaiters(): void {
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private stopping(): boolean {
    return this.ctx.signal.aborted || this.givenUp;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    this.ctx.signal.removeEventListener('abort', this.time.wake);
    this.releaseOpenWaiters();
    // Planned sessions never reached (no connection, boot refused, run stopped) are reported as failed.
    while (this.plannedIndex < this.plan.sessions.length) {
      const sessionPlan = this.plan.sessions[this.plannedIndex]!;
      this.plannedIndex += 1;
      this.recordNotRun(sessionPlan, this.connectedOnce ? 'the station stopped before this session' : 'not connected');
    }
    const drained = await this.outbox.drain(DRAIN_TIMEOUT_MS);
    if (!drained) this.log(`${this.stationId}: ${this.outbox.length} queued messages not delivered`);
    this.outbox.close();
    await Promise.all([...this.settling]);
    const closed = this.client.close({ code: 1000, reason: 'Simulation finished' }).then(() => 'closed');
    const timedOut = new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref());
    if ((await Promise.race([closed, timedOut])) !== 'closed') await this.client.close({ force: true });
  }

  // ---- the CSMS's calls (StationControl) ----

  remoteStart(idTag: string, connectorId: number | undefined): 'Accepted' | 'Rejected' {
    const connectorOk = connectorId === undefined || connectorId === CONNECTOR_ID;
    if (!connectorOk || !this.booted || this.busy || this.closing || !this.available) return 'Rejected';
    if (this.requestedRemoteStart !== null) return 'Rejected';
    this.requestedRemoteStart = idTag;
    this.time.wake();
    return 'Accepted';
  }

  async remoteStop(transactionId: number): Promise<'Accepted' | 'Rejected'> {
    const session = this.active;
    if (session !== null && session.transactionId === null && !session.startFailed) {
      // A CSMS may ask right after answering StartTransaction, before that answer has reached the station's
      // session (both can arrive in one TCP segment): wait for it, as long as a call may take.
      await Promise.race([session.whenStartSettled(), delay(this.ctx.callTimeoutMs)]);
    }
    if (this.active === null || this.active.transactionId !== transactionId) return 'Rejected';
    this.requestedStop = 'Remote';
    this.time.wake();
    return 'Accepted';
  }

  reset(type: 'Hard' | 'Soft'): 'Accepted' | 'Rejected' {
    if (!this.booted || this.closing) return 'Rejected';
    this.requestedReset = type;
    this.time.wake();
    return 'Accepted';
  }

  changeAvailability(connectorId: number, type: 'Inoperative' | 'Operative'): 'Accepted' | 'Rejected' | 'Scheduled' {
    if (connectorId !== 0 && connectorId !== CONNECTOR_ID) return 'Rejected';
    if (type === 'Operative') {
      this.unavailableAfterSession = false;
      if (!this.available) {
        this.available = true;
        void this.sendStatusNow(connectorId, 'Available');
      }
      return 'Accepted';
    }
    if (this.busy) {
      this.unavailableAfterSession = true;
      return 'Scheduled';
    }
    if (this.available) {
      this.available = false;
      void this.sendStatusNow(connectorId, 'Unavailable');
    }
    return 'Accepted';
  }

  unlockConnector(connectorId: number): 'Unlocked' | 'UnlockFailed' | 'NotSupported' {
    if (connectorId !== CONNECTOR_ID) return 'NotSupported';
    if (this.active !== null) {
      this.requestedStop = 'UnlockCommand';
      this.time.wake();
    }
    return 'Unlocked';
  }

  getConfiguration(keys: readonly string[] | undefined) {
    return getConfiguration(this.configurationState(), keys);
  }

  changeConfiguration(key: string, value: string) {
    const decision = changeConfiguration(this.configurationState(), key, value);
    if (decision.heartbeatIntervalS !== undefined) this.heartbeatIntervalS = decision.heartbeatIntervalS;
    return decision.status;
  }

  trigger(message: TriggerableMessage, connectorId: number | undefined): 'Accepted' | 'Rejected' | 'NotImplemented' {
    if (connectorId !== undefined && connectorId !== 0 && connectorId !== CONNECTOR_ID) return 'Rejected';
    // The triggered message follows the reply, as OCPP 1.6 requires.
    setImmediate(() => void this.sendTriggered(message, connectorId));
    return 'Accepted';
  }

  clearCache(): 'Accepted' | 'Rejected' {
    this.authorizationCache.clear();
    return 'Accepted';
  }

  private configurationState() {
    return { heartbeatIntervalS: this.heartbeatIntervalS, meterIntervalS: this.ctx.meterIntervalS };
  }

  private async sendStatusNow(connectorId: number, status: ChargePointStatus): Promise<void> {
    const atMs = await this.time.reach(this.time.nowFloorMs());
    this.sendStatus(connectorId, status, atMs);
    if (connectorId === 0 && status !== this.connectorStatus && !this.busy) {
      this.sendStatus(CONNECTOR_ID, status, await this.time.reach(atMs + 1000));
    }
  }

  private async sendTriggered(message: TriggerableMessage, connectorId: number | undefined): Promise<void> {
    switch (message) {
      case 'BootNotification':
        if (!this.booted) {
          // The boot loop is waiting to retry: let it retry now.
          this.requestedBoot = true;
          this.time.wake();
          return;
        }
        await this.send({
          method: 'BootNotification',
          durable: false,
          build: () => bootNotificationRequest(this.plan.serialNumber),
        });
        return;
      case 'Heartbeat':
        await this.send({ method: 'Heartbeat', durable: false, build: () => ({}) });
        return;
      case 'StatusNotification': {
        const atMs = await this.time.reach(this.time.nowFloorMs());
        if (connectorId === undefined || connectorId === 0) {
          this.sendStatus(0, this.available ? 'Available' : 'Unavailable', atMs);
        }
        if (connectorId === undefined || connectorId === CONNECTOR_ID) {
          const connectorAtMs = connectorId === undefined ? await this.time.reach(atMs + 1000) : atMs;
          this.sendStatus(CONNECTOR_ID, this.connectorStatus, connectorAtMs);
        }
        return;
      }
      case 'MeterValues': {
        const atMs = await this.time.reach(this.time.nowFloorMs());
        const session = this.active;
        const reading: MeterReading =
          session !== null
            ? session.readingAt(atMs)
            : { atMs, registerWh: Math.floor(this.registerJ / J_PER_WH), powerW: 0, socPercent: null };
        // A triggered reading is not a transaction message: it is not kept for a reconnect.
        await this.send({
          method: 'MeterValues',
          durable: false,
          build: () => meterValuesRequest(session?.transactionId ?? null, reading, 'Trigger'),
        });
        return;
      }
      case 'DiagnosticsStatusNotification':
      case 'FirmwareStatusNotification':
        await this.send({ method: message, durable: false, build: () => ({ status: 'Idle' }) });
        return;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
