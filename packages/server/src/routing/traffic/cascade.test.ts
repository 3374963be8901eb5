import { describe, expect, it } from 'vitest';
import type { Tensor } from '@sibyl/protocol';
import type { PolicyOf } from './traffic-policy.ts';
import { policyEnv, requestContext, rowsRequest, scores, scriptedIo } from '../../testing/policy-kit.ts';
import { cascade, cascadeRows } from './cascade.ts';

const small = { model: 'small' };
const large = { model: 'large', version: 3 };
const policy: PolicyOf<'cascade'> = { kind: 'cascade', stages: [{ target: small, threshold: 0.9 }, { target: large }] };
const t = (shape: number[]): Tensor => ({ name: 'x', datatype: 'FP32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

describe('cascade traffic policy', () => {
  it.each([
    [[t([3, 2])], true, [0, 1, 2]],
    [[t([2, 2]), t([2])], true, [0, 1]],
    [[t([2, 2]), t([3, 2])], false, [0]], // inputs that disagree on rows go as a whole
    [[t([])], false, [0]], // a scalar has no rows
    [[], false, [0]],
  ])('rows of %j: batched %s, rows %j', (inputs, batched, rows) => {
    expect(cascadeRows(inputs)).toEqual({ batched, rows });
  });

  it.each([
    // [first stage's scores per row, rows the second stage gets, answering stage, escalated rows]
    [[[0.95, 0.05], [0.99, 0.01]], 0, 1, undefined],
    [[[0.95, 0.05], [0.6, 0.4]], 1, 2, 1],
    [[[0.5, 0.5], [0.6, 0.4]], 2, 2, 2],
  ])('first stage %j: %s rows go on; stage %s answers', async (first, escalated, stage, escalatedRows) => {
    const compiled = cascade.compile(policy, policyEnv());
    const io = scriptedIo((target, request) => (target === small ? scores('small', first) : scores('large', Array.from({ length: request.inputs[0]!.shape[0]! }, () => [0, 1]))));
    const context = requestContext();
    const answer = await compiled.answer(rowsRequest(2), context, io);
    expect(answer.variant).toBe(`stage-${stage}`);
    expect(answer.parameters.sibyl_cascade_stage).toBe(stage);
    expect(answer.parameters.sibyl_cascade_escalated_rows).toBe(escalatedRows);
    expect(io.calls.map((c) => c.request.inputs[0]!.shape[0])).toEqual(escalated === 0 ? [2] : [2, escalated]);
    expect(io.calls.every((c) => c.context === context)).toBe(true);
    expect(io.counts.map((c) => `${c.arm}:${c.outcome}`)).toEqual(escalated === 0 ? ['stage-1:ok'] : ['stage-1:ok', 'stage-2:ok']);
    // Rows the second stage answered replace the first stage's.
    const expected = first.flatMap((row) => (Math.max(...row) >= 0.9 ? row : [0, 1]));
    expect(Array.from(answer.response.outputs[0]!.data as Float32Array)).toEqual(expected.map(Math.fround));
    expect(compiled.snapshot().stages).toEqual([
      { target: 'small', threshold: 0.9, rowsIn: 2, answered: 2 - escalated },
      { target: 'large:3', threshold: null, rowsIn: escalated, answered: escalated },
    ]);
  });

  it('targets, arms and the report follow the stages', () => {
    expect(cascade.targets(policy)).toEqual([small, large]);
    expect(cascade.arms(policy)).toEqual(['stage-1', 'stage-2']);
    const compiled = cascade.compile(policy, policyEnv());
    expect(compiled.primaryTarget()).toEqual(small);
    expect(cascade.report(compiled.snapshot())).toEqual({ cascade: { stages: compiled.snapshot().stages } });
  });
});
