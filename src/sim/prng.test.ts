import { describe, expect, it } from 'vitest';
import { chance, createPrng, deriveSeed, randomInt } from './prng.ts';

describe('the seeded generator', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const first = createPrng(7);
    const second = createPrng(7);
    const sequence = Array.from({ length: 5 }, () => first.nextUint32());
    expect(Array.from({ length: 5 }, () => second.nextUint32())).toEqual(sequence);
    expect(createPrng(8).nextUint32()).not.toBe(sequence[0]);
  });

  it('derives distinct stream seeds', () => {
    const seeds = new Set(Array.from({ length: 10_000 }, (_, stream) => deriveSeed(42, stream)));
    expect(seeds.size).toBe(10_000);
    expect(deriveSeed(42, 1)).toBe(deriveSeed(42, 1));
  });

  it('draws integers over the whole inclusive range, uniformly enough', () => {
    const prng = createPrng(1);
    const counts = new Map<number, number>();
    for (let draw = 0; draw < 60_000; draw += 1) {
      const value = randomInt(prng, 10, 15);
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([10, 11, 12, 13, 14, 15]);
    for (const count of counts.values()) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    let heads = 0;
    for (let draw = 0; draw < 10_000; draw += 1) if (chance(prng, 0.3)) heads += 1;
    expect(Math.abs(heads - 3000)).toBeLessThan(200);
  });
});
