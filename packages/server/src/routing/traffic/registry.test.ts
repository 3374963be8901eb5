import { describe, expect, it } from 'vitest';
import { compileEndpointConfig } from '../../config/endpoint-config.ts';
import { policyEnv } from '../../testing/policy-kit.ts';
import { compilePolicy, endpointTargets, trafficPolicyModule } from './registry.ts';

const m = (version: number): { model: string; version: number } => ({ model: 'm', version });

describe('traffic policy registry', () => {
  it.each([
    ['single', {}, [{ model: 'e' }]],
    ['single', { target: m(1), shadow: { target: m(9), fraction: 0.1 }, fallback: { target: m(8) } }, [m(1), m(9), m(8)]],
    ['split', { split: { arms: [{ name: 'a', weight: 1, ...m(1) }, { name: 'b', weight: 0, ...m(2) }] } }, [m(1), m(2)]],
    ['canary', { canary: { stable: m(1), candidate: m(2), stageDurationMs: 10 } }, [m(1), m(2)]],
    ['blueGreen', { blueGreen: { blue: m(1), green: m(2), active: 'green' } }, [m(1), m(2)]],
    ['cascade', { cascade: { stages: [{ ...m(1), threshold: 0.5 }, m(2)] } }, [m(1), m(2)]],
    ['hybrid', { hybrid: { target: { model: 'churn', version: 2 }, key: { header: 'X-Customer-Id' }, maxAgeMs: 1000 } }, [{ model: 'churn', version: 2 }]],
  ] as const)('a %s endpoint %j keeps %j loaded', (kind, document, targets) => {
    const config = compileEndpointConfig('e', document, 'sibyl.yaml');
    expect(config.policy.kind).toBe(kind);
    expect(endpointTargets(config)).toEqual(targets);
    // Every kind is registered under its own name, and compiles.
    expect(trafficPolicyModule(kind).kind).toBe(kind);
    const compiled = compilePolicy(config.policy, policyEnv());
    expect(compiled.snapshot().kind).toBe(kind);
    compiled.close();
  });
});
