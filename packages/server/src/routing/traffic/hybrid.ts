// `hybrid`: precomputed and live predictions. The stored prediction of the request's key answers
// while young enough, else the live target when the request carries inputs, else the default
// response (policies/hybrid.ts decides; hybrid-serving.ts runs it). The answer names its source.
import type { HybridKey } from '../../config/endpoint-config.ts';
import { HybridServing } from './hybrid-serving.ts';
import type { HybridReason, HybridSource } from '../policies/hybrid.ts';
import { targetKey } from '../target.ts';
import type { TrafficPolicyModule } from './traffic-policy.ts';

export interface HybridSnapshot {
  readonly kind: 'hybrid';
  /** targetKey of the live target. */
  readonly target: string;
  readonly storedModel: string;
  readonly key: HybridKey;
  readonly maxAgeMs: number;
  readonly hasDefault: boolean;
  /** Answers by source ('none': nothing could answer) and reason, in the order each first happened. */
  readonly answers: readonly { readonly source: HybridSource | 'none'; readonly reason: HybridReason; readonly count: number }[];
}

export const hybrid: TrafficPolicyModule<'hybrid', HybridSnapshot> = {
  kind: 'hybrid',
  answersByKey: true,
  targets: (policy) => [policy.target],
  arms: () => ['store', 'live', 'default'],
  compile: (policy, env) => {
    const serving = new HybridServing(env.endpoint, policy, { clock: env.clock, log: env.log, predictions: env.predictions });
    return {
      primaryTarget: () => policy.target,
      answer: async (request, context, io) => {
        const { response, source, parameters } = await serving.answer(request, context, io);
        return { response, variant: source, parameters: { ...response.parameters, ...parameters } };
      },
      snapshot: () => ({
        kind: 'hybrid',
        target: targetKey(policy.target),
        storedModel: policy.storedModel,
        key: policy.key,
        maxAgeMs: policy.maxAgeMs,
        hasDefault: policy.default !== undefined,
        answers: [...serving.counts].map(([k, count]) => {
          const [source, reason] = k.split(':') as [HybridSource | 'none', HybridReason];
          return { source, reason, count };
        }),
      }),
      close: () => {},
    };
  },
  report: (s) => {
    const bySource: Record<string, number> = { store: 0, live: 0, default: 0, none: 0 };
    for (const a of s.answers) bySource[a.source] = (bySource[a.source] ?? 0) + a.count;
    // The one place the key comes from, as configured ({parameter}, {header} or {input}).
    const key = Object.fromEntries(Object.entries(s.key).filter((e): e is [string, string] => typeof e[1] === 'string'));
    return { hybrid: { target: s.target, storedModel: s.storedModel, key, maxAgeMs: s.maxAgeMs, hasDefault: s.hasDefault, bySource, answers: s.answers.map((a) => ({ ...a })) } };
  },
};
