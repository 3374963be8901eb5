// `split`: weighted A/B/n across targets, sticky by a header or parameter when the endpoint names one.
import type { Random } from '../../core/random.ts';
import { chooseArm } from '../policies/hashing.ts';
import { answerOne } from './answer-one.ts';
import type { Choice, PolicyOf, TrafficPolicyModule } from './traffic-policy.ts';
import { stickyKeyOf } from './traffic-policy.ts';

export interface SplitSnapshot {
  readonly kind: 'split';
}

/** The arm of a request with sticky key `key` (undefined: drawn from `random` by weight). Pure. */
export function chooseSplit(policy: PolicyOf<'split'>, key: string | undefined, random: Random): Choice {
  const arm = chooseArm(policy.arms, key, random);
  return { arm: arm.name, target: arm.target };
}

export const split: TrafficPolicyModule<'split', SplitSnapshot> = {
  kind: 'split',
  answersByKey: false,
  targets: (policy) => policy.arms.map((a) => a.target),
  arms: (policy) => policy.arms.map((a) => a.name),
  compile: (policy, env) => ({
    // The first arm that takes traffic stands for the endpoint.
    primaryTarget: () => (policy.arms.find((a) => a.weight > 0) ?? policy.arms[0]!).target,
    answer: (request, context, io) => answerOne(chooseSplit(policy, stickyKeyOf(policy.stickyKey, request, context), env.random), request, context, io),
    snapshot: () => ({ kind: 'split' }),
    close: () => {},
  }),
  report: () => undefined,
};
