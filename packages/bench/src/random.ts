// A small seeded pseudo-random source (mulberry32): the same seed gives the same numbers on every
// run and machine (bench inputs and arrivals). Not for cryptography.

/** Returns numbers uniformly distributed in [0, 1). */
export type Random = () => number;

/** A deterministic random source for a 32-bit seed (other numbers are truncated to 32 bits). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
