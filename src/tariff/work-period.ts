/**
 * The engine's period: what both inputs (CDR periods, cut timelines) become, priced in place and returned as the
 * session's PricedPeriods (the public, read-only view of the same object). All volumes are safe integers in exact
 * units (mWh, ms); element choices are indices into tariff.elements.
 *
 * An element index is null when no element applies (the dimension is free there) and also when the period has
 * none of that volume: an element is only looked for when the volume is positive.
 */
import type { PricedPeriod } from './priced-session.ts';

/** Mutable while the session is priced; afterwards only read, through the PricedPeriod type. */
export type WorkPeriod = { -readonly [K in keyof PricedPeriod]: PricedPeriod[K] } & {
  /** Cut timeline only: 0 not billed, 1 TIME, 2 PARKING_TIME (what the charging state made of this time). */
  timeDimension: 0 | 1 | 2;
  /** Measured power (W) and current (A) over the period; NaN when unknown. */
  minPowerW: number;
  maxPowerW: number;
  minCurrentA: number;
  maxCurrentA: number;
};

/**
 * V8 types an object's fields by their first values: an element index that starts as null and later holds a number
 * changes the object's shape mid-run, which throws the pricing loop out of optimized code. One period whose index
 * fields have held both at load time gives every period the general shape from the start.
 */
function settleShape(): void {
  const period = newWorkPeriod(0, 0);
  period.energyElementIndex = 0;
  period.timeElementIndex = 0;
  period.parkingTimeElementIndex = 0;
  period.reservationTimeElementIndex = 0;
  period.flatElementIndex = 0;
  period.energyMilliWh = 0.5;
  period.billedEnergyMilliWh = 0.5;
  period.timeMs = 0.5;
  period.billedTimeMs = 0.5;
  period.parkingTimeMs = 0.5;
  period.billedParkingTimeMs = 0.5;
  period.reservationTimeMs = 0.5;
  period.billedReservationTimeMs = 0.5;
}

export function newWorkPeriod(startMs: number, endMs: number): WorkPeriod {
  return {
    startMs,
    endMs,
    reservation: false,
    timeDimension: 0,
    energyMilliWh: 0,
    billedEnergyMilliWh: 0,
    energyElementIndex: null,
    timeMs: 0,
    billedTimeMs: 0,
    timeElementIndex: null,
    parkingTimeMs: 0,
    billedParkingTimeMs: 0,
    parkingTimeElementIndex: null,
    reservationTimeMs: 0,
    billedReservationTimeMs: 0,
    reservationTimeElementIndex: null,
    flatElementIndex: null,
    minPowerW: Number.NaN,
    maxPowerW: Number.NaN,
    minCurrentA: Number.NaN,
    maxCurrentA: Number.NaN,
  };
}

settleShape();
