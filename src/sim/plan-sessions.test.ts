import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  idTagFor,
  type PlanParameters,
  planRun,
  planStation,
  START_AFTER_AUTHORIZE_S,
  sessionTimeline,
  stationIdFor,
} from './plan-sessions.ts';
import { chargeDurationS } from './power-curve.ts';

const params: PlanParameters = {
  seed: 42,
  stations: 3,
  sessionsPerStation: 2,
  firstStation: 1,
  stationPrefix: 'DEMO-',
  idTags: ['DEMO0001', 'DEMO0002'],
  maxPowerW: 11_000,
  meterIntervalS: 60,
};

describe('session planning', () => {
  it('gives the same plan for the same seed (golden values guard the generator)', () => {
    const station = planStation(params, 1);
    expect(station).toMatchObject({
      stationNumber: 1,
      stationId: 'DEMO-0001',
      idTag: 'DEMO0001',
      serialNumber: 'VB-SIM-00000001',
      initialRegisterWh: 1_768_812,
      spanS: 32_319,
    });
    expect(station.sessions[0]).toEqual({
      origin: 'planned',
      idTag: 'DEMO0001',
      vehicle: { batteryWh: 47_000, startSocPercent: 19, targetSocPercent: 92 },
      idleBeforeS: 72,
      plugInOffsetS: 72,
      parked: false,
      stopReason: 'EVDisconnected',
      timeline: {
        authorizeS: 8,
        startS: 10,
        chargingStatusS: 11,
        chargeEndS: 11_810,
        finishingS: 11_871,
        stopS: 11_872,
        availableS: 11_873,
      },
    });
    expect(planRun(params)).toEqual(planRun(params));
    expect(planStation({ ...params, seed: 43 }, 1)).not.toEqual(station);
  });

  it('plans a station the same way whatever the number of stations in the run', () => {
    expect(planRun({ ...params, stations: 1000 }).stations[6]).toEqual(planRun({ ...params, stations: 7 }).stations[6]);
  });

  it('keeps every session within its ranges and its events in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.integer({ min: 5, max: 900 }),
        (seed, meterIntervalS) => {
          const run = planRun({ ...params, seed, sessionsPerStation: 4, meterIntervalS });
          for (const station of run.stations) {
            let endS = 0;
            for (const session of station.sessions) {
              const { vehicle, timeline: t } = session;
              expect(vehicle.batteryWh % 1000).toBe(0);
              expect(vehicle.batteryWh).toBeGreaterThanOrEqual(40_000);
              expect(vehicle.batteryWh).toBeLessThanOrEqual(100_000);
              expect(vehicle.startSocPercent).toBeGreaterThanOrEqual(10);
              expect(vehicle.startSocPercent).toBeLessThanOrEqual(50);
              expect(vehicle.targetSocPercent).toBeGreaterThanOrEqual(80);
              expect(vehicle.targetSocPercent).toBeLessThanOrEqual(100);
              expect(session.plugInOffsetS).toBe(endS + session.idleBeforeS);
              expect(t.startS).toBe(t.authorizeS + START_AFTER_AUTHORIZE_S);
              expect(t.chargeEndS - t.startS).toBe(chargeDurationS({ ...vehicle, maxPowerW: 11_000 }));
              const stayS = t.finishingS - t.chargeEndS;
              expect(stayS).toBeGreaterThanOrEqual(session.parked ? 300 : 60);
              // A periodic sample lies strictly between the car being full and the driver's return.
              const firstSampleAfterEndS =
                t.startS + (Math.floor((t.chargeEndS - t.startS) / meterIntervalS) + 1) * meterIntervalS;
              expect(firstSampleAfterEndS).toBeGreaterThan(t.chargeEndS);
              expect(firstSampleAfterEndS).toBeLessThan(t.finishingS);
              expect([t.stopS, t.availableS]).toEqual([t.finishingS + 1, t.finishingS + 2]);
              endS = session.plugInOffsetS + t.availableS;
            }
            expect(station.spanS).toBe(endS);
          }
          expect(run.spanS).toBe(Math.max(...run.stations.map((station) => station.spanS)));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('waits for one sample after the car is full even when the driver returns at once', () => {
    expect(
      sessionTimeline({ authorizeS: 10, chargeDurationS: 3600, stayAfterChargeS: 60, meterIntervalS: 900 }),
    ).toEqual({
      authorizeS: 10,
      startS: 12,
      chargingStatusS: 13,
      chargeEndS: 3612,
      // Samples fall at 12 + 900 k; the one at 3612 coincides with the end, so the first after it is 12 + 4500.
      finishingS: 12 + 5 * 900 + 1,
      stopS: 12 + 5 * 900 + 2,
      availableS: 12 + 5 * 900 + 3,
    });
  });

  it('names stations and cycles idTags by station number', () => {
    expect(stationIdFor('DEMO-', 1)).toBe('DEMO-0001');
    expect(stationIdFor('LOAD-', 12_345)).toBe('LOAD-12345');
    const tags = Array.from({ length: 10 }, (_, index) => `DEMO${String(index + 1).padStart(4, '0')}`);
    expect([1, 10, 11, 25].map((number) => idTagFor(tags, number))).toEqual([
      'DEMO0001',
      'DEMO0010',
      'DEMO0001',
      'DEMO0005',
    ]);
    expect(idTagFor(['A'], 0)).toBe('A');
  });
});
