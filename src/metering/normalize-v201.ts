/**
 * Normalizes OCPP 2.0.1 MeterValueType lists (MeterValuesRequest.meterValue, TransactionEventRequest.meterValue)
 * into the same MeterSamples as OCPP 1.6. OCPP 2.0.1 sends numbers with a unitOfMeasure { unit, multiplier }, the
 * value being value × 10^multiplier unit; defaults are those of the specification (measurand
 * Energy.Active.Import.Register, unit Wh, multiplier 0, location Outlet, context Sample.Periodic). Energy is read
 * exactly through the number's literal, to milliwatt-hours; a value finer than that is reported, never rounded.
 * Per-phase values only make a total when the station did not send the total itself. Signed meter values
 * (signedMeterValue) are left to src/meters/extract-signed-values.ts; the plain value next to them is read here.
 */
import { parseScaled } from '../shared/decimal.ts';
import { accumulatePhase, assembleSample, type PhaseAccumulator } from './assemble-sample.ts';
import type { MeterSample } from './meter-sample.ts';
import type { NormalizeResult } from './normalize-v16.ts';

export type V201UnitOfMeasure = { unit?: string; multiplier?: number };

export type V201SampledValue = {
  value: number;
  context?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unitOfMeasure?: V201UnitOfMeasure;
  signedMeterValue?: unknown;
};

export type V201MeterValue = { timestamp: string; sampledValue: V201SampledValue[] };

/** Decimal places from the unit to milliwatt-hours. */
const ENERGY_UNIT_SCALE: Record<string, number> = { Wh: 3, kWh: 6 };
const POWER_UNIT_SCALE: Record<string, number> = { W: 0, kW: 3 };
const PHASES_FOR_TOTAL = new Set(['L1', 'L2', 'L3', 'L1-N', 'L2-N', 'L3-N']);
/** OCPP 2.0.1 allows any integer multiplier; beyond this no real meter goes, and bigint powers stay small. */
const MAX_ABS_MULTIPLIER = 9;

export function normalizeV201SampledValues(meterValues: readonly V201MeterValue[]): NormalizeResult {
  const samples: MeterSample[] = [];
  const problems: string[] = [];
  meterValues.forEach((meterValue, index) => {
    const at = new Date(meterValue.timestamp);
    if (Number.isNaN(at.getTime())) {
      problems.push(`meterValue[${index}].timestamp is not a date: ${meterValue.timestamp}`);
      return;
    }
    let context = 'Sample.Periodic';
    let energy: PhaseAccumulator<bigint> = {};
    const power: PhaseAccumulator<number> = {};
    const current: PhaseAccumulator<number> = {};
    let socPercent: number | undefined;
    meterValue.sampledValue.forEach((sampled, valueIndex) => {
      const where = `meterValue[${index}].sampledValue[${valueIndex}]`;
      if (sampled.context) context = sampled.context;
      const location = sampled.location ?? 'Outlet';
      if (location !== 'Outlet' && location !== 'EV') return;
      const measurand = sampled.measurand ?? 'Energy.Active.Import.Register';
      const phase = sampled.phase;
      if (phase !== undefined && !PHASES_FOR_TOTAL.has(phase)) return;
      const multiplier = sampled.unitOfMeasure?.multiplier ?? 0;
      if (!Number.isInteger(multiplier) || Math.abs(multiplier) > MAX_ABS_MULTIPLIER) {
        problems.push(`${where}: multiplier ${multiplier} is not an integer within ±${MAX_ABS_MULTIPLIER}`);
        return;
      }
      if (typeof sampled.value !== 'number' || !Number.isFinite(sampled.value)) {
        problems.push(`${where}: value ${JSON.stringify(sampled.value)} is not a number`);
        return;
      }
      switch (measurand) {
        case 'Energy.Active.Import.Register': {
          const unit = sampled.unitOfMeasure?.unit ?? 'Wh';
          const scale = ENERGY_UNIT_SCALE[unit];
          if (scale === undefined) {
            problems.push(`${where}: energy unit ${unit} is not Wh or kWh`);
            return;
          }
          const milliWh = parseScaled(sampled.value, scale + multiplier);
          if (milliWh === undefined || milliWh < 0n) {
            problems.push(
              `${where}: energy ${sampled.value} × 10^${multiplier} ${unit} is not a non-negative whole number of mWh`,
            );
            return;
          }
          if (phase === undefined) energy = { ...energy, total: milliWh };
          else energy = { ...energy, phaseSum: (energy.phaseSum ?? 0n) + milliWh };
          return;
        }
        case 'Power.Active.Import': {
          const unitScale = POWER_UNIT_SCALE[sampled.unitOfMeasure?.unit ?? 'W'];
          if (unitScale === undefined) {
            problems.push(`${where}: power unit ${sampled.unitOfMeasure?.unit} is not W or kW`);
            return;
          }
          accumulatePhase(power, phase, sampled.value * 10 ** (unitScale + multiplier));
          return;
        }
        case 'Current.Import': {
          if ((sampled.unitOfMeasure?.unit ?? 'A') !== 'A') {
            problems.push(`${where}: current unit ${sampled.unitOfMeasure?.unit} is not A`);
            return;
          }
          accumulatePhase(current, phase, sampled.value * 10 ** multiplier);
          return;
        }
        case 'SoC': {
          const value = sampled.value * 10 ** multiplier;
          if (value < 0 || value > 100) {
            problems.push(`${where}: SoC ${value} is not a percentage`);
            return;
          }
          socPercent = value;
          return;
        }
        default:
          // Other measurands (voltage, frequency, temperature, reactive energy) are not used for billing.
          return;
      }
    });
    const sample = assembleSample(at, context, energy, power, current, socPercent, problems);
    if (sample) samples.push(sample);
  });
  return { samples, problems };
}
