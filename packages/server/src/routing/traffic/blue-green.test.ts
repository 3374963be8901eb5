import { describe, expect, it } from 'vitest';
import type { PolicyOf } from './traffic-policy.ts';
import { policyEnv, requestContext, rowsRequest, scores, scriptedIo } from '../../testing/policy-kit.ts';
import { blueGreen, chooseBlueGreen } from './blue-green.ts';

const blue = { model: 'm', version: 1 };
const green = { model: 'm', version: 2 };
const policy: PolicyOf<'blueGreen'> = { kind: 'blueGreen', blue, green, active: 'blue' };

describe('blue-green traffic policy', () => {
  it.each([
    ['blue', blue],
    ['green', green],
  ] as const)('%s active: every request goes to it', (active, target) => {
    expect(chooseBlueGreen(policy, active)).toEqual({ arm: active, target });
  });

  it.each([
    // [colour saved in the state, switch to, answers after]
    [undefined, undefined, 'green'],
    [undefined, 'blue', 'blue'],
    ['green', undefined, 'blue'],
    ['green', 'green', 'green'],
  ] as const)('saved %s, switched to %s: %s answers, and the colour is saved', async (saved, to, after) => {
    const env = policyEnv({ state: saved === undefined ? {} : { active: saved } });
    const compiled = blueGreen.compile(policy, env);
    expect(compiled.snapshot().active).toBe(saved ?? 'blue');
    expect(compiled.switchTo!(to)).toBe(after);
    expect(env.saved).toEqual([{ active: after }]);
    const io = scriptedIo((t) => scores(`m${t.version}`, [[1, 0]]));
    expect((await compiled.answer(rowsRequest(1), requestContext(), io)).variant).toBe(after);
    expect(compiled.primaryTarget()).toEqual(after === 'blue' ? blue : green);
    expect(blueGreen.report(compiled.snapshot())).toEqual({ blueGreen: { active: after, blue: 'm:1', green: 'm:2' } });
  });
});
