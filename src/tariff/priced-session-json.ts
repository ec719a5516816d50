/**
 * The Voltbill extension keys of a priced CDR document, JSON-safe (money as decimal strings, never JS numbers):
 * - `voltbill_invoice_lines`: the invoice lines rounded to the minor unit, with their unrounded amounts;
 * - `voltbill_totals`: the sums of the rounded lines (what the driver pays) and the rounding mode;
 * - `voltbill_priced_periods`: per period, the volumes and the tariff element that priced each dimension;
 * - `voltbill_warnings`: things a person should look at.
 * Keys are snake_case like the OCPI document they extend.
 */
import { formatMoney } from '../shared/money.ts';
import type { PricedSession } from './priced-session.ts';

export function pricedSessionExtensions(priced: PricedSession): Record<string, unknown> {
  return {
    voltbill_invoice_lines: priced.lines.map((line) => ({
      dimension: line.dimension,
      element_index: line.elementIndex,
      unit_price_excl_vat: line.unitPriceExclVat,
      price_unit: line.priceUnit,
      volume: line.volume,
      measured_volume: line.measuredVolume,
      volume_unit: line.volumeUnit,
      vat: line.vat,
      vat_percent: line.vatPercent,
      unrounded_excl_vat: line.unroundedExclVat,
      unrounded_incl_vat: line.unroundedInclVat,
      excl_vat: formatMoney(line.exclVat),
      incl_vat: formatMoney(line.inclVat),
    })),
    voltbill_totals: {
      currency: priced.currency,
      rounding: priced.rounding,
      excl_vat: formatMoney(priced.totals.exclVat),
      incl_vat: formatMoney(priced.totals.inclVat),
    },
    voltbill_priced_periods: priced.periods.map((period) => ({
      start_date_time: new Date(period.startMs).toISOString(),
      end_date_time: new Date(period.endMs).toISOString(),
      reservation: period.reservation,
      energy_wh: period.energyMilliWh / 1000,
      billed_energy_wh: period.billedEnergyMilliWh / 1000,
      energy_element_index: period.energyElementIndex,
      time_s: period.timeMs / 1000,
      billed_time_s: period.billedTimeMs / 1000,
      time_element_index: period.timeElementIndex,
      parking_time_s: period.parkingTimeMs / 1000,
      billed_parking_time_s: period.billedParkingTimeMs / 1000,
      parking_time_element_index: period.parkingTimeElementIndex,
      reservation_time_s: period.reservationTimeMs / 1000,
      billed_reservation_time_s: period.billedReservationTimeMs / 1000,
      reservation_time_element_index: period.reservationTimeElementIndex,
      flat_element_index: period.flatElementIndex,
    })),
    voltbill_warnings: priced.warnings,
  };
}
