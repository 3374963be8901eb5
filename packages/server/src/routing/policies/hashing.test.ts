import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/random.ts';
import { chooseArm, hash32, rendezvousPick, unitHash, weightedDraw } from './hashing.ts';

const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

describe('arm choice', () => {
  it('hashes are stable and spread', () => {
    expect(hash32('user-1')).toBe(hash32('user-1'));
    expect(hash32('user-1')).not.toBe(hash32('user-2'));
    const u = keys.map((k) => unitHash(k, 'a'));
    expect(Math.min(...u)).toBeGreaterThan(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    expect(mean).toBeCloseTo(0.5, 1);
  });

  it('sticky: a key always gets the same arm, and arms get their weighted share', () => {
    const arms = [
      { name: 'a', weight: 70 },
      { name: 'b', weight: 20 },
      { name: 'c', weight: 10 },
    ];
    for (const k of keys.slice(0, 50)) expect(rendezvousPick(arms, k)).toBe(rendezvousPick(arms, k));
    const share = (n: string): number => keys.filter((k) => rendezvousPick(arms, k).name === n).length / keys.length;
    expect(share('a')).toBeCloseTo(0.7, 1);
    expect(share('b')).toBeCloseTo(0.2, 1);
    expect(share('c')).toBeCloseTo(0.1, 1);
  });

  it('raising one arm’s weight only moves keys to that arm (a canary stage that grows keeps its users)', () => {
    const at = (w: number) => [
      { name: 'stable', weight: 100 - w },
      { name: 'canary', weight: w },
    ];
    const before = new Map(keys.map((k) => [k, rendezvousPick(at(5), k).name]));
    const after = new Map(keys.map((k) => [k, rendezvousPick(at(25), k).name]));
    const moved = keys.filter((k) => before.get(k) !== after.get(k));
    expect(moved.every((k) => before.get(k) === 'stable' && after.get(k) === 'canary')).toBe(true);
    expect(keys.filter((k) => before.get(k) === 'canary').every((k) => after.get(k) === 'canary')).toBe(true);
  });

  it('removing an arm moves only its own keys', () => {
    const three = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ];
    const two = three.filter((a) => a.name !== 'c');
    const moved = keys.filter((k) => rendezvousPick(three, k).name !== rendezvousPick(two, k).name);
    expect(moved.every((k) => rendezvousPick(three, k).name === 'c')).toBe(true);
  });

  it('random draws follow the weights; zero-weight arms never win; no positive weight is an error', () => {
    const random = seededRandom(7);
    const arms = [
      { name: 'a', weight: 3 },
      { name: 'z', weight: 0 },
      { name: 'b', weight: 1 },
    ];
    const draws = Array.from({ length: 20_000 }, () => weightedDraw(arms, random).name);
    expect(draws.filter((d) => d === 'a').length / draws.length).toBeCloseTo(0.75, 1);
    expect(draws.includes('z')).toBe(false);
    expect(() => chooseArm([{ name: 'z', weight: 0 }], undefined, random)).toThrow('no arm has a positive weight');
    expect(chooseArm(arms, 'user-1', random)).toBe(rendezvousPick(arms, 'user-1'));
  });
});
