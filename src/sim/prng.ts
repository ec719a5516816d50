/**
 * A small seeded pseudo-random number generator, so that a simulation plan is a pure function of its seed: the same
 * seed gives the same vehicles, idle gaps and parking times on every machine. Not for anything secret.
 */
export interface Prng {
  /** The next value, uniform in [0, 2^32). */
  nextUint32(): number;
}

/** The largest seed accepted: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffff_ffff;

/** Mulberry32: tiny, fast and good enough to spread simulated vehicles; its whole state is one 32-bit integer. */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  return {
    nextUint32() {
      state = (state + 0x6d2b_79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    },
  };
}

/**
 * Derives an independent seed for one stream (a station, its remote-started sessions) from the run seed, so that
 * station 7 gets the same plan whether the run has 10 stations or 10,000.
 */
export function deriveSeed(seed: number, stream: number): number {
  // SplitMix32-style finalizer over the pair: every input bit affects every output bit.
  let h = (seed ^ Math.imul(stream + 0x9e37_79b9, 0x85eb_ca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb_352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846c_a68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A uniform integer in [minInclusive, maxInclusive]. */
export function randomInt(prng: Prng, minInclusive: number, maxInclusive: number): number {
  const span = maxInclusive - minInclusive + 1;
  // Multiplying the 32-bit value by the span keeps the result uniform enough for spans far below 2^32.
  return minInclusive + Math.floor((prng.nextUint32() / 0x1_0000_0000) * span);
}

/** True with the given probability (0..1). */
export function chance(prng: Prng, probability: number): boolean {
  return prng.nextUint32() / 0x1_0000_0000 < probability;
}
