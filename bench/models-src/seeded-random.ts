// Seeded pseudo-random numbers for generated benchmark weights: the same seed gives the same
// model bytes on every machine, so benchmark results stay comparable.

export { seededRandom } from '@sibyl/server/testing';

/** Standard normal samples (Box–Muller) drawn from `uniform`. */
export function normal(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform(); // (0, 1]: log stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}
