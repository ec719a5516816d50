import { describe, expect, it } from 'vitest';
import { parseOcmfTime } from './parse-ocmf-time.ts';

describe('parseOcmfTime', () => {
  it('reads the OCMF form with its offset and synchronisation state', () => {
    expect(parseOcmfTime('2018-07-24T13:22:04,000+0200 S')).toEqual({
      ok: true,
      value: {
        time: {
          text: '2018-07-24T13:22:04,000+0200 S',
          epochMs: Date.parse('2018-07-24T11:22:04.000Z'),
          iso: '2018-07-24T13:22:04.000+02:00',
          status: 'S',
        },
        deviations: [],
      },
    });
    const negative = parseOcmfTime('2021-10-26T10:20:52,123-0330 U');
    expect(negative.ok && negative.value.time.epochMs).toBe(Date.parse('2021-10-26T13:50:52.123Z'));
  });

  it('tolerates a full stop before the milliseconds and a missing state, and reports both', () => {
    const result = parseOcmfTime('2019-08-13T10:03:15.000+0000');
    expect(result.ok && result.value.time.status).toBeUndefined();
    expect(result.ok && result.value.deviations.map((deviation) => deviation.code)).toEqual([
      'TimeSeparator',
      'TimeStatusMissing',
    ]);
  });

  it.each([
    '2018-07-24 13:22:04,000+0200 S',
    '2018-07-24T13:22:04+0200 S',
    '2018-07-24T13:22:04,000+02:00 S',
    '2018-07-24T13:22:04,000+0200 X',
    '2018-02-30T13:22:04,000+0200 S',
    '2018-07-24T24:00:00,000+0200 S',
    '2018-07-24T13:60:04,000+0200 S',
    '2018-07-24T13:22:04,000+1500 S',
    '2018-07-24T13:22:04,000+0260 S',
    '',
  ])('rejects %j', (text) => {
    expect(parseOcmfTime(text).ok).toBe(false);
  });
});
