import { describe, expect, it } from 'vitest';
import { parseSimulateArgs } from './parse-simulate-args.ts';

const base = ['--url', 'ws://127.0.0.1:9000/ocpp', '--stations', '10', '--sessions', '3'];

describe('simulate arguments', () => {
  it('reads every flag into options', () => {
    const parsed = parseSimulateArgs([
      ...base,
      '--speed',
      '600',
      '--meter-interval',
      '30',
      '--max-power-w',
      '22000',
      '--seed',
      '7',
      '--id-tags',
      'AA, BB',
      '--station-prefix',
      'LOAD-',
      '--first-station',
      '101',
      '--password',
      's3cret',
      '--connect-rate',
      '50',
      '--call-timeout-ms',
      '5000',
      '--json',
      '--quiet',
    ]);
    expect(parsed).toEqual({
      ok: true,
      value: {
        help: false,
        json: true,
        quiet: true,
        options: {
          url: 'ws://127.0.0.1:9000/ocpp',
          stations: 10,
          sessionsPerStation: 3,
          speedFactor: 600,
          meterIntervalS: 30,
          maxPowerW: 22_000,
          seed: 7,
          idTags: ['AA', 'BB'],
          stationPrefix: 'LOAD-',
          firstStation: 101,
          password: 's3cret',
          connectRatePerS: 50,
          callTimeoutMs: 5000,
        },
      },
    });
    expect(parseSimulateArgs(['-h'])).toEqual({ ok: true, value: { help: true } });
  });

  it('names the flag in every error', () => {
    const errorOf = (argv: string[]) => {
      const parsed = parseSimulateArgs(argv);
      return parsed.ok ? null : parsed.error;
    };
    expect(errorOf(base.slice(2))).toEqual({ flag: '--url', message: '--url is required' });
    expect(errorOf([...base.slice(0, 4)])).toEqual({ flag: '--sessions', message: '--sessions is required' });
    expect(errorOf([...base, '--stations', 'ten'])).toEqual({
      flag: '--stations',
      message: '--stations must be a non-negative number (got "ten")',
    });
    expect(errorOf([...base.slice(0, 2), '--stations', '0', '--sessions', '3'])).toEqual({
      flag: '--stations',
      message: '--stations must be an integer from 1 to 100000 (got 0)',
    });
    expect(errorOf([...base, '--speed', '0.5'])?.message).toBe('--speed must be a number from 1 to 1000000 (got 0.5)');
    expect(errorOf([...base, '--meter-interval', '1'])?.message).toBe(
      '--meter-interval must be an integer from 5 to 3600 (got 1)',
    );
    expect(errorOf([...base, '--id-tags', 'A,,B'])?.flag).toBe('--id-tags');
    expect(errorOf([...base, '--id-tags', 'ABCDEFGHIJKLMNOPQRSTU'])?.message).toBe(
      '--id-tags each idTag must be 1 to 20 characters without spaces (got "ABCDEFGHIJKLMNOPQRSTU")',
    );
    expect(errorOf(['--url', 'http://x', '--stations', '1', '--sessions', '1'])).toEqual({
      flag: '--url',
      message: '--url must be a ws:// or wss:// URL (got "http://x")',
    });
    expect(errorOf([...base, '--station-prefix', 'bad prefix'])?.flag).toBe('--station-prefix');
    expect(errorOf([...base, '--statons', '3'])?.flag).toBe('--statons');
    expect(errorOf([...base, 'extra'])?.flag).toBe('arguments');
  });
});
