import { describe, expect, it } from 'vitest';
import { analyseCanary, applyCanaryDecision, breach, candidateShare, type ArmWindow, type CanaryPlan, type CanaryState } from './canary.ts';

const plan: CanaryPlan = { stages: [5, 25, 50, 100], stageDurationMs: 60_000, analysis: { minSamples: 100, maxErrorRateIncrease: 0.01, maxP99Ratio: 1.5 } };
const running = (stage: number, stageStartedMs = 0): CanaryState => ({ status: 'running', stage, stageStartedMs, history: [] });
const arm = (requests: number, errors: number, p99Ms?: number): ArmWindow => ({ requests, errors, p99Ms });

describe('canary', () => {
  it('gives the candidate its stage’s share; all after promotion, none after rollback', () => {
    expect(candidateShare(plan, running(0))).toBe(0.05);
    expect(candidateShare(plan, running(2))).toBe(0.5);
    expect(candidateShare(plan, { ...running(3), status: 'promoted' })).toBe(1);
    expect(candidateShare(plan, { ...running(1), status: 'rolled-back' })).toBe(0);
    expect(candidateShare(plan, { ...running(1), status: 'paused' })).toBe(0.25);
  });

  const table: { name: string; state: CanaryState; now: number; stable: ArmWindow; candidate: ArmWindow; expected: { kind: string; stage?: number; reason?: string } }[] = [
    { name: 'holds during a stage', state: running(0), now: 30_000, stable: arm(1000, 0, 10), candidate: arm(120, 0, 11), expected: { kind: 'hold' } },
    { name: 'advances after a healthy stage', state: running(0), now: 60_000, stable: arm(1000, 1, 10), candidate: arm(120, 0, 11), expected: { kind: 'advance', stage: 1 } },
    { name: 'promotes after the last stage', state: running(3), now: 60_000, stable: arm(0, 0), candidate: arm(500, 0, 12), expected: { kind: 'promote' } },
    {
      name: 'waits for the minimum sample even after the duration',
      state: running(0),
      now: 90_000,
      stable: arm(1000, 0, 10),
      candidate: arm(40, 0, 10),
      expected: { kind: 'hold', reason: 'stage 1 (5%) waits for 100 candidate requests; it has 40' },
    },
    { name: 'does not judge errors below the minimum sample', state: running(0), now: 1000, stable: arm(1000, 0, 10), candidate: arm(50, 50, 10), expected: { kind: 'hold' } },
    {
      name: 'rolls back at once on an error rate above the stable arm’s',
      state: running(1),
      now: 1000,
      stable: arm(1000, 5, 10),
      candidate: arm(200, 10, 10),
      expected: { kind: 'rollback', reason: "candidate error rate 5.00% over 200 requests exceeds the stable arm's 0.50% by more than maxErrorRateIncrease 1.00%" },
    },
    {
      name: 'rolls back on a p99 far above the stable arm’s',
      state: running(1),
      now: 1000,
      stable: arm(1000, 0, 10),
      candidate: arm(200, 0, 16),
      expected: { kind: 'rollback', reason: "candidate p99 latency 16.0 ms is more than 1.5× the stable arm's 10.0 ms (maxP99Ratio)" },
    },
    { name: 'a paused canary holds', state: { ...running(1), status: 'paused' }, now: 1e9, stable: arm(1000, 0, 10), candidate: arm(1000, 900, 10), expected: { kind: 'hold' } },
  ];
  for (const row of table) {
    it(row.name, () => expect(analyseCanary(plan, row.state, row.now, row.stable, row.candidate)).toMatchObject(row.expected));
  }

  it('absolute limits', () => {
    const limits = { minSamples: 10, maxErrorRate: 0.1, maxP99Ms: 50 };
    expect(breach(limits, arm(0, 0), arm(10, 2, 5))).toBe('candidate error rate 20.00% over 10 requests exceeds maxErrorRate 10.00%');
    expect(breach(limits, arm(0, 0), arm(10, 0, 51))).toBe('candidate p99 latency 51.0 ms over 10 requests exceeds maxP99Ms 50 ms');
    expect(breach(limits, arm(0, 0), arm(10, 1, 49))).toBeUndefined();
  });

  it('records every transition with its reason', () => {
    let state = running(0);
    state = applyCanaryDecision(plan, state, { kind: 'advance', stage: 1, reason: 'healthy' }, 60_000);
    state = applyCanaryDecision(plan, state, { kind: 'hold', reason: 'x' }, 61_000);
    state = applyCanaryDecision(plan, state, { kind: 'rollback', reason: 'errors' }, 62_000);
    expect(state).toEqual({
      status: 'rolled-back',
      stage: 1,
      stageStartedMs: 62_000,
      history: [
        { atMs: 60_000, from: 'stage 1 (5%)', to: 'stage 2 (25%)', reason: 'healthy' },
        { atMs: 62_000, from: 'stage 2 (25%)', to: 'rolled-back', reason: 'errors' },
      ],
    });
  });
});
