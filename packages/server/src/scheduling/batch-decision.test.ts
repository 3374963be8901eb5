// decideBatch as a table: one row per scenario, with the queue, the policy, the time and the
// expected decision.
import { describe, expect, it } from 'vitest';
import { decideBatch, type BatchDecision, type BatchingPolicy, type QueuedView } from './batch-decision.ts';

const q = (rows: number, enqueuedAtMs = 0, batchKey = 'k'): QueuedView => ({ rows, enqueuedAtMs, batchKey });
const policy = (over: Partial<BatchingPolicy> = {}): BatchingPolicy => ({ maxBatchSize: 8, maxQueueDelayMs: 0, preferredBatchSizes: [], ...over });

const table: [string, QueuedView[], BatchingPolicy, number, BatchDecision][] = [
  ['empty queue', [], policy(), 0, { kind: 'empty' }],
  ['no delay: everything compatible goes at once', [q(1), q(2), q(1)], policy(), 0, { kind: 'dispatch', take: [0, 1, 2], rows: 4 }],
  ['a model that does not batch runs the head alone', [q(1), q(1)], policy({ maxBatchSize: 0 }), 0, { kind: 'dispatch', take: [0], rows: 1 }],
  ['a full batch goes before the delay', [q(4), q(4), q(1)], policy({ maxQueueDelayMs: 5 }), 0, { kind: 'dispatch', take: [0, 1], rows: 8 }],
  ['within the delay, a partial batch waits for the head\'s deadline', [q(2, 10), q(1, 11)], policy({ maxQueueDelayMs: 2.5 }), 11, { kind: 'wait', untilMs: 12.5 }],
  ['once the head has waited the delay, the partial batch goes', [q(2, 10), q(1, 11)], policy({ maxQueueDelayMs: 2.5 }), 12.5, { kind: 'dispatch', take: [0, 1], rows: 3 }],
  ['incompatible requests are skipped, not combined', [q(1, 0, 'a'), q(1, 0, 'b'), q(1, 0, 'a')], policy(), 0, { kind: 'dispatch', take: [0, 2], rows: 2 }],
  ['a request that does not fit is skipped; a later one that fits joins', [q(5), q(4), q(3)], policy(), 0, { kind: 'dispatch', take: [0, 2], rows: 8 }],
  ['a request larger than maxBatchSize runs alone', [q(20), q(1)], policy(), 0, { kind: 'dispatch', take: [0], rows: 20 }],
  ['a preferred size reached exactly goes before the delay', [q(2), q(2), q(1)], policy({ maxQueueDelayMs: 5, preferredBatchSizes: [4] }), 0, { kind: 'dispatch', take: [0, 1], rows: 4 }],
  ['the largest preferred size a prefix reaches wins', [q(2), q(2), q(2), q(1)], policy({ maxQueueDelayMs: 5, preferredBatchSizes: [2, 6] }), 0, { kind: 'dispatch', take: [0, 1, 2], rows: 6 }],
  ['a request marked alone goes at once, by itself', [{ ...q(1), alone: true }, q(1)], policy({ maxQueueDelayMs: 5 }), 0, { kind: 'dispatch', take: [0], rows: 1 }],
  ['a request marked alone joins no batch', [q(1), { ...q(1), alone: true }, q(2)], policy(), 0, { kind: 'dispatch', take: [0, 2], rows: 3 }],
  ['no prefix reaches a preferred size: wait', [q(3), q(3)], policy({ maxQueueDelayMs: 5, preferredBatchSizes: [4] }), 1, { kind: 'wait', untilMs: 5 }],
];

describe('decideBatch', () => {
  it.each(table)('%s', (_name, queue, p, now, expected) => {
    expect(decideBatch(queue, p, now)).toEqual(expected);
  });
});
