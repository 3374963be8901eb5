// `blueGreen`: two targets loaded, all traffic to the active colour; an operator switches
// atomically (the colour switched to persists across restarts).
import { targetKey } from '../target.ts';
import { answerOne } from './answer-one.ts';
import type { Choice, PolicyOf, TrafficPolicyModule } from './traffic-policy.ts';

type Colour = 'blue' | 'green';

export interface BlueGreenSnapshot {
  readonly kind: 'blueGreen';
  readonly active: Colour;
  /** targetKey of each colour. */
  readonly blue: string;
  readonly green: string;
}

/** The active colour's arm and target. Pure. */
export function chooseBlueGreen(policy: PolicyOf<'blueGreen'>, active: Colour): Choice {
  return { arm: active, target: active === 'blue' ? policy.blue : policy.green };
}

export const blueGreen: TrafficPolicyModule<'blueGreen', BlueGreenSnapshot> = {
  kind: 'blueGreen',
  answersByKey: false,
  targets: (policy) => [policy.blue, policy.green],
  arms: () => ['blue', 'green'],
  compile: (policy, env) => {
    let switched = env.state.active;
    const active = (): Colour => switched ?? policy.active;
    return {
      primaryTarget: () => chooseBlueGreen(policy, active()).target,
      answer: (request, context, io) => answerOne(chooseBlueGreen(policy, active()), request, context, io),
      snapshot: () => ({ kind: 'blueGreen', active: active(), blue: targetKey(policy.blue), green: targetKey(policy.green) }),
      switchTo: (colour) => {
        const to = colour ?? (active() === 'blue' ? 'green' : 'blue');
        switched = to;
        env.saveState({ ...env.state, active: to });
        env.log.info({ endpoint: env.endpoint }, `endpoint ${env.endpoint}: switched to ${to}`);
        return to;
      },
      close: () => {},
    };
  },
  report: (s) => ({ blueGreen: { active: s.active, blue: s.blue, green: s.green } }),
};

