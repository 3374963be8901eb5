// Jobs in the server keep at most as many requests in flight as the target has instances (or the
// job's own lower concurrency), so online requests never queue behind a whole job; and while
// online requests arrive, jobs are paced to a share of the time.
import type { InferRequest, InferResponse } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import type { BatchScorer, ScorerSignature } from './batch-scorer.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { OnlineActivity, OnlineFirstGate, boundedScorer } from './server-job-runner.ts';

function countingScorer(instanceCount: number) {
  let inFlight = 0;
  let most = 0;
  const pending: (() => void)[] = [];
  const signature: ScorerSignature = { inputs: [], outputs: [], maxBatchSize: 8, instanceCount };
  const scorer: BatchScorer = {
    signature: async () => signature,
    infer: () =>
      new Promise<InferResponse>((resolve) => {
        inFlight++;
        most = Math.max(most, inFlight);
        pending.push(() => {
          inFlight--;
          resolve({ outputs: [] } as unknown as InferResponse);
        });
      }),
  };
  return { scorer, pending, most: () => most, inFlight: () => inFlight };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const request = { inputs: [] } as unknown as InferRequest;

describe('boundedScorer', () => {
  it('holds requests beyond the limit until earlier ones answer, in order', async () => {
    const inner = countingScorer(2);
    const bounded = boundedScorer(inner.scorer, (s) => Math.max(1, s.instanceCount));
    const answers = Array.from({ length: 7 }, () => bounded.infer(request));
    await flush();
    expect(inner.inFlight()).toBe(2);
    while (inner.pending.length > 0) {
      inner.pending.shift()!();
      await flush();
      expect(inner.inFlight()).toBeLessThanOrEqual(2);
    }
    await Promise.all(answers);
    expect(inner.most()).toBe(2);
    expect(inner.inFlight()).toBe(0);
  });

  it("takes the job's lower concurrency, and at least one request", async () => {
    for (const [instances, concurrency, expected] of [
      [4, 1, 1],
      [0, undefined, 1],
      [3, 8, 3],
    ] as const) {
      const inner = countingScorer(instances);
      const bounded = boundedScorer(inner.scorer, (s) => Math.min(concurrency ?? Number.POSITIVE_INFINITY, Math.max(1, s.instanceCount)));
      const answers = Array.from({ length: 6 }, () => bounded.infer(request));
      await flush();
      expect(inner.inFlight()).toBe(expected);
      while (inner.pending.length > 0) {
        inner.pending.shift()!();
        await flush();
      }
      await Promise.all(answers);
      expect(inner.most()).toBe(expected);
    }
  });
});

describe('OnlineFirstGate', () => {
  it('paces batch requests to a quarter of the time while online requests arrive, and not at all otherwise', async () => {
    const clock = new ManualClock(10_000);
    const activity = new OnlineActivity();
    const gate = new OnlineFirstGate(activity, clock);
    const passes: number[] = [];
    const pass = async (): Promise<void> => {
      const p = gate.run(async () => void passes.push(clock.now()));
      await flush();
      return p;
    };
    // No online traffic: no waiting, however busy the job is.
    await pass();
    clock.advance(40);
    await pass();
    expect(passes).toEqual([10_000, 10_040]);
    // Online traffic now: 40 ms of job work since the last pass → 120 ms of waiting.
    activity.touch(clock.now());
    clock.advance(40);
    const waiting = pass();
    expect(passes).toHaveLength(2);
    clock.advance(119);
    await flush();
    expect(passes).toHaveLength(2);
    clock.advance(1);
    await waiting;
    expect(passes.at(-1)).toBe(10_080 + 120);
    // The wait is not counted as work: 10 ms of work → 30 ms of waiting.
    activity.touch(clock.now());
    clock.advance(10);
    const next = pass();
    clock.advance(30);
    await next;
    expect(passes.at(-1)).toBe(10_200 + 10 + 30);
    // A second after the last online request, full speed again.
    clock.advance(1000);
    await pass();
    expect(passes.at(-1)).toBe(10_240 + 1000);
    expect(clock.pendingTimers).toBe(0);
  });
});
