/**
 * step_size, applied once per session (docs/specs/tariffs.md):
 * - ENERGY: E = total energy over the periods priced by an ENERGY component; the last such period's step s;
 *   billed = ceil(E / s) * s; the extra goes to that last period at its element's price.
 * - TIME and PARKING_TIME: the last period (in time) that has TIME or PARKING_TIME priced by a component; its
 *   dimension d; T = total of d over the periods where a d component applies; rounded up with that period's step;
 *   the extra goes to that period. The other time dimension is not rounded.
 * - Reservation time (TIME components of reservation elements) is rounded the same way, on its own: the spec page
 *   is silent on reservations, and OCPI's reservation examples round the reservation time by its element's step.
 * An exact multiple stays as it is (ceil, not "next multiple"); step_size 0 bills the exact volume.
 * "Priced by a component" means the period has a positive volume of the dimension and an element applies to it.
 */
import type { Tariff } from './tariff.ts';
import type { WorkPeriod } from './work-period.ts';

/** Sets the billed* volumes of every period; all volumes stay safe integers (mWh, ms). */
export function applyStepSizes(periods: WorkPeriod[], tariff: Tariff): void {
  const componentOf = tariff.plan.componentOf;
  let energyTotal = 0;
  let lastEnergy: WorkPeriod | undefined;
  let reservationTotal = 0;
  let lastReservation: WorkPeriod | undefined;
  for (let i = 0; i < periods.length; i++) {
    const period = periods[i] as WorkPeriod;
    period.billedEnergyMilliWh = period.energyMilliWh;
    period.billedTimeMs = period.timeMs;
    period.billedParkingTimeMs = period.parkingTimeMs;
    period.billedReservationTimeMs = period.reservationTimeMs;
    if (period.energyElementIndex !== null) {
      energyTotal += period.energyMilliWh;
      lastEnergy = period;
    }
    if (period.reservationTimeElementIndex !== null) {
      reservationTotal += period.reservationTimeMs;
      lastReservation = period;
    }
  }
  if (lastEnergy !== undefined) {
    const step = componentOf.ENERGY[lastEnergy.energyElementIndex as number]?.stepMilliUnits ?? 0;
    lastEnergy.billedEnergyMilliWh += roundUpExtra(energyTotal, step);
  }
  if (lastReservation !== undefined) {
    const step = componentOf.TIME[lastReservation.reservationTimeElementIndex as number]?.stepMilliUnits ?? 0;
    lastReservation.billedReservationTimeMs += roundUpExtra(reservationTotal, step);
  }

  // The last period with priced TIME or PARKING_TIME decides which of the two is rounded.
  for (let i = periods.length - 1; i >= 0; i--) {
    const period = periods[i] as WorkPeriod;
    // A CDR period may carry both; parking follows charging, so PARKING_TIME counts as the later one.
    if (period.parkingTimeElementIndex !== null) {
      let total = 0;
      for (const p of periods) if (p.parkingTimeElementIndex !== null) total += p.parkingTimeMs;
      const step = componentOf.PARKING_TIME[period.parkingTimeElementIndex]?.stepMilliUnits ?? 0;
      period.billedParkingTimeMs += roundUpExtra(total, step);
      return;
    }
    if (period.timeElementIndex !== null) {
      let total = 0;
      for (const p of periods) if (p.timeElementIndex !== null) total += p.timeMs;
      const step = componentOf.TIME[period.timeElementIndex]?.stepMilliUnits ?? 0;
      period.billedTimeMs += roundUpExtra(total, step);
      return;
    }
  }
}

/** How much must be added to `total` to reach a multiple of `step` (0 when step is 0 or total is a multiple). */
function roundUpExtra(total: number, step: number): number {
  if (step <= 0) return 0;
  const remainder = total % step;
  return remainder === 0 ? 0 : step - remainder;
}
