// Jobs in the server keep at most as many requests in flight as the target has instances (or the
// job's own lower concurrency), so online requests never queue behind a whole job.
import type { InferRequest, InferResponse } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import type { BatchScorer, ScorerSignature } from './batch-scorer.ts';
import { boundedScorer } from './server-job-runner.ts';

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
