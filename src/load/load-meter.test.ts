import { describe, expect, it } from 'vitest';
import { assessSignedValues } from '../meters/assess-signed-values.ts';
import { kiloWattHours, LoadMeter } from './load-meter.ts';

// A load station's signed readings go through the same assessment as a real meter's at the stop.
describe('the load meter', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 28, 3, minute, 0, 123));

  it('signs a begin and an end that verify, pin its key and prove the billed energy to the Wh', () => {
    const meter = new LoadMeter('LM-LOAD-00001', 'LOAD-00001');
    const begin = meter.sign('B', at(0), 1_234_567, 'LT000001');
    const end = meter.sign('E', at(30), 1_240_068, 'LT000001');
    const assessed = assessSignedValues({
      values: [JSON.stringify(begin), JSON.stringify(end)],
      meter: null,
      billedEnergyWh: 5_501n,
    });
    // Verified, and the key pinned on first use (a warning for the operator to confirm it), nothing held.
    expect(assessed.findings.map((f) => [f.code, f.severity])).toEqual([
      ['SignedDataVerified', 'info'],
      ['MeterKeyPinned', 'warn'],
    ]);
    expect(assessed.status).toBe('verified');
    expect(assessed.pin).toEqual({ publicKey: meter.publicKey, serial: 'LM-LOAD-00001' });
    expect(assessed.session?.energyWh?.delta).toBe('5501');

    // The key now registered: the next session verifies against it.
    const next = assessSignedValues({
      values: [
        JSON.stringify(meter.sign('B', at(40), 1_240_068, 'LT000001')),
        JSON.stringify(meter.sign('E', at(50), 1_240_069, 'LT000001')),
      ],
      meter: { serial: 'LM-LOAD-00001', publicKey: meter.publicKey, signedDataRequired: true },
      billedEnergyWh: 1n,
    });
    expect(next.status).toBe('verified');
    expect(next.findings.map((f) => f.code)).toEqual(['SignedDataVerified']);
    expect(next.pin).toBeNull();
  });

  it('does not prove a bill one Wh off, nor an end signed by another meter', () => {
    const meter = new LoadMeter('LM-LOAD-00002', 'LOAD-00002');
    const begin = JSON.stringify(meter.sign('B', at(0), 1_000, 'LT000002'));
    const end = JSON.stringify(meter.sign('E', at(10), 2_000, 'LT000002'));
    const offByOne = assessSignedValues({ values: [begin, end], meter: null, billedEnergyWh: 1_001n });
    expect(offByOne.status).toBe('failed');
    expect(offByOne.findings.map((f) => f.code)).toEqual(['SignedEnergyMismatch']);

    const other = new LoadMeter('LM-LOAD-00002', 'LOAD-00002');
    const foreign = JSON.stringify(other.sign('E', at(10), 2_000, 'LT000002'));
    const mixed = assessSignedValues({
      values: [begin, foreign],
      meter: { serial: 'LM-LOAD-00002', publicKey: meter.publicKey, signedDataRequired: true },
      billedEnergyWh: 1_000n,
    });
    expect(mixed.status).toBe('failed');
    expect(mixed.findings.map((f) => f.code)).toContain('MeterKeyMismatch');
  });

  it('writes the register in kWh with exactly three decimals', () => {
    expect(kiloWattHours(0)).toBe('0.000');
    expect(kiloWattHours(7)).toBe('0.007');
    expect(kiloWattHours(12_345)).toBe('12.345');
    expect(kiloWattHours(4_000_000)).toBe('4000.000');
    expect(() => kiloWattHours(1.5)).toThrow(RangeError);
    expect(() => kiloWattHours(-1)).toThrow(RangeError);
  });
});
