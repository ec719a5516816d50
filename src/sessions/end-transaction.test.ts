import { describe, expect, it } from 'vitest';
import { decideEnd } from './end-transaction.ts';

const base = {
  meterStartWh: 1000n,
  meterStopWh: 21000n,
  startedAt: new Date('2026-11-25T10:00:00Z'),
  endedAt: new Date('2026-11-25T11:00:00Z'),
  startIdTag: 'DEMO0001',
  stopIdTag: undefined,
};

describe('decideEnd', () => {
  it('bills meterStop - meterStart exactly', () => {
    expect(decideEnd(base)).toEqual({ energyWh: 20000n, findings: [] });
    expect(decideEnd({ ...base, meterStopWh: 1000n })).toEqual({ energyWh: 0n, findings: [] });
  });

  it('holds a meter that went backwards instead of billing it negative', () => {
    expect(decideEnd({ ...base, meterStopWh: 999n })).toEqual({
      energyWh: null,
      findings: [
        {
          code: 'MeterWentBackwards',
          severity: 'hold',
          message: 'meterStop 999 Wh is below meterStart 1000 Wh; not billed',
        },
      ],
    });
  });

  it('holds a stop before the start, and notes a different idTag at the stop (case-insensitive)', () => {
    const decision = decideEnd({ ...base, endedAt: new Date('2026-11-25T09:00:00Z'), stopIdTag: 'OTHER' });
    expect(decision.findings.map((f) => [f.code, f.severity])).toEqual([
      ['SampleOutsideSession', 'hold'],
      ['StopIdTagDiffers', 'info'],
    ]);
    expect(decideEnd({ ...base, stopIdTag: 'demo0001' }).findings).toEqual([]);
  });
});
