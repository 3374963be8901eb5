import { describe, expect, it } from 'vitest';
import type { PolicyOf } from './traffic-policy.ts';
import type { PredictionLookup, StoredPrediction } from '../stored-prediction.ts';
import { ManualClock } from '../../testing/manual-clock.ts';
import { policyEnv, requestContext, rowsRequest, scores, scriptedIo } from '../../testing/policy-kit.ts';
import { hybrid } from './hybrid.ts';

const target = { model: 'churn', version: 2 };
const policy: PolicyOf<'hybrid'> = { kind: 'hybrid', target, storedModel: 'churn', key: { parameter: 'customer_id' }, maxAgeMs: 100 };
const stored = (createdAtMs: number): StoredPrediction => ({ model: 'churn', key: 'c1', version: '2', outputs: [{ name: 'p', datatype: 'FP32', shape: [1], data: [0.25] }], jobId: 'job-1', createdAtMs });
const store = (byKey: Record<string, StoredPrediction>): PredictionLookup => ({
  lookup: (_model, keys) => Promise.resolve(new Map(keys.filter((k) => byKey[k] !== undefined).map((k) => [k, byKey[k]!]))),
});

describe('hybrid traffic policy', () => {
  it.each([
    // [stored at, request has inputs, source, reason]
    [950, false, 'store', 'fresh'],
    [850, true, 'live', 'stale'],
    [undefined, true, 'live', 'not_stored'],
  ] as const)('stored at %s, inputs %s: %s answers (%s)', async (createdAtMs, inputs, source, reason) => {
    const env = { ...policyEnv({ clock: new ManualClock(1000) }), predictions: store(createdAtMs === undefined ? {} : { c1: stored(createdAtMs) }) };
    const compiled = hybrid.compile(policy, env);
    const io = scriptedIo(() => scores('churn', [[0.5, 0.5]]));
    const request = { ...rowsRequest(1, { customer_id: 'c1' }), ...(inputs ? {} : { inputs: [] }) };
    const answer = await compiled.answer(request, requestContext(), io);
    expect(answer).toMatchObject({ variant: source, parameters: { sibyl_source: source, sibyl_source_reason: reason } });
    expect(io.calls).toHaveLength(source === 'live' ? 1 : 0);
    expect(io.counts).toEqual([{ arm: source, outcome: 'ok', judged: true }]);
    expect(compiled.snapshot().answers).toEqual([{ source, reason, count: 1 }]);
    expect(hybrid.report(compiled.snapshot())).toMatchObject({ hybrid: { target: 'churn:2', key: { parameter: 'customer_id' }, bySource: { store: 0, live: 0, default: 0, none: 0, [source]: 1 } } });
  });

  it('answers by key, so its requests may carry no inputs', () => {
    expect(hybrid.answersByKey).toBe(true);
    expect(hybrid.targets(policy)).toEqual([target]);
    expect(hybrid.arms(policy)).toEqual(['store', 'live', 'default']);
  });
});
