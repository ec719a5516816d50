/**
 * Plans every simulated session up front from a seed: which vehicle arrives, when, for how long it charges and how
 * long it stays parked. Pure: the same parameters give the same plan, so a run can be reproduced with `--seed`, and
 * the run's simulated span is known before the first message is sent (the simulated clock starts that far in the
 * past so that the last timestamp is not later than the real time).
 */

import { chargeDurationS, type VehicleProfile } from './power-curve.ts';
import { chance, createPrng, deriveSeed, type Prng, randomInt } from './prng.ts';

export type PlannedStopReason = 'EVDisconnected' | 'Local';
export type SessionOrigin = 'planned' | 'remote';

/** Offsets in seconds from the moment the cable is plugged in (StatusNotification Preparing). */
export interface SessionTimeline {
  /** The driver presents the card (Authorize); absent for remote starts, which the CSMS authorized itself. */
  readonly authorizeS: number;
  /** StartTransaction: the cable is locked and energy flows. */
  readonly startS: number;
  /** StatusNotification Charging. */
  readonly chargingStatusS: number;
  /** The target state of charge is reached: StatusNotification SuspendedEV. */
  readonly chargeEndS: number;
  /** StatusNotification Finishing: the driver is back. */
  readonly finishingS: number;
  /** StopTransaction. */
  readonly stopS: number;
  /** StatusNotification Available: the cable is out. */
  readonly availableS: number;
}

export interface SessionPlan {
  readonly origin: SessionOrigin;
  readonly idTag: string;
  readonly vehicle: VehicleProfile;
  /** Seconds from the end of the station's previous activity (boot or session) to this plug-in. */
  readonly idleBeforeS: number;
  /**
   * Seconds from the station's origin (its connector's first Available) to this plug-in when every earlier session
   * ran as planned; 0 for remote starts.
   */
  readonly plugInOffsetS: number;
  /** True when the car stays parked 5 to 40 minutes after it is full, so that the server sees parking time. */
  readonly parked: boolean;
  readonly stopReason: PlannedStopReason;
  readonly timeline: SessionTimeline;
}

export interface StationPlan {
  readonly stationNumber: number;
  readonly stationId: string;
  readonly idTag: string;
  readonly serialNumber: string;
  /** The connector's energy register before the first session, in Wh. */
  readonly initialRegisterWh: number;
  readonly sessions: readonly SessionPlan[];
  /** Simulated seconds from the station's origin to the end of its last session when all run as planned. */
  readonly spanS: number;
}

export interface PlanParameters {
  readonly seed: number;
  readonly stations: number;
  readonly sessionsPerStation: number;
  readonly firstStation: number;
  readonly stationPrefix: string;
  readonly idTags: readonly string[];
  readonly maxPowerW: number;
  readonly meterIntervalS: number;
}

export interface RunPlan {
  readonly stations: readonly StationPlan[];
  /** The longest station span, in simulated seconds. */
  readonly spanS: number;
}

/** Vehicle batteries are 40 to 100 kWh, in whole kWh. */
export const BATTERY_KWH_RANGE = [40, 100] as const;
export const START_SOC_PERCENT_RANGE = [10, 50] as const;
export const TARGET_SOC_PERCENT_RANGE = [80, 100] as const;
/** Simulated seconds from boot to the first plug-in. */
export const FIRST_IDLE_S_RANGE = [5, 120] as const;
/** Simulated seconds between one car leaving and the next arriving. */
export const IDLE_GAP_S_RANGE = [120, 900] as const;
/** Simulated seconds from plug-in until the driver presents the card. */
export const AUTHORIZE_AFTER_S_RANGE = [5, 30] as const;
/** Simulated seconds from an accepted card (or a remote start) to StartTransaction: the cable lock engages. */
export const START_AFTER_AUTHORIZE_S = 2;
/** Share of sessions whose car stays parked after it is full. */
export const PARKED_PROBABILITY = 0.5;
export const PARKED_S_RANGE = [5 * 60, 40 * 60] as const;
/** A driver who does not park returns within one to three minutes of the car being full. */
export const UNPLUG_AFTER_FULL_S_RANGE = [60, 180] as const;
/** Share of sessions stopped with the card at the station (reason Local) rather than by unplugging the car. */
export const LOCAL_STOP_PROBABILITY = 0.3;
/** The register of a station's meter before the simulation, in Wh: meters in the field are not new. */
export const INITIAL_REGISTER_WH_RANGE = [0, 2_000_000] as const;
/** Station numbers are zero-padded to this many digits: DEMO-0001. */
export const STATION_NUMBER_DIGITS = 4;
/** Offset of the seed stream for remote-started sessions, so they never disturb the planned ones. */
export const REMOTE_STREAM_OFFSET = 0x4000_0000;

export function stationIdFor(prefix: string, stationNumber: number): string {
  return `${prefix}${String(stationNumber).padStart(STATION_NUMBER_DIGITS, '0')}`;
}

/** The idTag a station's drivers use: the list cycles by station number, so station 1 gets the first tag. */
export function idTagFor(idTags: readonly string[], stationNumber: number): string {
  const index = (((stationNumber - 1) % idTags.length) + idTags.length) % idTags.length;
  const idTag = idTags[index];
  if (idTag === undefined) throw new RangeError('idTags must not be empty');
  return idTag;
}

export function planRun(params: PlanParameters): RunPlan {
  const stations: StationPlan[] = [];
  let spanS = 0;
  for (let offset = 0; offset < params.stations; offset += 1) {
    const plan = planStation(params, params.firstStation + offset);
    stations.push(plan);
    spanS = Math.max(spanS, plan.spanS);
  }
  return { stations, spanS };
}

export function planStation(params: PlanParameters, stationNumber: number): StationPlan {
  const prng = createPrng(deriveSeed(params.seed, stationNumber));
  const idTag = idTagFor(params.idTags, stationNumber);
  const initialRegisterWh = randomInt(prng, ...INITIAL_REGISTER_WH_RANGE);
  const sessions: SessionPlan[] = [];
  let spanS = 0;
  for (let index = 0; index < params.sessionsPerStation; index += 1) {
    const [minIdleS, maxIdleS] = index === 0 ? FIRST_IDLE_S_RANGE : IDLE_GAP_S_RANGE;
    const idleBeforeS = randomInt(prng, minIdleS, maxIdleS);
    const session = planSession(prng, {
      origin: 'planned',
      idTag,
      idleBeforeS,
      plugInOffsetS: spanS + idleBeforeS,
      maxPowerW: params.maxPowerW,
      meterIntervalS: params.meterIntervalS,
    });
    sessions.push(session);
    spanS = session.plugInOffsetS + session.timeline.availableS;
  }
  return {
    stationNumber,
    stationId: stationIdFor(params.stationPrefix, stationNumber),
    idTag,
    serialNumber: `VB-SIM-${String(stationNumber).padStart(8, '0')}`,
    initialRegisterWh,
    sessions,
    spanS,
  };
}

/** A stream of vehicles for sessions the CSMS starts remotely, independent of the planned sessions. */
export function remoteSessionPrng(seed: number, stationNumber: number): Prng {
  return createPrng(deriveSeed(seed, stationNumber + REMOTE_STREAM_OFFSET));
}

export interface SessionShape {
  readonly origin: SessionOrigin;
  readonly idTag: string;
  readonly idleBeforeS: number;
  readonly plugInOffsetS: number;
  readonly maxPowerW: number;
  readonly meterIntervalS: number;
}

/** Draws one session's vehicle and behaviour; always consumes the same number of values from the PRNG. */
export function planSession(prng: Prng, shape: SessionShape): SessionPlan {
  const vehicle: VehicleProfile = {
    batteryWh: randomInt(prng, ...BATTERY_KWH_RANGE) * 1000,
    startSocPercent: randomInt(prng, ...START_SOC_PERCENT_RANGE),
    targetSocPercent: randomInt(prng, ...TARGET_SOC_PERCENT_RANGE),
  };
  const authorizeAfterS = randomInt(prng, ...AUTHORIZE_AFTER_S_RANGE);
  const parked = chance(prng, PARKED_PROBABILITY);
  const parkedS = randomInt(prng, ...PARKED_S_RANGE);
  const unplugS = randomInt(prng, ...UNPLUG_AFTER_FULL_S_RANGE);
  const stopReason: PlannedStopReason = chance(prng, LOCAL_STOP_PROBABILITY) ? 'Local' : 'EVDisconnected';
  const timeline = sessionTimeline({
    // A remote start needs no card: the transaction starts as soon as the cable locks.
    authorizeS: shape.origin === 'remote' ? 0 : authorizeAfterS,
    chargeDurationS: chargeDurationS({ ...vehicle, maxPowerW: shape.maxPowerW }),
    stayAfterChargeS: parked ? parkedS : unplugS,
    meterIntervalS: shape.meterIntervalS,
  });
  return {
    origin: shape.origin,
    idTag: shape.idTag,
    vehicle,
    idleBeforeS: shape.idleBeforeS,
    plugInOffsetS: shape.plugInOffsetS,
    parked,
    stopReason,
    timeline,
  };
}

export interface TimelineInput {
  readonly authorizeS: number;
  readonly chargeDurationS: number;
  readonly stayAfterChargeS: number;
  readonly meterIntervalS: number;
}

/**
 * Places the session's events. The driver comes back no earlier than one periodic sample after the car is full, so
 * the last MeterValues of a completed session always reads exactly the register that StopTransaction reports.
 */
export function sessionTimeline(input: TimelineInput): SessionTimeline {
  const startS = input.authorizeS + START_AFTER_AUTHORIZE_S;
  const chargingStatusS = startS + 1;
  const chargeEndS = Math.max(startS + input.chargeDurationS, chargingStatusS + 1);
  const samplesBeforeEnd = Math.floor((chargeEndS - startS) / input.meterIntervalS);
  const firstSampleAfterEndS = startS + (samplesBeforeEnd + 1) * input.meterIntervalS;
  const finishingS = Math.max(chargeEndS + input.stayAfterChargeS, firstSampleAfterEndS + 1);
  return {
    authorizeS: input.authorizeS,
    startS,
    chargingStatusS,
    chargeEndS,
    finishingS,
    stopS: finishingS + 1,
    availableS: finishingS + 2,
  };
}
