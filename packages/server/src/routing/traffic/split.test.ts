import { describe, expect, it } from 'vitest';
import type { PolicyOf } from './traffic-policy.ts';
import { policyEnv, requestContext, rowsRequest, scores, scriptedIo } from '../../testing/policy-kit.ts';
import { chooseSplit, split } from './split.ts';

const a = { model: 'm', version: 1 };
const b = { model: 'm', version: 2 };
const c = { model: 'n' };
const policy: PolicyOf<'split'> = {
  kind: 'split',
  arms: [
    { name: 'a', weight: 1, target: a },
    { name: 'b', weight: 3, target: b },
    { name: 'off', weight: 0, target: c },
  ],
};

describe('split traffic policy', () => {
  it.each([
    // Drawn by weight: a takes [0, 0.25), b [0.25, 1); an arm of weight 0 never.
    [0, 'a'],
    [0.2499, 'a'],
    [0.25, 'b'],
    [0.9999, 'b'],
  ])('random %s without a key chooses arm %s', (draw, arm) => {
    expect(chooseSplit(policy, undefined, () => draw).arm).toBe(arm);
  });

  it('a sticky key always chooses the same arm, whatever the random source says', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const first = keys.map((k) => chooseSplit(policy, k, () => 0).arm);
    expect(keys.map((k) => chooseSplit(policy, k, () => 0.99).arm)).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['a', 'b']));
  });

  it('reads its sticky key from the header the config names, and stands for its first arm that takes traffic', async () => {
    const sticky: PolicyOf<'split'> = { ...policy, stickyKey: { header: 'x-user' } };
    const compiled = split.compile(sticky, policyEnv({ draws: [0] }));
    const io = scriptedIo((t) => scores(`m${t.version}`, [[1, 0]]));
    const header = (name: string): string | undefined => (name === 'x-user' ? 'user-7' : undefined);
    const answers = await Promise.all([1, 2, 3].map(() => compiled.answer(rowsRequest(1), requestContext({ header }), io)));
    expect(new Set(answers.map((x) => x.variant)).size).toBe(1);
    expect(answers[0]!.variant).toBe(chooseSplit(sticky, 'user-7', () => 0).arm);
    expect(split.compile({ ...policy, arms: [{ name: 'z', weight: 0, target: c }, ...policy.arms] }, policyEnv()).primaryTarget()).toEqual(a);
    expect(split.targets(policy)).toEqual([a, b, c]);
    expect(split.arms(policy)).toEqual(['a', 'b', 'off']);
  });
});
