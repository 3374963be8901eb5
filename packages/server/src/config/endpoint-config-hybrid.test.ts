// The hybrid policy's configuration: compiled with its defaults, and every cross-field rule named.
import { describe, expect, it } from 'vitest';
import { compileEndpointConfig } from './endpoint-config.ts';
import { ConfigError } from './validate.ts';

const problems = (document: unknown): string => {
  try {
    compileEndpointConfig('scores', document, 'sibyl.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('hybrid endpoint config', () => {
  it('compiles, reading stored predictions under the target model unless storedModel says otherwise', () => {
    const c = compileEndpointConfig('scores', { hybrid: { target: { model: 'churn', version: 2 }, key: { header: 'X-Customer-Id' }, maxAgeMs: 1000 } }, 'sibyl.yaml');
    expect(c.policy).toEqual({ kind: 'hybrid', target: { model: 'churn', version: 2 }, storedModel: 'churn', key: { header: 'x-customer-id' }, maxAgeMs: 1000 });
    // Its targets: routing/traffic/registry.test.ts.
    const d = compileEndpointConfig(
      'scores',
      { hybrid: { target: { model: 'churn' }, storedModel: 'churn-nightly', key: { input: 'customer_id' }, maxAgeMs: 5, default: { outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 1], data: [0.01] }] } } },
      'sibyl.yaml',
    );
    expect(d.policy).toMatchObject({ storedModel: 'churn-nightly', key: { input: 'customer_id' }, default: [{ name: 'p', datatype: 'FP32', shape: [1, 1], data: [0.01] }] });
  });

  it('names what is wrong', () => {
    const target = { model: 'churn' };
    expect(problems({ hybrid: { target, key: {}, maxAgeMs: 5 } })).toContain('hybrid.key: sets none; expected exactly one of parameter, header or input');
    expect(problems({ hybrid: { target, key: { parameter: 'id', header: 'x-id' }, maxAgeMs: 5 } })).toContain('hybrid.key: sets parameter and header; expected exactly one of parameter, header or input');
    expect(problems({ hybrid: { target, key: { parameter: 'id' }, maxAgeMs: 0 } })).toContain('hybrid.maxAgeMs');
    expect(problems({ hybrid: { target, key: { parameter: 'id' } } })).toContain('maxAgeMs');
    expect(problems({ hybrid: { target, key: { parameter: 'id' }, maxAgeMs: 5 }, target })).toContain('sets target and hybrid; an endpoint has one traffic policy');
    expect(problems({ hybrid: { target, key: { parameter: 'id' }, maxAgeMs: 5 }, shadow: { target, fraction: 1 } })).toContain('shadow: does not apply to a hybrid endpoint');
    expect(problems({ hybrid: { target, key: { parameter: 'id' }, maxAgeMs: 5, default: { outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 2], data: [0.5] }] } } })).toMatch(
      /hybrid\.default\.outputs: is not a valid answer: .*shape \[1,2\]/,
    );
  });
});
