import { describe, expect, it } from 'vitest';
import { changeConfiguration, getConfiguration } from './station-configuration.ts';

const state = { heartbeatIntervalS: 300, meterIntervalS: 60 };

describe('station configuration', () => {
  it('answers requested keys case-insensitively and lists unknown ones', () => {
    expect(getConfiguration(state, ['heartbeatinterval', 'MeterValueSampleInterval', 'Nope'])).toEqual({
      configurationKey: [
        { key: 'HeartbeatInterval', readonly: false, value: '300' },
        { key: 'MeterValueSampleInterval', readonly: true, value: '60' },
      ],
      unknownKey: ['Nope'],
    });
    expect(getConfiguration(state, undefined).configurationKey.map((entry) => entry.key)).toContain(
      'AuthorizeRemoteTxRequests',
    );
  });

  it('lets the CSMS change only the heartbeat interval, within bounds', () => {
    expect(changeConfiguration(state, 'HeartbeatInterval', '120')).toEqual({
      status: 'Accepted',
      heartbeatIntervalS: 120,
    });
    expect(changeConfiguration(state, 'HeartbeatInterval', '0')).toEqual({ status: 'Rejected' });
    expect(changeConfiguration(state, 'HeartbeatInterval', '1.5')).toEqual({ status: 'Rejected' });
    expect(changeConfiguration(state, 'MeterValueSampleInterval', '10')).toEqual({ status: 'Rejected' });
    expect(changeConfiguration(state, 'Foo', '1')).toEqual({ status: 'NotSupported' });
  });
});
