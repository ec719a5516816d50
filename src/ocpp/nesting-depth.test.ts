import { describe, expect, it } from 'vitest';
import { nestingDepthExceeds } from './gateway.ts';

describe('nestingDepthExceeds', () => {
  it('accepts an OCPP frame and refuses one nested past the limit, with its recursion bounded by the limit', () => {
    expect(
      nestingDepthExceeds([2, 'id', 'MeterValues', { meterValue: [{ sampledValue: [{ value: '1' }] }] }], 32),
    ).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestingDepthExceeds(deep, 32)).toBe(true);
    expect(nestingDepthExceeds(JSON.parse(`${'['.repeat(32)}${']'.repeat(32)}`), 32)).toBe(false);
    expect(nestingDepthExceeds(JSON.parse(`${'['.repeat(33)}${']'.repeat(33)}`), 32)).toBe(true);
    // A limit of zero or below refuses any array or object, and still ends.
    expect(nestingDepthExceeds({ a: 1 }, 0)).toBe(true);
    expect(nestingDepthExceeds([[1]], -1)).toBe(true);
    expect(nestingDepthExceeds('text', -1)).toBe(false);
  });
});
