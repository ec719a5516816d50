import { describe, expect, it } from 'vitest';
import { parseLoadArgs } from './parse-load-args.ts';

describe('parseLoadArgs', () => {
  it('reads every flag', () => {
    const parsed = parseLoadArgs([
      '--stations',
      '2000',
      '--duration',
      '60',
      '--protocol',
      'mixed',
      '--url',
      'ws://h:9000/ocpp',
      '--meter-interval',
      '0',
      '--samples',
      '3',
      '--reconnect-storm-at',
      '30',
      '--storm-window',
      '20',
      '--password',
      'pw',
      '--warmup',
      '15',
      '--json',
      '--no-sessions',
      '--signed',
    ]);
    expect(parsed).toEqual({
      ok: true,
      value: {
        help: false,
        options: {
          stations: 2000,
          durationS: 60,
          protocol: 'mixed',
          url: 'ws://h:9000/ocpp',
          meterIntervalS: 0,
          samplesPerSession: 3,
          reconnectStormAtS: 30,
          stormWindowS: 20,
          warmupS: 15,
          password: 'pw',
          sessions: false,
          signed: true,
        },
        json: true,
        quiet: false,
        provision: false,
        caFile: undefined,
        clientCertFile: undefined,
        clientKeyFile: undefined,
      },
    });
  });

  it('names the flag of an invalid value', () => {
    expect(parseLoadArgs(['--stations', '0', '--duration', '5'])).toEqual({
      ok: false,
      error: { message: '--stations must be an integer from 1 to 100000 (got 0)' },
    });
    expect(parseLoadArgs(['--stations', '5', '--duration', '5', '--protocol', 'ocpp2.1'])).toEqual({
      ok: false,
      error: { message: '--protocol must be one of ocpp1.6, ocpp2.0.1, mixed (got ocpp2.1)' },
    });
    expect(parseLoadArgs(['--stations', '5'])).toEqual({ ok: false, error: { message: '--duration is required' } });
    expect(parseLoadArgs(['--stations', '5', '--duration', '5', '--client-cert', 'c.pem'])).toEqual({
      ok: false,
      error: { message: '--client-cert and --client-key go together' },
    });
    expect(parseLoadArgs(['--stations', '5', '--duration', '5', '--url', 'ws://a:1/ocpp,http://b:2/ocpp'])).toEqual({
      ok: false,
      error: { message: '--url must be ws:// or wss:// URLs, separated by commas (got http://b:2/ocpp)' },
    });
    expect(parseLoadArgs(['--stations', '5', '--duration', '5', '--url', 'ws://a:1/ocpp,'])).toEqual({
      ok: false,
      error: { message: '--url must be ws:// or wss:// URLs, separated by commas (got "")' },
    });
    expect(parseLoadArgs(['--stations', '5', '--duration', 'x'])).toEqual({
      ok: false,
      error: { message: '--duration must be a number (got x)' },
    });
  });
});
