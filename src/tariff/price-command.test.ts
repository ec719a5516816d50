/**
 * The `voltbill price` contract: exit 0 with the priced CDR on stdout; exit 2 with one line naming the JSON path
 * of the problem (and the file) on stderr. Files are served from memory.
 */
import { describe, expect, it } from 'vitest';
import { runPriceCommand } from './price-command.ts';

const TARIFF = {
  id: 'cli-1',
  country_code: 'NL',
  party_id: 'VBL',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 0.5, vat: 21, step_size: 1 },
        { type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 },
      ],
    },
  ],
  last_updated: '2025-01-01T00:00:00Z',
};

const CDR = {
  id: 'cdr-1',
  start_date_time: '2025-06-03T08:00:00Z',
  end_date_time: '2025-06-03T09:00:00Z',
  currency: 'EUR',
  cdr_location: { country: 'NLD' },
  charging_periods: [{ start_date_time: '2025-06-03T08:00:00Z', dimensions: [{ type: 'ENERGY', volume: 10.5 }] }],
  total_cost: { excl_vat: 999, incl_vat: 999 },
  total_energy: 999,
  total_time: 999,
};

const TIMELINE = {
  timeZone: 'Europe/Amsterdam',
  startedAt: '2025-06-03T10:00:00+02:00',
  endedAt: '2025-06-03T11:00:00+02:00',
  samples: [
    { at: '2025-06-03T10:00:00+02:00', energyWh: 0, state: 'Charging', powerW: 11000 },
    { at: '2025-06-03T10:30:00+02:00', energyWh: 5500.5, state: 'SuspendedEV' },
  ],
};

async function run(argv: string[], files: Record<string, unknown>) {
  let stdout = '';
  let stderr = '';
  const code = await runPriceCommand(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readFile: async (path) => {
      const content = files[path];
      if (content === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return typeof content === 'string' ? content : JSON.stringify(content);
    },
  });
  return { code, stdout, stderr };
}

describe('voltbill price', () => {
  it('prices a CDR: its priced fields replaced, its other fields kept, the invoice lines added', async () => {
    const result = await run(['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'Europe/Amsterdam'], {
      't.json': TARIFF,
      'c.json': CDR,
    });
    expect([result.code, result.stderr]).toEqual([0, '']);
    const out = JSON.parse(result.stdout);
    expect(out.id).toBe('cdr-1');
    expect(out.cdr_location).toEqual({ country: 'NLD' });
    expect(out.start_date_time).toBe('2025-06-03T08:00:00Z');
    expect(out.charging_periods).toEqual(CDR.charging_periods);
    expect(out.tariffs).toEqual([TARIFF]);
    expect(out.total_cost).toEqual({ excl_vat: 4.175, incl_vat: 5.05175 });
    expect(out.total_energy).toBe(10.5);
    expect(out.total_time).toBe(1);
    expect(out.total_fixed_cost).toEqual({ excl_vat: 0.5, incl_vat: 0.605 });
    expect(out.total_energy_cost).toEqual({ excl_vat: 3.675, incl_vat: 4.44675 });
    expect(out.total_parking_cost).toEqual({ excl_vat: 0, incl_vat: 0 });
    expect(out.voltbill_totals).toEqual({ currency: 'EUR', rounding: 'half-up', excl_vat: '4.18', incl_vat: '5.06' });
    expect(out.voltbill_invoice_lines).toEqual([
      {
        dimension: 'FLAT',
        element_index: 0,
        unit_price_excl_vat: '0.50',
        price_unit: 'session',
        volume: '1',
        measured_volume: '1',
        volume_unit: 'session',
        vat: 'rate',
        vat_percent: '21',
        unrounded_excl_vat: '0.50',
        unrounded_incl_vat: '0.605',
        excl_vat: '0.50',
        incl_vat: '0.61',
      },
      {
        dimension: 'ENERGY',
        element_index: 0,
        unit_price_excl_vat: '0.35',
        price_unit: 'kWh',
        volume: '10.5',
        measured_volume: '10.5',
        volume_unit: 'kWh',
        vat: 'rate',
        vat_percent: '21',
        unrounded_excl_vat: '3.675',
        unrounded_incl_vat: '4.44675',
        excl_vat: '3.68',
        incl_vat: '4.45',
      },
    ]);
    expect(out.voltbill_warnings).toEqual([]);
    expect(result.stdout.endsWith('}\n')).toBe(true);
  });

  it('rounds half-even when asked', async () => {
    const result = await run(
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'Europe/Amsterdam', '--rounding', 'half-even'],
      { 't.json': TARIFF, 'c.json': CDR },
    );
    expect(JSON.parse(result.stdout).voltbill_totals).toEqual({
      currency: 'EUR',
      rounding: 'half-even',
      excl_vat: '4.18',
      incl_vat: '5.05',
    });
  });

  it('prices a session timeline, taking the zone from the timeline when --time-zone is omitted', async () => {
    const result = await run(['--tariff', 't.json', '--session', 's.json'], { 't.json': TARIFF, 's.json': TIMELINE });
    expect([result.code, result.stderr]).toEqual([0, '']);
    const out = JSON.parse(result.stdout);
    expect(out.start_date_time).toBe('2025-06-03T08:00:00.000Z');
    expect(out.charging_periods).toEqual([
      {
        start_date_time: '2025-06-03T08:00:00.000Z',
        dimensions: [
          { type: 'ENERGY', volume: 5.5005 },
          { type: 'TIME', volume: 0.5 },
        ],
        tariff_id: 'cli-1',
      },
      {
        start_date_time: '2025-06-03T08:30:00.000Z',
        dimensions: [{ type: 'PARKING_TIME', volume: 0.5 }],
        tariff_id: 'cli-1',
      },
    ]);
    expect(out.total_cost).toEqual({ excl_vat: 2.42535, incl_vat: 2.9346735 });
    expect(out.voltbill_totals.excl_vat).toBe('2.43');
  });

  it('accepts --time-zone equal to the timeline zone, and refuses a different one at $.timeZone', async () => {
    const same = await run(['--tariff', 't.json', '--session', 's.json', '--time-zone', 'europe/amsterdam'], {
      't.json': TARIFF,
      's.json': TIMELINE,
    });
    expect(same.code).toBe(0);
    const other = await run(['--tariff', 't.json', '--session', 's.json', '--time-zone', 'Europe/Berlin'], {
      't.json': TARIFF,
      's.json': TIMELINE,
    });
    expect([other.code, other.stdout, other.stderr]).toEqual([
      2,
      '',
      'error: $.timeZone: the timeline is in Europe/Amsterdam but --time-zone says Europe/Berlin (--session s.json)\n',
    ]);
  });

  const failures: [string, string[], Record<string, unknown>, string][] = [
    [
      'an invalid tariff price',
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'UTC'],
      {
        't.json': { ...TARIFF, elements: [{ price_components: [{ type: 'ENERGY', price: -1, step_size: 1 }] }] },
        'c.json': CDR,
      },
      'error: $.elements[0].price_components[0].price: expected a non-negative number (--tariff t.json)\n',
    ],
    [
      'an unknown currency',
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'UTC'],
      { 't.json': { ...TARIFF, currency: 'XYZ' }, 'c.json': CDR },
      "error: $.currency: unknown currency 'XYZ': use an ISO 4217 alphabetic code with a minor unit, e.g. EUR (--tariff t.json)\n",
    ],
    [
      'a CDR in another currency',
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'UTC'],
      { 't.json': TARIFF, 'c.json': { ...CDR, currency: 'USD' } },
      'error: $.currency: the CDR is in USD but the tariff in EUR (--cdr c.json)\n',
    ],
    [
      'a CDR without periods',
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'UTC'],
      { 't.json': TARIFF, 'c.json': { ...CDR, charging_periods: [] } },
      'error: $.charging_periods: expected an array with at least 1 item (--cdr c.json)\n',
    ],
    [
      'a CDR volume that is not a number',
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'UTC'],
      {
        't.json': TARIFF,
        'c.json': {
          ...CDR,
          charging_periods: [
            { start_date_time: '2025-06-03T08:00:00Z', dimensions: [{ type: 'ENERGY', volume: 'lots' }] },
          ],
        },
      },
      'error: $.charging_periods[0].dimensions[0].volume: expected a non-negative number with at most 20 decimals (--cdr c.json)\n',
    ],
    [
      'a timeline sample without an offset',
      ['--tariff', 't.json', '--session', 's.json'],
      {
        't.json': TARIFF,
        's.json': { ...TIMELINE, samples: [{ at: '2025-06-03T10:00:00', energyWh: 0, state: 'Charging' }] },
      },
      'error: $.samples[0].at: expected an explicit offset (Z or +hh:mm) (--session s.json)\n',
    ],
    [
      'a timeline sample in an unknown state',
      ['--tariff', 't.json', '--session', 's.json'],
      {
        't.json': TARIFF,
        's.json': { ...TIMELINE, samples: [{ at: '2025-06-03T10:00:00Z', energyWh: 0, state: 'Parked' }] },
      },
      'error: $.samples[0].state: expected one of Charging, SuspendedEV, SuspendedEVSE, EVConnected, Idle (--session s.json)\n',
    ],
    [
      'a sample after the end',
      ['--tariff', 't.json', '--session', 's.json'],
      {
        't.json': TARIFF,
        's.json': { ...TIMELINE, samples: [{ at: '2025-06-03T12:00:00+02:00', energyWh: 0, state: 'Charging' }] },
      },
      'error: $.samples[0].at: is after endedAt (--session s.json)\n',
    ],
    [
      'an invalid time zone',
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'Mars/Base'],
      { 't.json': TARIFF, 'c.json': CDR },
      "error: --time-zone: 'Mars/Base' is not an IANA time zone (e.g. Europe/Amsterdam)\n",
    ],
    [
      'broken JSON',
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'UTC'],
      { 't.json': '{"id": ', 'c.json': CDR },
      'error: $: not valid JSON',
    ],
    [
      'a missing file',
      ['--tariff', 'missing.json', '--cdr', 'c.json', '--time-zone', 'UTC'],
      { 'c.json': CDR },
      "error: --tariff missing.json: cannot read the file (ENOENT: no such file or directory, open 'missing.json')\n",
    ],
  ];
  for (const [name, argv, files, message] of failures) {
    it(`exits 2 on ${name}, naming the path`, async () => {
      const result = await run(argv, files);
      expect([result.code, result.stdout]).toEqual([2, '']);
      expect(result.stderr.startsWith(message)).toBe(true);
    });
  }

  const usage: [string, string[], string][] = [
    [
      'no --time-zone for a CDR',
      ['--tariff', 't.json', '--cdr', 'c.json'],
      "error: --time-zone is required: the location's IANA zone, e.g. Europe/Amsterdam\n",
    ],
    ['no --tariff', ['--cdr', 'c.json', '--time-zone', 'UTC'], 'error: --tariff is required\n'],
    [
      'both --cdr and --session',
      ['--tariff', 't.json', '--cdr', 'c.json', '--session', 's.json'],
      'error: give exactly one of --cdr and --session\n',
    ],
    [
      'a bad rounding mode',
      ['--tariff', 't.json', '--cdr', 'c.json', '--time-zone', 'UTC', '--rounding', 'up'],
      "error: --rounding must be half-up or half-even, not 'up'\n",
    ],
    ['an unknown option', ['--tariff', 't.json', '--cdr', 'c.json', '--zone', 'UTC'], "error: Unknown option '--zone'"],
  ];
  for (const [name, argv, message] of usage) {
    it(`exits 2 on ${name}, with the usage`, async () => {
      const result = await run(argv, { 't.json': TARIFF, 'c.json': CDR, 's.json': TIMELINE });
      expect(result.code).toBe(2);
      expect(result.stderr.startsWith(message)).toBe(true);
      expect(result.stderr).toContain('usage: voltbill price --tariff TARIFF.json');
    });
  }

  it('prints the usage with --help and exits 0', async () => {
    const result = await run(['--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith('usage: voltbill price')).toBe(true);
  });
});
