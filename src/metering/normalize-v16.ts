/**
 * Normalizes OCPP 1.6 MeterValue lists into MeterSamples. OCPP 1.6 sends every value as a string with an optional
 * unit, measurand, phase, location and context; defaults are those of the specification (measurand
 * Energy.Active.Import.Register, unit Wh, location Outlet, context Sample.Periodic). Energy is parsed exactly, so a
 * register sent in kWh bills the same energy as one sent in Wh. Per-phase values only make a total when the
 * station did not send the total itself.
 */
import { parseScaled } from '../shared/decimal.ts';
import { accumulatePhase, assembleSample, type PhaseAccumulator } from './assemble-sample.ts';
import type { MeterSample } from './meter-sample.ts';

export type V16SampledValue = {
  value: string;
  context?: string;
  format?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
};

export type V16MeterValue = { timestamp: string; sampledValue: V16SampledValue[] };

export type NormalizeResult = { samples: MeterSample[]; problems: string[] };

/** Conversion of an energy unit to milliwatt-hours, as the number of decimals to shift. */
const ENERGY_UNIT_SCALE: Record<string, number> = { Wh: 3, kWh: 6 };
const POWER_UNIT_FACTOR: Record<string, number> = { W: 1, kW: 1000 };
const PHASES_FOR_TOTAL = new Set(['L1', 'L2', 'L3', 'L1-N', 'L2-N', 'L3-N']);

export function normalizeV16MeterValues(meterValues: readonly V16MeterValue[]): NormalizeResult {
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
      // Signed meter data (OCMF and others) is verified by the metering module, not read as a number here.
      if (sampled.format === 'SignedData') return;
      const location = sampled.location ?? 'Outlet';
      if (location !== 'Outlet' && location !== 'EV') return;
      const measurand = sampled.measurand ?? 'Energy.Active.Import.Register';
      const phase = sampled.phase;
      if (phase !== undefined && !PHASES_FOR_TOTAL.has(phase)) return;
      switch (measurand) {
        case 'Energy.Active.Import.Register': {
          const unit = sampled.unit ?? 'Wh';
          const scale = ENERGY_UNIT_SCALE[unit];
          if (scale === undefined) {
            problems.push(`${where}: energy unit ${unit} is not Wh or kWh`);
            return;
          }
          const milliWh = parseScaled(sampled.value, scale);
          if (milliWh === undefined || milliWh < 0n) {
            problems.push(`${where}: energy value ${JSON.stringify(sampled.value)} is not a non-negative decimal`);
            return;
          }
          if (phase === undefined) energy = { ...energy, total: milliWh };
          else energy = { ...energy, phaseSum: (energy.phaseSum ?? 0n) + milliWh };
          return;
        }
        case 'Power.Active.Import': {
          const factor = POWER_UNIT_FACTOR[sampled.unit ?? 'W'];
          const value = Number(sampled.value);
          if (factor === undefined || !Number.isFinite(value)) {
            problems.push(`${where}: power ${JSON.stringify(sampled.value)} ${sampled.unit ?? 'W'} is not readable`);
            return;
          }
          accumulatePhase(power, phase, value * factor);
          return;
        }
        case 'Current.Import': {
          const value = Number(sampled.value);
          if ((sampled.unit ?? 'A') !== 'A' || !Number.isFinite(value)) {
            problems.push(`${where}: current ${JSON.stringify(sampled.value)} ${sampled.unit ?? 'A'} is not readable`);
            return;
          }
          accumulatePhase(current, phase, value);
          return;
        }
        case 'SoC': {
          const value = Number(sampled.value);
          if (!Number.isFinite(value) || value < 0 || value > 100) {
            problems.push(`${where}: SoC ${JSON.stringify(sampled.value)} is not a percentage`);
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
