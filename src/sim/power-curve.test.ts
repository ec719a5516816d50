import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CURVE_STEP_S,
  chargeDurationS,
  createChargeCursor,
  RAMP_UP_S,
  requiredEnergyJ,
  TAPER_END_POWER_FRACTION,
} from './power-curve.ts';

const vehicleArbitrary = fc.record({
  batteryWh: fc.integer({ min: 40, max: 100 }).map((kWh) => kWh * 1000),
  startSocPercent: fc.integer({ min: 10, max: 50 }),
  targetSocPercent: fc.integer({ min: 80, max: 100 }),
  maxPowerW: fc.integer({ min: 3_700, max: 22_000 }),
});

describe('the charging curve', () => {
  it('ramps up over the first minute, then holds the maximum power, and ends exactly at the target', () => {
    const input = { batteryWh: 50_000, startSocPercent: 20, targetSocPercent: 80, maxPowerW: 11_000 };
    const cursor = createChargeCursor(input);
    expect(requiredEnergyJ(input)).toBe(108_000_000);
    expect(cursor.at(0)).toEqual({ elapsedS: 0, energyJ: 0, powerW: 1833, socPercent: 20, charging: true });
    expect(cursor.at(9)).toEqual({ elapsedS: 9, energyJ: 16_497, powerW: 1833, socPercent: 20, charging: true });
    expect(cursor.at(10)).toEqual({ elapsedS: 10, energyJ: 18_330, powerW: 3667, socPercent: 20, charging: true });
    // 10 s each at 1833, 3667, 5500, 7333 and 9167 W.
    expect(cursor.at(50)).toEqual({ elapsedS: 50, energyJ: 275_000, powerW: 11_000, socPercent: 20, charging: true });
    expect(cursor.at(9843)).toEqual({
      elapsedS: 9843,
      energyJ: 107_998_000,
      powerW: 11_000,
      socPercent: 79,
      charging: true,
    });
    // 275 kJ in the ramp, then ceil(107,725,000 J / 11,000 W) = 9794 s at full power.
    expect(cursor.at(9844)).toEqual({
      elapsedS: 9844,
      energyJ: 108_000_000,
      powerW: 0,
      socPercent: 80,
      charging: false,
    });
    expect(cursor.at(20_000)).toEqual({
      elapsedS: 20_000,
      energyJ: 108_000_000,
      powerW: 0,
      socPercent: 80,
      charging: false,
    });
    expect(chargeDurationS(input)).toBe(9844);
  });

  it('tapers above 80 % down to the end fraction at 100 %', () => {
    const input = { batteryWh: 100_000, startSocPercent: 50, targetSocPercent: 100, maxPowerW: 10_000 };
    const cursor = createChargeCursor(input);
    const durationS = chargeDurationS(input);
    const last = cursor.at(durationS - 1);
    expect(last.charging).toBe(true);
    expect(last.socPercent).toBe(99);
    // The last step starts just below 100 %: its power is within one step of the end fraction.
    expect(last.powerW).toBeGreaterThanOrEqual(TAPER_END_POWER_FRACTION * 10_000);
    expect(last.powerW).toBeLessThan(TAPER_END_POWER_FRACTION * 10_000 + 50);
  });

  it('delivers exactly the required energy, as the sum of its power over every second', () => {
    fc.assert(
      fc.property(vehicleArbitrary, (input) => {
        const cursor = createChargeCursor(input);
        const durationS = chargeDurationS(input);
        // Checked in plain code and reported together: an expect() per simulated second would be slow.
        const problems: string[] = [];
        let previous = cursor.at(0);
        let taperPowerW = Number.POSITIVE_INFINITY;
        for (let elapsedS = 1; elapsedS <= durationS; elapsedS += 1) {
          const reading = cursor.at(elapsedS);
          const deltaJ = reading.energyJ - previous.energyJ;
          // Power times one second is the energy of that second, to the joule (the last second may end early).
          const exact =
            elapsedS < durationS
              ? deltaJ === previous.powerW && reading.charging
              : deltaJ > 0 && deltaJ <= previous.powerW;
          if (!exact) problems.push(`energy at ${elapsedS} s`);
          if (!Number.isInteger(reading.powerW)) problems.push(`power at ${elapsedS} s`);
          // The step starting at 50 s is the first at full power, which holds until the taper.
          const fullPower = previous.elapsedS >= RAMP_UP_S - CURVE_STEP_S && previous.socPercent < 80;
          if (fullPower && previous.powerW !== input.maxPowerW)
            problems.push(`not full power at ${previous.elapsedS} s`);
          if (previous.elapsedS < RAMP_UP_S - CURVE_STEP_S && previous.powerW >= input.maxPowerW) {
            problems.push(`no ramp at ${previous.elapsedS} s`);
          }
          if (previous.socPercent > 80) {
            if (previous.powerW > taperPowerW) problems.push(`power rose in the taper at ${previous.elapsedS} s`);
            taperPowerW = previous.powerW;
          }
          previous = reading;
        }
        expect(problems.slice(0, 5)).toEqual([]);
        expect(previous.energyJ).toBe(requiredEnergyJ(input));
        expect(previous).toMatchObject({ charging: false, powerW: 0, socPercent: input.targetSocPercent });
      }),
      { numRuns: 25 },
    );
  });

  it('refuses to read backwards', () => {
    const cursor = createChargeCursor({
      batteryWh: 40_000,
      startSocPercent: 10,
      targetSocPercent: 80,
      maxPowerW: 11_000,
    });
    cursor.at(100);
    expect(() => cursor.at(99)).toThrow('charge cursor read out of order');
  });
});
