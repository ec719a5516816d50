import { describe, expect, it } from 'vitest';
import { type LoadReport, loadRunPassed } from './load-report.ts';

type Verdict = Pick<LoadReport, 'errors' | 'stations' | 'storm'>;

const clean: Verdict = {
  errors: { total: 0, callErrors: {}, timeouts: 0, callsLost: 0 },
  stations: { planned: 100, peakOnline: 100 },
};
const storm = { stations: 100, notReconnected: 0, allBackAfterS: 41.2, failedBoots: 0, failedConnects: 3 };

describe('loadRunPassed (voltbill load exit status)', () => {
  it('passes a run with no errors, every station online, and a storm they all came back from', () => {
    expect(loadRunPassed(clean)).toBe(true);
    expect(loadRunPassed({ ...clean, storm })).toBe(true);
  });

  it('fails on a failed call or a station that never came online', () => {
    expect(loadRunPassed({ ...clean, errors: { ...clean.errors, total: 1, timeouts: 1 } })).toBe(false);
    expect(loadRunPassed({ ...clean, stations: { planned: 100, peakOnline: 99 } })).toBe(false);
  });

  it('fails a storm that left stations out or had a boot refused, although every station was online at its peak', () => {
    expect(loadRunPassed({ ...clean, storm: { ...storm, notReconnected: 2, allBackAfterS: null } })).toBe(false);
    expect(loadRunPassed({ ...clean, storm: { ...storm, failedBoots: 1 } })).toBe(false);
  });
});
