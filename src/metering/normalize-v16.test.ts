import { describe, expect, it } from 'vitest';
import { normalizeV16MeterValues } from './normalize-v16.ts';

const at = '2026-11-25T10:00:00.000Z';

describe('normalizeV16MeterValues', () => {
  it('applies the OCPP 1.6 defaults: measurand energy register, unit Wh, context Sample.Periodic', () => {
    expect(normalizeV16MeterValues([{ timestamp: at, sampledValue: [{ value: '1234' }] }])).toEqual({
      samples: [{ at: new Date(at), context: 'Sample.Periodic', energyRegisterMilliWh: 1_234_000n }],
      problems: [],
    });
  });

  it('reads kWh exactly, so that a register in kWh bills the same energy as in Wh', () => {
    const kwh = normalizeV16MeterValues([{ timestamp: at, sampledValue: [{ value: '12.345', unit: 'kWh' }] }]);
    const wh = normalizeV16MeterValues([{ timestamp: at, sampledValue: [{ value: '12345', unit: 'Wh' }] }]);
    expect(kwh.samples[0]?.energyRegisterMilliWh).toBe(12_345_000n);
    expect(kwh.samples).toEqual(wh.samples);
    expect(
      normalizeV16MeterValues([{ timestamp: at, sampledValue: [{ value: '0.0000001', unit: 'kWh' }] }]).problems,
    ).toEqual(['meterValue[0].sampledValue[0]: energy value "0.0000001" is not a non-negative decimal']);
  });

  it('reads power, current and SoC with their units and context', () => {
    const { samples } = normalizeV16MeterValues([
      {
        timestamp: at,
        sampledValue: [
          { value: '5000', measurand: 'Energy.Active.Import.Register', context: 'Transaction.Begin' },
          { value: '7.4', measurand: 'Power.Active.Import', unit: 'kW' },
          { value: '32', measurand: 'Current.Import', unit: 'A' },
          { value: '55', measurand: 'SoC', unit: 'Percent', location: 'EV' },
          { value: '230', measurand: 'Voltage', unit: 'V' },
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

  it('adds per-phase values only when the station sent no total', () => {
    const phases = [
      { value: '10', measurand: 'Current.Import', phase: 'L1' },
      { value: '11', measurand: 'Current.Import', phase: 'L2' },
      { value: '12', measurand: 'Current.Import', phase: 'L3' },
    ];
    expect(normalizeV16MeterValues([{ timestamp: at, sampledValue: phases }]).samples[0]?.currentA).toBe(33);
    const withTotal = [...phases, { value: '30', measurand: 'Current.Import' }];
    expect(normalizeV16MeterValues([{ timestamp: at, sampledValue: withTotal }]).samples[0]?.currentA).toBe(30);
  });

  it('ignores readings at the inlet, signed data and neutral phases; reports unreadable values', () => {
    const result = normalizeV16MeterValues([
      {
        timestamp: at,
        sampledValue: [
          { value: '999999', location: 'Inlet' },
          { value: 'OCMF|{}|{}', format: 'SignedData' },
          { value: '3', measurand: 'Current.Import', phase: 'N' },
          { value: 'twelve', measurand: 'Power.Active.Import' },
          { value: '100', unit: 'varh' },
        ],
      },
      { timestamp: 'yesterday', sampledValue: [{ value: '1' }] },
    ]);
    expect(result.samples).toEqual([]);
    expect(result.problems).toEqual([
      'meterValue[0].sampledValue[3]: power "twelve" W is not readable',
      'meterValue[0].sampledValue[4]: energy unit varh is not Wh or kWh',
      'meterValue[1].timestamp is not a date: yesterday',
    ]);
  });
});
