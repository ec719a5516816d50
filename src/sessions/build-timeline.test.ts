import { describe, expect, it } from 'vitest';
import { buildTimeline } from './build-timeline.ts';

const t = (minutes: number) => new Date(Date.UTC(2026, 10, 25, 10, minutes));
const session = { startedAt: t(0), endedAt: t(60), meterStartWh: 1000n, energyWh: 6000n };

describe('buildTimeline', () => {
  it('runs from 0 at the start to the billed energy at the end, relative to meterStart', () => {
    const built = buildTimeline(session, [{ at: t(30), registerMilliWh: 4_000_500n, powerW: 6000 }], []);
    expect(built.samples).toEqual([
      { at: t(0), energyWh: 0, state: 'Charging', powerW: 6000 },
      { at: t(30), energyWh: 3000.5, state: 'Charging', powerW: 6000 },
      { at: t(60), energyWh: 6000, state: 'Charging', powerW: 6000 },
    ]);
    expect(built.findings).toEqual([]);
  });

  it('carries the first measured power and current back to the start, where no station measures', () => {
    const built = buildTimeline(
      session,
      [
        { at: t(10), registerMilliWh: 2_000_000n, powerW: 11000, currentA: 16 },
        { at: t(40), registerMilliWh: 5_000_000n, powerW: 7000, currentA: 10 },
      ],
      [],
    );
    expect(built.samples.map((p) => [p.at.getTime() - t(0).getTime(), p.powerW, p.currentA])).toEqual([
      [0, 11000, 16],
      [10 * 60_000, 11000, 16],
      [40 * 60_000, 7000, 10],
      [60 * 60_000, 7000, 10],
    ]);
  });

  it('adds a point at each state change with the energy interpolated between meter points', () => {
    const built = buildTimeline(
      session,
      [{ at: t(40), registerMilliWh: 7_000_000n }],
      [
        { at: t(0), state: 'Charging' },
        { at: t(20), state: 'SuspendedEVSE' },
        { at: t(50), state: 'SuspendedEV' },
      ],
    );
    expect(built.samples.map((p) => [p.at.getTime() - t(0).getTime(), p.energyWh, p.state])).toEqual([
      [0, 0, 'Charging'],
      [20 * 60_000, 3000, 'SuspendedEVSE'],
      [40 * 60_000, 6000, 'SuspendedEVSE'],
      [50 * 60_000, 6000, 'SuspendedEV'],
      [60 * 60_000, 6000, 'SuspendedEV'],
    ]);
  });

  it('leaves out samples that contradict the transaction and says so', () => {
    const built = buildTimeline(
      session,
      [
        { at: t(-5), registerMilliWh: 1_000_000n },
        { at: t(10), registerMilliWh: 3_000_000n },
        { at: t(20), registerMilliWh: 2_500_000n },
        { at: t(30), registerMilliWh: 9_000_000n },
        { at: t(90), registerMilliWh: 7_000_000n },
      ],
      [],
    );
    expect(built.samples.map((p) => p.energyWh)).toEqual([0, 2000, 6000]);
    expect(built.findings.map((f) => [f.code, f.severity])).toEqual([
      ['SampleOutsideSession', 'warn'],
      ['SampleRegisterOutOfRange', 'warn'],
    ]);
  });

  it('starts in the state reported before the session started', () => {
    const built = buildTimeline(session, [], [{ at: t(-1), state: 'SuspendedEV' }]);
    expect(built.samples.map((p) => p.state)).toEqual(['SuspendedEV', 'SuspendedEV']);
  });
});
