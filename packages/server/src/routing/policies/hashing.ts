// Choosing among weighted arms, by a caller's key (sticky) or at random. Pure.
import type { Random } from '../../core/random.ts';

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser for avalanche: 32 well-mixed bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in (0, 1) fixed by the key and the salt. */
export function unitHash(key: string, salt: string): number {
  return (hash32(`${salt}\u0000${key}`) + 0.5) / 4294967296;
}

interface Weighted {
  readonly name: string;
  readonly weight: number;
}

/**
 * Weighted rendezvous hashing: the arm with the highest `-weight / ln(u(key, arm))`. A key keeps
 * its arm while weights change, except when moving is the only way to honour them: raising one
 * arm's weight moves keys only to that arm, and removing an arm moves only its own keys.
 * @throws Error when no arm has a positive weight.
 */
export function rendezvousPick<T extends Weighted>(arms: readonly T[], key: string): T {
  let best: T | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const arm of arms) {
    if (arm.weight <= 0) continue;
    const score = -arm.weight / Math.log(unitHash(key, arm.name));
    if (score > bestScore) {
      best = arm;
      bestScore = score;
    }
  }
  if (best === undefined) throw new Error('no arm has a positive weight');
  return best;
}

/** An arm drawn at random in proportion to the weights. @throws Error when no arm has a positive weight. */
export function weightedDraw<T extends Weighted>(arms: readonly T[], random: Random): T {
  const total = arms.reduce((n, a) => n + Math.max(0, a.weight), 0);
  if (total <= 0) throw new Error('no arm has a positive weight');
  let x = random() * total;
  for (const arm of arms) {
    if (arm.weight <= 0) continue;
    x -= arm.weight;
    if (x < 0) return arm;
  }
  return arms.filter((a) => a.weight > 0).at(-1)!;
}

/** The arm for a request: sticky by `key` when there is one, else drawn at random. */
export function chooseArm<T extends Weighted>(arms: readonly T[], key: string | undefined, random: Random): T {
  return key === undefined ? weightedDraw(arms, random) : rendezvousPick(arms, key);
}
