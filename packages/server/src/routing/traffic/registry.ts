// Every traffic policy kind, by the name its config compiles to. A new kind is its own file in
// this folder, one line here, and its section of the endpoint config schema.
import type { EndpointConfig, Target, TrafficPolicy } from '../../config/endpoint-config.ts';
import { blueGreen } from './blue-green.ts';
import { canary } from './canary.ts';
import { cascade } from './cascade.ts';
import { hybrid } from './hybrid.ts';
import { single } from './single.ts';
import { split } from './split.ts';
import type { CompiledPolicy, PolicyEnv, TrafficPolicyModule } from './traffic-policy.ts';

type Kind = TrafficPolicy['kind'];

const TRAFFIC_POLICIES = { single, split, canary, blueGreen, cascade, hybrid } as const satisfies { readonly [K in Kind]: { readonly kind: K } };

type Modules = typeof TRAFFIC_POLICIES;

/** The snapshot of a compiled policy of any kind, discriminated by `kind`. */
export type PolicySnapshot = { [K in Kind]: ReturnType<ReturnType<Modules[K]['compile']>['snapshot']> }[Kind];

/** The module of a policy's kind, typed for a policy of any kind (the registry pairs each kind with its module). */
export function trafficPolicyModule(kind: Kind): TrafficPolicyModule<Kind, PolicySnapshot> {
  return TRAFFIC_POLICIES[kind] as unknown as TrafficPolicyModule<Kind, PolicySnapshot>;
}

/** Compiles an endpoint's policy for run time. */
export function compilePolicy(policy: TrafficPolicy, env: PolicyEnv): CompiledPolicy<PolicySnapshot> {
  return trafficPolicyModule(policy.kind).compile(policy as never, env);
}

/** The arms of a policy in report order (the first is the control). */
export function policyArms(policy: TrafficPolicy): readonly string[] {
  return trafficPolicyModule(policy.kind).arms(policy as never);
}

/** Every model version an endpoint may send requests to (to keep them loaded): its policy's, its shadow's, its fallback's. */
export function endpointTargets(config: EndpointConfig): Target[] {
  const p = config.policy;
  return [...trafficPolicyModule(p.kind).targets(p as never), ...(config.shadow === undefined ? [] : [config.shadow.target]), ...(config.fallback?.target === undefined ? [] : [config.fallback.target])];
}
