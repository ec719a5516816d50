import { describe, expect, it } from 'vitest';
import { loadFlags } from './bench-harness.ts';

describe('loadFlags', () => {
  it('turns named values into `voltbill load` arguments in order, a true flag bare and a false one left out', () => {
    expect(
      loadFlags({ url: 'ws://h/ocpp', stations: 100, 'meter-interval': 0, 'no-sessions': true, 'no-bare': false }),
    ).toEqual(['--url', 'ws://h/ocpp', '--stations', '100', '--meter-interval', '0', '--no-sessions']);
  });
});
