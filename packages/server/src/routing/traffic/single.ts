// `target`: every request goes to one target (the endpoint's default policy: the model of its name).
import type { PolicyOf, Choice, TrafficPolicyModule } from './traffic-policy.ts';
import { answerOne } from './answer-one.ts';

export interface SingleSnapshot {
  readonly kind: 'single';
}

/** The only choice. Pure. */
export function chooseSingle(policy: PolicyOf<'single'>): Choice {
  return { arm: 'default', target: policy.target };
}

export const single: TrafficPolicyModule<'single', SingleSnapshot> = {
  kind: 'single',
  answersByKey: false,
  targets: (policy) => [policy.target],
  arms: () => ['default'],
  compile: (policy) => ({
    primaryTarget: () => policy.target,
    answer: (request, context, io) => answerOne(chooseSingle(policy), request, context, io),
    snapshot: () => ({ kind: 'single' }),
    close: () => {},
  }),
  report: () => undefined,
};
