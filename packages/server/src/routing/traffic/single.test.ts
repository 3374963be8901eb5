import { describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { policyEnv, requestContext, rowsRequest, scores, scriptedIo } from '../../testing/policy-kit.ts';
import { chooseSingle, single } from './single.ts';

const policy = { kind: 'single', target: { model: 'm', version: 2 } } as const;

describe('single traffic policy', () => {
  it('chooses its one target on the default arm', () => {
    expect(chooseSingle(policy)).toEqual({ arm: 'default', target: { model: 'm', version: 2 } });
    expect(single.targets(policy)).toEqual([{ model: 'm', version: 2 }]);
    expect(single.arms(policy)).toEqual(['default']);
  });

  it.each([
    ['an answer', () => scores('m', [[1, 0]]), 'ok'],
    ['a fallback answer for the target', () => ({ response: scores('default', [[0, 1]]), fallback: 'm:2 failed: boom', error: new Error('boom') }), 'server-error'],
  ] as const)('counts %s as %s, and marks a fallback', async (_, answer, outcome) => {
    const io = scriptedIo(answer);
    const compiled = single.compile(policy, policyEnv());
    const answered = await compiled.answer(rowsRequest(1), requestContext(), io);
    expect(io.counts).toEqual([{ arm: 'default', outcome, judged: true }]);
    expect(answered.variant).toBe('default');
    expect(answered.parameters.sibyl_fallback).toBe(outcome === 'ok' ? undefined : true);
    expect(compiled.primaryTarget()).toEqual(policy.target);
    expect(single.report(compiled.snapshot())).toBeUndefined();
  });

  it.each([
    ['INPUT_DATA_MISMATCH', 'client-error'],
    ['RUNTIME_FAILED', 'server-error'],
  ] as const)('a target that throws %s is counted as %s and the error goes to the caller', async (reason, outcome) => {
    const io = scriptedIo(() => {
      throw new SibylError(reason, 'no');
    });
    await expect(single.compile(policy, policyEnv()).answer(rowsRequest(1), requestContext(), io)).rejects.toMatchObject({ reason });
    expect(io.counts).toEqual([{ arm: 'default', outcome, judged: true }]);
  });

  it('copies the inputs for a fallback model only when the endpoint has one', async () => {
    for (const needsCopy of [false, true]) {
      const io = scriptedIo(() => scores('m', [[1, 0]]), needsCopy);
      await single.compile(policy, policyEnv()).answer(rowsRequest(1), requestContext(), io);
      expect(io.calls[0]!.spare === undefined).toBe(!needsCopy);
    }
  });
});
