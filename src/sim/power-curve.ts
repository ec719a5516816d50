/**
 * The power a simulated electric vehicle draws over one charging session, as a pure function of the vehicle and the
 * station's maximum power: a ramp-up over the first minute, constant power (CC) until the battery is about 80 % full,
 * then a taper (CV) until the target state of charge, after which the car draws nothing.
 *
 * Energy is counted in whole joules (watt-seconds) and the power is an integer number of watts, constant over steps
 * of CURVE_STEP_S seconds. So the energy at any whole second is an exact integer, the meter register (floor of
 * joules / 3600) is monotonic, and energy equals the sum of power times time with no rounding drift.
 */
import { assert } from '../shared/assert.ts';

export interface VehicleProfile {
  /** Usable battery capacity in Wh (an integer). */
  readonly batteryWh: number;
  /** State of charge at plug-in, whole percent. */
  readonly startSocPercent: number;
  /** State of charge at which the car stops drawing power, whole percent. */
  readonly targetSocPercent: number;
}

export interface ChargeCurveInput extends VehicleProfile {
  /** Maximum power the station offers, in W (an integer). */
  readonly maxPowerW: number;
}

/** One reading of the curve at a whole number of seconds after the transaction started. */
export interface ChargeReading {
  readonly elapsedS: number;
  /** Energy delivered since the transaction started, in J (exact integer). */
  readonly energyJ: number;
  /** Instantaneous power in W (integer); 0 once the target is reached. */
  readonly powerW: number;
  /** State of charge, whole percent, rounded down. */
  readonly socPercent: number;
  /** False once the target state of charge has been reached. */
  readonly charging: boolean;
}

/** Power is held constant over steps of this many seconds: fine enough for a smooth curve, cheap to integrate. */
export const CURVE_STEP_S = 10;
/** The vehicle ramps its power up over the first minute, as on-board chargers do. */
export const RAMP_UP_S = 60;
/** Above this state of charge the battery management system tapers the power (the CV phase). */
export const TAPER_START_SOC_PERCENT = 80;
/** Fraction of the maximum power still drawn at 100 % state of charge; above 0 so that every session ends. */
export const TAPER_END_POWER_FRACTION = 0.3;
/** The smallest maximum power accepted, in W: below it a session would take days. */
export const MIN_MAX_POWER_W = 1000;
/** The largest maximum power accepted, in W (a high-power DC charger). */
export const MAX_MAX_POWER_W = 400_000;
/** Joules per Wh. */
export const J_PER_WH = 3600;

/** Energy the battery takes from its start to its target state of charge, in J (exact integer). */
export function requiredEnergyJ(vehicle: VehicleProfile): number {
  // batteryWh * 3600 J is 100 %, so one percent is batteryWh * 36 J: an integer for an integer capacity.
  return vehicle.batteryWh * 36 * Math.max(0, vehicle.targetSocPercent - vehicle.startSocPercent);
}

/**
 * A reader of the curve for non-decreasing elapsed times: each call costs O(steps since the previous call), so a
 * station reading every sample of a session does O(session length / CURVE_STEP_S) work in total.
 */
export interface ChargeCursor {
  readonly neededJ: number;
  /** The second the target is reached: Infinity until the cursor has read as far as the last step. */
  readonly finishS: number;
  /** The reading at `elapsedS` (a whole number of seconds, never less than the previous call's). */
  at(elapsedS: number): ChargeReading;
}

export function createChargeCursor(input: ChargeCurveInput): ChargeCursor {
  assert(Number.isInteger(input.batteryWh) && input.batteryWh > 0, 'batteryWh must be a positive integer');
  assert(
    Number.isInteger(input.maxPowerW) && input.maxPowerW >= MIN_MAX_POWER_W,
    `maxPowerW must be an integer of at least ${MIN_MAX_POWER_W}`,
  );
  const neededJ = requiredEnergyJ(input);
  const joulesPerPercent = input.batteryWh * 36;
  let stepStartS = 0;
  let stepStartJ = 0;
  let stepPowerW = 0;
  // The second at which the target is reached, once the current step is known to reach it.
  let doneAtS = neededJ === 0 ? 0 : Number.POSITIVE_INFINITY;
  let lastElapsedS = 0;

  const beginStep = (): void => {
    const socPercent = input.startSocPercent + stepStartJ / joulesPerPercent;
    stepPowerW = powerForStep(input.maxPowerW, stepStartS, socPercent);
    const stepEndJ = stepStartJ + stepPowerW * CURVE_STEP_S;
    if (stepEndJ >= neededJ) doneAtS = stepStartS + Math.ceil((neededJ - stepStartJ) / stepPowerW);
  };
  if (neededJ > 0) beginStep();

  return {
    neededJ,
    get finishS() {
      return doneAtS;
    },
    at(elapsedS) {
      assert(Number.isInteger(elapsedS) && elapsedS >= lastElapsedS, 'charge cursor read out of order');
      lastElapsedS = elapsedS;
      while (doneAtS === Number.POSITIVE_INFINITY && elapsedS >= stepStartS + CURVE_STEP_S) {
        stepStartJ += stepPowerW * CURVE_STEP_S;
        stepStartS += CURVE_STEP_S;
        beginStep();
      }
      const charging = elapsedS < doneAtS;
      const energyJ = charging ? stepStartJ + stepPowerW * (elapsedS - stepStartS) : neededJ;
      const socPercent = charging
        ? Math.min(input.targetSocPercent, Math.floor(input.startSocPercent + energyJ / joulesPerPercent))
        : Math.max(input.startSocPercent, input.targetSocPercent);
      return { elapsedS, energyJ, powerW: charging ? stepPowerW : 0, socPercent, charging };
    },
  };
}

/** Seconds from the start of the transaction until the target state of charge is reached. */
export function chargeDurationS(input: ChargeCurveInput): number {
  const cursor = createChargeCursor(input);
  // One read far past the end walks every step without allocating, and leaves the exact finishing second known.
  cursor.at(Number.MAX_SAFE_INTEGER);
  return cursor.finishS;
}

/** Power in W for the step starting `elapsedS` seconds into the session at the given state of charge. */
function powerForStep(maxPowerW: number, elapsedS: number, socPercent: number): number {
  const rampFactor = Math.min(1, (elapsedS + CURVE_STEP_S) / RAMP_UP_S);
  const taperFactor =
    socPercent <= TAPER_START_SOC_PERCENT
      ? 1
      : 1 - ((1 - TAPER_END_POWER_FRACTION) * (socPercent - TAPER_START_SOC_PERCENT)) / (100 - TAPER_START_SOC_PERCENT);
  return Math.max(1, Math.round(maxPowerW * Math.min(rampFactor, taperFactor)));
}
