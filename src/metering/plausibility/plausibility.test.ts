import { describe, expect, it } from 'vitest';
import { checkPlausibility } from './check-plausibility.ts';
import { checkEnergyAgreesWithSamples } from './energy-agrees-with-samples.ts';
import { checkImpliedPower } from './implied-power.ts';
import { checkMeterContinuity } from './meter-continuity.ts';
import { resolveMeterStop } from './missing-meter-stop.ts';
import {
  DEFAULT_PLAUSIBILITY_CONFIG as config,
  type PlausibilityInput,
  type PlausibilitySample,
} from './plausibility-input.ts';
import { checkRegisterNeverDecreases } from './register-never-decreases.ts';
import { checkSampleGaps } from './sample-gaps.ts';
import { checkTimestampsInRange } from './timestamps-in-range.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 10, 0) + minute * 60_000);
const wh = (minute: number, registerWh: number, context?: string): PlausibilitySample => ({
  at: at(minute),
  registerMilliWh: BigInt(registerWh) * 1000n,
  ...(context !== undefined && { context }),
});

/** 60 minutes at 11 kW on a 22 kW EVSE, a reading every 15 minutes. */
const session = (over: Partial<PlausibilityInput> = {}): PlausibilityInput => ({
  startedAt: at(0),
  endedAt: at(60),
  meterStartWh: 1000n,
  meterStopWh: 12_000n,
  samples: [wh(15, 3750), wh(30, 6500), wh(45, 9250)],
  ratedPowerW: 22_000,
  previousMeterStopWh: 1000n,
  receivedAt: at(60),
  ...over,
});
const codes = (findings: { code: string; severity: string }[]) => findings.map((f) => `${f.code}:${f.severity}`);

describe('plausibility rules', () => {
  it('a plausible session has no findings', () => {
    expect(checkPlausibility(session())).toEqual([]);
  });

  describe('register never decreases', () => {
    it('holds a session whose register drops between samples', () => {
      const findings = checkRegisterNeverDecreases(session({ samples: [wh(15, 3750), wh(30, 3700)] }), config);
      expect(codes(findings)).toEqual(['MeterWentBackwards:hold']);
      expect(findings[0]!.message).toBe(
        'the energy register decreased 1 time(s) within the session; first: sample at 2026-11-25T10:30:00.000Z reads 3700 Wh after sample at 2026-11-25T10:15:00.000Z read 3750 Wh',
      );
    });
    it('holds a first sample below meterStart, and sorts samples by time first', () => {
      expect(codes(checkRegisterNeverDecreases(session({ samples: [wh(5, 999)] }), config))).toEqual([
        'MeterWentBackwards:hold',
      ]);
      expect(checkRegisterNeverDecreases(session({ samples: [wh(30, 6500), wh(15, 3750)] }), config)).toEqual([]);
    });
  });

  describe('implied power', () => {
    it('accepts exactly rated power plus the margin and one register step, and holds one Wh more', () => {
      // 15 min at 24.2 kW (22 kW + 10%) = 6050 Wh; plus the 1 Wh resolution.
      const edge = session({ samples: [wh(15, 1000 + 6051)], meterStopWh: 7051n });
      expect(checkImpliedPower(edge, config)).toEqual([]);
      const over = session({ samples: [wh(15, 1000 + 6052)], meterStopWh: 7052n });
      const findings = checkImpliedPower(over, config);
      expect(codes(findings)).toEqual(['PowerAboveRated:hold']);
      expect(findings[0]!.message).toBe(
        "6052 Wh between 2026-11-25T10:00:00.000Z and 2026-11-25T10:15:00.000Z implies 24208 W, above the EVSE's rated 22000 W + 10%",
      );
    });
    it('checks the stretch up to meterStop and skips an EVSE without a rating', () => {
      const jump = session({ samples: [], meterStopWh: 100_000n });
      expect(codes(checkImpliedPower(jump, config))).toEqual(['PowerAboveRated:hold']);
      expect(checkImpliedPower({ ...jump, ratedPowerW: null }, config)).toEqual([]);
    });
    it('names an energy jump at one instant', () => {
      const findings = checkImpliedPower(session({ samples: [wh(15, 3750), wh(15, 3760)] }), config);
      expect(findings[0]!.message).toContain('implies an instantaneous jump');
    });
  });

  describe('sample gaps', () => {
    it('warns about an interval without readings longer than the limit', () => {
      const findings = checkSampleGaps(session({ samples: [wh(15, 3750)], endedAt: at(60) }), config);
      expect(codes(findings)).toEqual(['SampleGap:warn']);
      expect(findings[0]!.message).toBe(
        '1 interval(s) without a meter reading longer than 1800 s; the longest is 2700 s from 2026-11-25T10:15:00.000Z',
      );
      expect(checkSampleGaps(session(), config)).toEqual([]);
      expect(checkSampleGaps(session(), { ...config, maxGapS: 899 })).toHaveLength(1);
    });
    it('counts a reading without a register (power only) as a reading', () => {
      expect(checkSampleGaps(session({ samples: [{ at: at(20) }, { at: at(40) }] }), config)).toEqual([]);
    });
  });

  describe('timestamps in range', () => {
    it('holds timestamps later than receipt plus the skew', () => {
      const findings = checkTimestampsInRange(session({ receivedAt: at(54) }), config);
      expect(codes(findings)).toEqual(['TimestampInFuture:hold']);
      expect(findings[0]!.message).toBe(
        '1 timestamp(s) later than the time received (2026-11-25T10:54:00.000Z) + 300 s; first: end at 2026-11-25T11:00:00.000Z',
      );
      expect(checkTimestampsInRange(session({ receivedAt: at(55) }), config)).toEqual([]);
    });
    it('warns about readings before the start', () => {
      const findings = checkTimestampsInRange(session({ samples: [wh(-6, 900), wh(-5, 950)] }), config);
      expect(codes(findings)).toEqual(['TimestampBeforeSession:warn']);
      expect(findings[0]!.message).toContain('1 reading(s) dated before');
    });
  });

  describe('meter continuity', () => {
    it('flags a meterStart above or below the previous meterStop, with a severity per direction', () => {
      expect(checkMeterContinuity(session({ previousMeterStopWh: null }), config)).toEqual([]);
      const above = checkMeterContinuity(session({ previousMeterStopWh: 900n }), config);
      expect(above).toEqual([
        {
          code: 'MeterStartDiscontinuous',
          severity: 'warn',
          message: "meterStart 1000 Wh is 100 Wh above the previous session's meterStop 900 Wh on this meter",
        },
      ]);
      const strict = { ...config, severities: { ...config.severities, meterStartBelowPrevious: 'hold' as const } };
      expect(codes(checkMeterContinuity(session({ previousMeterStopWh: 1500n }), strict))).toEqual([
        'MeterStartDiscontinuous:hold',
      ]);
    });
  });

  describe('missing meterStop', () => {
    it('bills from the last register reading, rounded down to whole Wh, and flags it', () => {
      const samples = [wh(15, 3750), { at: at(45), registerMilliWh: 9_250_999n }, { at: at(50) }];
      expect(resolveMeterStop(undefined, samples, at(60), config)).toEqual({
        meterStopWh: 9250n,
        findings: [
          {
            code: 'StopMissing',
            severity: 'warn',
            message:
              'the transaction ended without a meterStop; billed to the last reading, 9250 Wh at 2026-11-25T10:45:00.000Z',
          },
        ],
      });
    });
    it('keeps a meterStop that was sent and holds when there is nothing to bill from', () => {
      expect(resolveMeterStop(12_000n, [], at(60), config)).toEqual({ meterStopWh: 12_000n, findings: [] });
      const none = resolveMeterStop(null, [wh(70, 5000)], at(60), config);
      expect(none.meterStopWh).toBeNull();
      expect(codes(none.findings)).toEqual(['StopMissing:hold']);
    });
  });

  describe('energy agrees with samples', () => {
    it('holds when the Transaction.End reading differs from meterStop by more than the tolerance', () => {
      const ok = session({ samples: [wh(0, 1000, 'Transaction.Begin'), wh(60, 12_001, 'Transaction.End')] });
      expect(checkEnergyAgreesWithSamples(ok, config)).toEqual([]);
      const off = session({ samples: [wh(0, 1000, 'Transaction.Begin'), wh(60, 12_500, 'Transaction.End')] });
      const findings = checkEnergyAgreesWithSamples(off, config);
      expect(codes(findings)).toEqual(['EnergyDisagreesWithSamples:hold']);
      expect(findings[0]!.message).toBe(
        'the billed energy disagrees with the sampled register (tolerance 1 Wh): the Transaction.End reading is 12500 Wh, meterStop 12000 Wh; a reading of 12500 Wh lies above meterStop 12000 Wh',
      );
    });
    it('holds a Transaction.Begin reading that is not meterStart, and a periodic reading above meterStop', () => {
      const begin = session({ samples: [wh(0, 1500, 'Transaction.Begin')] });
      expect(checkEnergyAgreesWithSamples(begin, config)[0]!.message).toContain(
        'the Transaction.Begin reading is 1500 Wh, meterStart 1000 Wh',
      );
      const above = session({ samples: [wh(30, 13_000, 'Sample.Periodic')] });
      expect(codes(checkEnergyAgreesWithSamples(above, config))).toEqual(['EnergyDisagreesWithSamples:hold']);
    });
  });

  it('runs every rule and keeps their order', () => {
    const findings = checkPlausibility(
      session({ samples: [wh(15, 30_000), wh(20, 20_000)], previousMeterStopWh: 0n, receivedAt: at(0) }),
    );
    expect(codes(findings)).toEqual([
      'MeterWentBackwards:hold',
      'PowerAboveRated:hold',
      'SampleGap:warn',
      'TimestampInFuture:hold',
      'MeterStartDiscontinuous:warn',
      'EnergyDisagreesWithSamples:hold',
    ]);
  });
});

describe('plausibilityConfigFrom', () => {
  const settings = {
    powerMarginPercent: 10,
    maxGapS: 1800,
    clockSkewS: 300,
    energyToleranceWh: 1,
    severities: undefined,
  };
  it('gives the defaults for the default settings, and applies severity overrides', async () => {
    const { plausibilityConfigFrom } = await import('./plausibility-config.ts');
    expect(plausibilityConfigFrom(settings)).toEqual({ ok: true, value: config });
    const strict = plausibilityConfigFrom({
      ...settings,
      maxGapS: 600,
      severities: ' meterStartBelowPrevious = hold,sampleGap=info',
    });
    expect(strict.ok && strict.value.maxGapS).toBe(600);
    expect(strict.ok && strict.value.severities).toEqual({
      ...config.severities,
      meterStartBelowPrevious: 'hold',
      sampleGap: 'info',
    });
  });
  it('refuses an unknown rule name', async () => {
    const { plausibilityConfigFrom } = await import('./plausibility-config.ts');
    const result = plausibilityConfigFrom({ ...settings, severities: 'sampleGaps=hold' });
    expect(result).toEqual({
      ok: false,
      error:
        "VOLTBILL_PLAUSIBILITY_SEVERITIES: unknown rule 'sampleGaps'; the rules are registerDecreases, powerAboveRated, sampleGap, timestampInFuture, timestampBeforeSession, meterStartAbovePrevious, meterStartBelowPrevious, meterStopMissing, energyDisagrees",
    });
  });
});
