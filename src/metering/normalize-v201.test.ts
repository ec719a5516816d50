import { describe, expect, it } from 'vitest';
import { normalizeV16MeterValues } from './normalize-v16.ts';
import { normalizeV201SampledValues } from './normalize-v201.ts';

const at = '2026-11-25T10:00:00.000Z';

describe('normalizeV201SampledValues', () => {
  it('applies the OCPP 2.0.1 defaults: energy register, Wh, multiplier 0, Sample.Periodic', () => {
    expect(normalizeV201SampledValues([{ timestamp: at, sampledValue: [{ value: 1234 }] }])).toEqual({
      samples: [{ at: new Date(at), context: 'Sample.Periodic', energyRegisterMilliWh: 1_234_000n }],
      problems: [],
    });
  });

  it('reads the multiplier exactly: kWh × 10^-3, Wh × 10^3 and a decimal value give the same register', () => {
    const register = (value: number, unit: string, multiplier: number) =>
      normalizeV201SampledValues([{ timestamp: at, sampledValue: [{ value, unitOfMeasure: { unit, multiplier } }] }])
        .samples[0]?.energyRegisterMilliWh;
    expect(register(12_345, 'Wh', 0)).toBe(12_345_000n);
    expect(register(12.345, 'kWh', 0)).toBe(12_345_000n);
    expect(register(12_345_000, 'kWh', -6)).toBe(12_345_000n);
    expect(register(12.345, 'Wh', 3)).toBe(12_345_000n);
    expect(register(0.1, 'Wh', -3)).toBe(undefined);
    expect(register(123_456.789, 'Wh', 0)).toBe(123_456_789n);
  });

  it('reports values finer than a milliwatt-hour, negative, unknown units and bad multipliers, never rounding', () => {
    const { samples, problems } = normalizeV201SampledValues([
      {
        timestamp: at,
        sampledValue: [
          { value: 1.2345, unitOfMeasure: { unit: 'Wh' } },
          { value: -5 },
          { value: 5, unitOfMeasure: { unit: 'varh' } },
          { value: 5, unitOfMeasure: { multiplier: 1.5 } },
        ],
      },
    ]);
    expect(samples).toEqual([]);
    expect(problems).toEqual([
      'meterValue[0].sampledValue[0]: energy 1.2345 × 10^0 Wh is not a non-negative whole number of mWh',
      'meterValue[0].sampledValue[1]: energy -5 × 10^0 Wh is not a non-negative whole number of mWh',
      'meterValue[0].sampledValue[2]: energy unit varh is not Wh or kWh',
      'meterValue[0].sampledValue[3]: multiplier 1.5 is not an integer within ±9',
    ]);
  });

  it('leaves out a power or current no column can hold (a reading of 2147483647 kW), with a problem', () => {
    const { samples, problems } = normalizeV201SampledValues([
      {
        timestamp: at,
        sampledValue: [
          { value: 5000, measurand: 'Energy.Active.Import.Register' },
          { value: 2_147_483_647, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } },
          { value: 32, measurand: 'Current.Import', unitOfMeasure: { unit: 'A', multiplier: 9 } },
        ],
      },
    ]);
    expect(samples).toEqual([{ at: new Date(at), context: 'Sample.Periodic', energyRegisterMilliWh: 5_000_000n }]);
    expect(problems).toEqual([
      'power (W) 2147483647000 is beyond ±100000000000: left out',
      'current (A) 32000000000 is beyond ±1000000000: left out',
    ]);
    const v16 = normalizeV16MeterValues([
      { timestamp: at, sampledValue: [{ value: '1e12', measurand: 'Power.Active.Import', unit: 'W' }] },
    ]);
    expect(v16).toEqual({ samples: [], problems: ['power (W) 1000000000000 is beyond ±100000000000: left out'] });
  });

  it('leaves out an energy register no column can hold (1e17 Wh and beyond), with a problem (found by a review)', () => {
    const register = (wh: number) => ({ value: wh, measurand: 'Energy.Active.Import.Register' });
    const { samples, problems } = normalizeV201SampledValues([
      { timestamp: at, sampledValue: [register(1e17)] },
      {
        timestamp: at,
        sampledValue: [register(2e17), { value: 11, measurand: 'Power.Active.Import' }],
      },
      { timestamp: at, sampledValue: [register(1e16)] },
    ]);
    expect(samples).toEqual([
      { at: new Date(at), context: 'Sample.Periodic', powerW: 11 },
      { at: new Date(at), context: 'Sample.Periodic', energyRegisterMilliWh: 10n ** 19n },
    ]);
    expect(problems).toEqual([
      'energy register 100000000000000000 Wh is beyond ±100000000000000000 Wh: left out',
      'energy register 200000000000000000 Wh is beyond ±100000000000000000 Wh: left out',
    ]);
    const v16 = normalizeV16MeterValues([{ timestamp: at, sampledValue: [{ value: '1e18', unit: 'Wh' }] }]);
    expect(v16.samples).toEqual([]);
    expect(v16.problems).toEqual(['energy register 1000000000000000000 Wh is beyond ±100000000000000000 Wh: left out']);
  });

  it('reads power, current and SoC with units and multipliers, and the context', () => {
    const { samples } = normalizeV201SampledValues([
      {
        timestamp: at,
        sampledValue: [
          { value: 5000, context: 'Transaction.Begin' },
          { value: 7.4, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } },
          { value: 320, measurand: 'Current.Import', unitOfMeasure: { unit: 'A', multiplier: -1 } },
          { value: 55, measurand: 'SoC', unitOfMeasure: { unit: 'Percent' } },
          { value: 230, measurand: 'Voltage', unitOfMeasure: { unit: 'V' } },
        ],
      },
    ]);
    expect(samples).toEqual([
      {
        at: new Date(at),
        context: 'Transaction.Begin',
        energyRegisterMilliWh: 5_000_000n,
        powerW: 7400,
        currentA: 32,
        socPercent: 55,
      },
    ]);
  });

  it('adds per-phase values only when no total was sent, and ignores neutral and non-outlet locations', () => {
    const phases = normalizeV201SampledValues([
      {
        timestamp: at,
        sampledValue: [
          { value: 1000, phase: 'L1' },
          { value: 1000, phase: 'L2' },
          { value: 1500, phase: 'L3' },
          { value: 99, phase: 'N' },
          { value: 77, location: 'Inlet' },
        ],
      },
    ]);
    expect(phases.samples[0]?.energyRegisterMilliWh).toBe(3_500_000n);
    const withTotal = normalizeV201SampledValues([
      { timestamp: at, sampledValue: [{ value: 1000, phase: 'L1' }, { value: 3000 }, { value: 1000, phase: 'L2' }] },
    ]);
    expect(withTotal.samples[0]?.energyRegisterMilliWh).toBe(3_000_000n);
  });

  it('reads a signed sampled value by its plain value, and gives the same sample as the OCPP 1.6 form', () => {
    const v201 = normalizeV201SampledValues([
      {
        timestamp: at,
        sampledValue: [
          {
            value: 58.685,
            unitOfMeasure: { unit: 'kWh' },
            context: 'Transaction.End',
            signedMeterValue: { signedMeterData: 'T0NNRnw=', signingMethod: '', encodingMethod: 'OCMF', publicKey: '' },
          },
        ],
      },
    ]);
    const v16 = normalizeV16MeterValues([
      { timestamp: at, sampledValue: [{ value: '58685', unit: 'Wh', context: 'Transaction.End' }] },
    ]);
    expect(v201).toEqual(v16);
  });

  it('reports a timestamp that is not a date and skips that meter value', () => {
    expect(normalizeV201SampledValues([{ timestamp: 'yesterday', sampledValue: [{ value: 1 }] }])).toEqual({
      samples: [],
      problems: ['meterValue[0].timestamp is not a date: yesterday'],
    });
  });
});
