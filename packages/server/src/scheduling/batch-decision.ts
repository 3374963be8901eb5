// "Dispatch now, or wait how long": the dynamic batcher's decision as a pure function of the queue
// snapshot, the batching policy and the time. All of the batching logic lives here, so it is
// tested as a table with no clock, threads or runtime.

/** What the decision needs to know of one queued request. */
export interface QueuedView {
  /** Rows the request carries (its batch dimension); 1 for models that do not batch. */
  rows: number;
  /** Requests combine only when their keys are equal (same non-batch dimensions, datatypes, outputs). */
  batchKey: string;
  /** Clock time the request entered the queue, in ms. */
  enqueuedAtMs: number;
  /**
   * Runs in an execution of its own, at once: a request retried after the instance running its
   * batch died (one of its batch may have killed it). Absent: false.
   */
  alone?: boolean;
}

export interface BatchingPolicy {
  /** Most rows one execution may carry; 0: the model does not batch (each request runs alone). */
  maxBatchSize: number;
  /** How long the oldest request may wait for a fuller batch, in ms (fractional); 0: never wait. */
  maxQueueDelayMs: number;
  /** Batch sizes to dispatch at once when reached exactly, ascending. */
  preferredBatchSizes: readonly number[];
}

export type BatchDecision =
  | { kind: 'empty' }
  /** Run these queue positions (ascending) as one batch now. */
  | { kind: 'dispatch'; take: number[]; rows: number }
  /** Nothing to run yet: decide again at `untilMs` (or when the queue changes). */
  | { kind: 'wait'; untilMs: number };

/**
 * The queue is in service order (priority, then arrival). The head request always goes in the
 * next batch; later requests with the same batch key join it, in order, while they fit in
 * maxBatchSize (a request that does not fit is skipped, not split). The batch goes now when it
 * is full, when it reaches a preferred size, or when the head has waited maxQueueDelayMs;
 * otherwise the batcher waits until the head's delay runs out. A request with more rows than
 * maxBatchSize runs alone. A model that does not batch runs each request alone. A request marked
 * `alone` neither waits nor combines.
 */
export function decideBatch(queue: readonly QueuedView[], policy: BatchingPolicy, nowMs: number): BatchDecision {
  const head = queue[0];
  if (head === undefined) return { kind: 'empty' };
  if (policy.maxBatchSize <= 0 || head.rows >= policy.maxBatchSize || head.alone === true) return { kind: 'dispatch', take: [0], rows: head.rows };

  const take = [0];
  let rows = head.rows;
  for (let i = 1; i < queue.length && rows < policy.maxBatchSize; i++) {
    const item = queue[i]!;
    if (item.batchKey === head.batchKey && item.alone !== true && rows + item.rows <= policy.maxBatchSize) {
      take.push(i);
      rows += item.rows;
    }
  }
  if (rows === policy.maxBatchSize) return { kind: 'dispatch', take, rows };

  // The largest preferred size that a prefix of the gathered requests reaches exactly.
  if (policy.preferredBatchSizes.length > 0) {
    let cumulative = 0;
    let best = -1;
    for (let k = 0; k < take.length; k++) {
      cumulative += queue[take[k]!]!.rows;
      if (policy.preferredBatchSizes.includes(cumulative)) best = k;
    }
    if (best >= 0) {
      const prefix = take.slice(0, best + 1);
      return { kind: 'dispatch', take: prefix, rows: prefix.reduce((sum, i) => sum + queue[i]!.rows, 0) };
    }
  }

  const untilMs = head.enqueuedAtMs + policy.maxQueueDelayMs;
  if (nowMs >= untilMs) return { kind: 'dispatch', take, rows };
  return { kind: 'wait', untilMs };
}
