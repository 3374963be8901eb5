import { describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import type { CanaryState } from '../policies/canary.ts';
import type { PolicyOf } from './traffic-policy.ts';
import { policyEnv, requestContext, rowsRequest, scores, scriptedIo } from '../../testing/policy-kit.ts';
import { canary, chooseCanary, retriesOnStable, startingCanary } from './canary.ts';

const stable = { model: 'm', label: 'stable' };
const candidate = { model: 'm', version: 2 };
const policy: PolicyOf<'canary'> = { kind: 'canary', stable, candidate, stages: [0, 10, 100], stageDurationMs: 1000, analysis: { minSamples: 3, maxErrorRate: 0.5 }, retryOnStable: true };
const at = (stage: number, status: CanaryState['status'] = 'running'): CanaryState => ({ status, stage, stageStartedMs: 0, history: [] });

describe('canary traffic policy', () => {
  it.each([
    // [state, random draw, arm]
    [at(0), 0.99, 'stable'], // 0%
    [at(1), 0.89, 'stable'], // 10%: the candidate takes the top tenth of the draws
    [at(1), 0.91, 'candidate'],
    [at(2), 0, 'candidate'], // 100%
    [at(1, 'promoted'), 0, 'candidate'],
    [at(1, 'rolled-back'), 0.99, 'stable'],
    [at(1, 'paused'), 0.91, 'candidate'], // a paused canary keeps its share
  ] as const)('%j with random %s: %s', (state, draw, arm) => {
    expect(chooseCanary(policy, state, undefined, () => draw)).toEqual({ arm, target: arm === 'stable' ? stable : candidate });
  });

  it.each([
    [policy, at(1), 'candidate', true],
    [policy, at(1), 'stable', false],
    [policy, at(2), 'candidate', false], // nothing to retry on at 100%
    [{ ...policy, retryOnStable: false }, at(1), 'candidate', false],
  ] as const)('retries on stable: %#', (p, state, arm, retries) => {
    expect(retriesOnStable(p, state, arm)).toBe(retries);
  });

  it('a candidate that fails is answered by the stable arm; only the candidate\'s failure is judged', async () => {
    const env = policyEnv({ state: { canary: at(1) }, draws: [0.95] });
    const compiled = canary.compile(policy, env);
    const io = scriptedIo((t) => {
      if (t.version === 2) throw new SibylError('RUNTIME_FAILED', 'candidate broke');
      return scores('stable', [[1, 0]]);
    });
    const context = requestContext();
    const answer = await compiled.answer(rowsRequest(1), context, io);
    expect(answer.variant).toBe('stable');
    expect(answer.parameters.sibyl_retried_from).toBe('candidate');
    expect(io.counts).toEqual([
      { arm: 'candidate', outcome: 'server-error', judged: true },
      { arm: 'stable', outcome: 'ok', judged: false },
    ]);
    expect(io.calls.map((c) => c.context)).toEqual([context, context]);
    compiled.close();
  });

  it('a breach rolls back at once, saves the state and stops the analysis timer', () => {
    const env = policyEnv({ state: { canary: at(1) } });
    const compiled = canary.compile(policy, env);
    expect(env.clock.pendingTimers).toBe(1);
    for (let i = 0; i < 3; i++) compiled.observe!('candidate', 'server-error', 0);
    expect(compiled.snapshot().state.status).toBe('rolled-back');
    expect(env.saved.at(-1)!.canary!.status).toBe('rolled-back');
    expect(env.clock.pendingTimers).toBe(0);
    expect(compiled.primaryTarget()).toEqual(stable);
  });

  it('advances on the clock after a healthy stage, and is promoted after the last', () => {
    const env = policyEnv({ state: { canary: at(1) } });
    const compiled = canary.compile(policy, env);
    for (let i = 0; i < 3; i++) compiled.observe!('candidate', 'ok', 1);
    env.clock.advance(1000);
    expect(compiled.snapshot().state.stage).toBe(2);
    for (let i = 0; i < 3; i++) compiled.observe!('candidate', 'ok', 1);
    env.clock.advance(1000);
    expect(compiled.snapshot()).toMatchObject({ state: { status: 'promoted' }, candidateShare: 1 });
    expect(compiled.primaryTarget()).toEqual(candidate);
    expect(env.clock.pendingTimers).toBe(0);
  });

  it('operator actions pause and resume, and refuse an ended canary', () => {
    const env = policyEnv();
    const compiled = canary.compile(policy, env);
    expect(compiled.snapshot().state).toEqual(startingCanary(1000));
    expect(compiled.canaryAction!('pause', 'look').status).toBe('paused');
    expect(env.clock.pendingTimers).toBe(0);
    expect(compiled.canaryAction!('resume', 'go').status).toBe('running');
    expect(env.clock.pendingTimers).toBe(1);
    expect(compiled.canaryAction!('rollback', 'no').status).toBe('rolled-back');
    expect(() => compiled.canaryAction!('resume', 'again')).toThrow(/has ended \(rolled-back\)/);
    expect(env.saved.map((s) => s.canary!.status)).toEqual(['paused', 'running', 'rolled-back']);
    const report = canary.report(compiled.snapshot()) as { canary: { stage: number; history: unknown[]; stable: string } };
    expect(report.canary).toMatchObject({ stage: 1, stable: 'm@stable', candidate: 'm:2', stageStartedAt: new Date(1000).toISOString() });
    expect(report.canary.history).toHaveLength(3);
  });
});
