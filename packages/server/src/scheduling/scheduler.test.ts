// The scheduler and instance pool on fake instances and a manual clock: no sleeps, no threads.
import { describe, expect, it } from 'vitest';
import { SibylError, type Tensor } from '@sibyl/protocol';
import { FakeInstance, ManualClock } from '../testing/index.ts';
import { InstancePool } from './instance-pool.ts';
import { Scheduler, batchKeyOf, type ScheduledRequest, type SchedulerOptions } from './scheduler.ts';

/** Lets pending promise callbacks run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A request of `rows` rows of width 2 whose values encode (id, row), so answers can be traced. */
function request(id: number, rows = 1, width = 2): ScheduledRequest {
  const data = Float32Array.from({ length: rows * width }, (_, i) => id * 1000 + i);
  const inputs: Tensor[] = [{ name: 'x', datatype: 'FP32', shape: [rows, width], data }];
  return { inputs, outputNames: ['y'], rows, batchKey: batchKeyOf(inputs, ['y']) };
}

const values = (outputs: Tensor[]) => [...(outputs[0]!.data as Float32Array)];

function setup(count: number, over: Partial<SchedulerOptions> = {}, load?: (index: number) => Promise<FakeInstance>, executionsPerInstance = 1) {
  const clock = new ManualClock();
  const instances = Array.from({ length: count }, (_, i) => new FakeInstance(`m:1#${i}`));
  const events: string[] = [];
  const pool = InstancePool.fromInstances(instances, {
    clock,
    executionsPerInstance,
    load: load ?? (async (i) => new FakeInstance(`m:1#${i}-new`)),
    onEvent: (e) => events.push(`${e.kind} ${e.label}`),
  });
  const scheduler = new Scheduler(pool, { label: 'model m version 1', clock, maxBatchSize: 0, maxQueueDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 0, ...over });
  return { clock, instances, pool, events, scheduler };
}

describe('Scheduler without batching', () => {
  it('runs requests in arrival order, one at a time per instance', async () => {
    const { instances, scheduler } = setup(1);
    const answers = [1, 2, 3].map((n) => scheduler.submit(request(n)));
    expect(scheduler.queueDepth).toBe(2);
    for (const n of [1, 2, 3]) {
      expect(instances[0]!.current!.inputs[0]!.data[0]).toBe(n * 1000);
      instances[0]!.current!.finish();
      await flush();
    }
    expect((await Promise.all(answers)).map((o) => values(o)[0])).toEqual([1000, 2000, 3000]);
    expect(instances[0]!.maxOutstanding).toBe(1);
    expect(scheduler.pending).toBe(0);
  });

  it('uses every idle instance in parallel', async () => {
    const { instances, scheduler } = setup(2);
    const answers = [1, 2, 3].map((n) => scheduler.submit(request(n)));
    expect(instances.map((i) => i.executions.length)).toEqual([1, 1]);
    instances[1]!.current!.finish();
    await flush();
    expect(instances[1]!.executions.length).toBe(2); // the freed instance took the third request
    instances[0]!.current!.finish();
    instances[1]!.current!.finish();
    await expect(Promise.all(answers)).resolves.toHaveLength(3);
  });

  it('a request aborted while queued (the client went away) is removed and never run', async () => {
    const { instances, scheduler } = setup(1);
    const first = scheduler.submit(request(1));
    const controller = new AbortController();
    const second = scheduler.submit(request(2), { signal: controller.signal });
    controller.abort();
    await expect(second).rejects.toMatchObject({ reason: 'REQUEST_CANCELLED' });
    instances[0]!.current!.finish();
    await first;
    await flush();
    expect(instances[0]!.executions).toHaveLength(1);
    expect(scheduler.pending).toBe(0);
    expect(scheduler.statistics.fail.count).toBe(1);
  });

  it('passes a runtime failure to its request and keeps serving', async () => {
    const { instances, scheduler } = setup(1);
    const failing = scheduler.submit(request(1));
    const next = scheduler.submit(request(2));
    instances[0]!.current!.fail(new SibylError('RUNTIME_FAILED', 'boom'));
    await expect(failing).rejects.toMatchObject({ reason: 'RUNTIME_FAILED' });
    await flush();
    instances[0]!.current!.finish();
    await expect(next).resolves.toHaveLength(1);
  });

  it('after stop() takes no new requests but finishes the queued ones', async () => {
    const { instances, scheduler } = setup(1);
    const queued = [scheduler.submit(request(1)), scheduler.submit(request(2))];
    scheduler.stop();
    await expect(scheduler.submit(request(3))).rejects.toMatchObject({ reason: 'MODEL_NOT_READY' });
    let idle = false;
    void scheduler.whenIdle().then(() => (idle = true));
    instances[0]!.current!.finish();
    await flush();
    expect(idle).toBe(false);
    instances[0]!.current!.finish();
    await Promise.all(queued);
    await flush();
    expect(idle).toBe(true);
  });
});

describe('Scheduler backpressure, deadlines and priorities', () => {
  it('refuses a request beyond maxQueueSize with QUEUE_FULL and a retry delay', async () => {
    const { instances, scheduler } = setup(1, { maxQueueSize: 2 });
    const accepted = [1, 2, 3].map((n) => scheduler.submit(request(n))); // one runs, two queue
    const refused = scheduler.submit(request(4));
    await expect(refused).rejects.toMatchObject({ reason: 'QUEUE_FULL', code: 'RESOURCE_EXHAUSTED', httpStatus: 429 });
    await expect(refused).rejects.toHaveProperty('details.retryAfterSeconds', 1);
    for (let i = 0; i < 3; i++) {
      instances[0]!.current!.finish();
      await flush();
    }
    await expect(Promise.all(accepted)).resolves.toHaveLength(3);
  });

  it('a request whose deadline passes while queued fails with DEADLINE_EXCEEDED and is never run', async () => {
    const { instances, scheduler, clock } = setup(1);
    const running = scheduler.submit(request(1), { deadlineMs: 5 });
    // Answered while the test still advances the clock: handled here, asserted below.
    running.catch(() => undefined);
    const expiring = scheduler.submit(request(2), { deadlineMs: 10 });
    const patient = scheduler.submit(request(3), { deadlineMs: 100 });
    clock.advance(9.9);
    await flush();
    expect(scheduler.queueDepth).toBe(2);
    clock.advance(0.1);
    await expect(expiring).rejects.toMatchObject({ reason: 'DEADLINE_EXCEEDED', httpStatus: 504 });
    // The running request's deadline passed too: it was answered at its deadline while it ran
    // (a model that never returns must not hang its caller); its late result is dropped.
    await expect(running).rejects.toMatchObject({ reason: 'DEADLINE_EXCEEDED', httpStatus: 504 });
    instances[0]!.current!.finish();
    await flush();
    expect(instances[0]!.current!.inputs[0]!.data[0]).toBe(3000);
    instances[0]!.current!.finish();
    await patient;
    expect(instances[0]!.executions).toHaveLength(2);
    // The execution stops watching its deadlines when it ends, a few ticks after it answers.
    await flush();
    expect(clock.pendingTimers).toBe(0);
  });

  it('serves higher priorities (lower numbers) first, arrival order within a priority', async () => {
    const { instances, scheduler } = setup(1);
    const order: number[] = [];
    const submit = (id: number, priority: number) => scheduler.submit(request(id), { priority }).then(() => order.push(id));
    const all = [submit(1, 5), submit(2, 5), submit(3, 1), submit(4, 9), submit(5, 1)];
    for (let i = 0; i < 5; i++) {
      instances[0]!.current!.finish();
      await flush();
    }
    await Promise.all(all);
    expect(order).toEqual([1, 3, 5, 2, 4]); // 1 was already running
  });
});

describe('Scheduler with dynamic batching', () => {
  it('combines requests queued while the instance is busy into one execution, and splits the answer', async () => {
    const { instances, scheduler } = setup(1, { maxBatchSize: 8 });
    const first = scheduler.submit(request(1));
    const rest = [scheduler.submit(request(2, 2)), scheduler.submit(request(3)), scheduler.submit(request(4, 3))];
    instances[0]!.current!.finish();
    await first;
    await flush();
    const batch = instances[0]!.current!;
    expect(batch.inputs[0]!.shape).toEqual([6, 2]);
    batch.finish();
    const answers = await Promise.all(rest);
    expect(answers.map((a) => a[0]!.shape)).toEqual([
      [2, 2],
      [1, 2],
      [3, 2],
    ]);
    expect(values(answers[2]!)).toEqual([4000, 4001, 4002, 4003, 4004, 4005]);
    expect(scheduler.statistics.batchStatistics().map((b) => [b.batchSize, b.computeInfer.count])).toEqual([
      [1, 1],
      [6, 1],
    ]);
    expect(scheduler.statistics.inferenceCount).toBe(7);
    expect(scheduler.statistics.executionCount).toBe(2);
    expect(scheduler.statistics.success.count).toBe(4);
  });

  it('waits up to maxQueueDelayMs for a fuller batch, on the clock', async () => {
    const { instances, scheduler, clock } = setup(1, { maxBatchSize: 4, maxQueueDelayMs: 2 });
    const a = scheduler.submit(request(1));
    clock.advance(1);
    const b = scheduler.submit(request(2));
    expect(instances[0]!.executions).toHaveLength(0);
    clock.advance(0.999);
    expect(instances[0]!.executions).toHaveLength(0);
    clock.advance(0.001);
    expect(instances[0]!.current!.inputs[0]!.shape).toEqual([2, 2]);
    instances[0]!.current!.finish();
    expect((await Promise.all([a, b])).map((o) => values(o)[0])).toEqual([1000, 2000]);
    expect(scheduler.statistics.queue.ns).toBe(2e6 + 1e6); // 2 ms and 1 ms in the queue
  });

  it('a full batch does not wait for the delay', async () => {
    const { instances, scheduler } = setup(1, { maxBatchSize: 4, maxQueueDelayMs: 1000 });
    const answers = [scheduler.submit(request(1, 3)), scheduler.submit(request(2, 1))];
    expect(instances[0]!.current!.inputs[0]!.shape).toEqual([4, 2]);
    instances[0]!.current!.finish();
    await expect(Promise.all(answers)).resolves.toHaveLength(2);
  });

  it('never combines requests whose non-batch dimensions differ', async () => {
    const { instances, scheduler } = setup(1, { maxBatchSize: 8 });
    const busy = scheduler.submit(request(0));
    const narrow = scheduler.submit(request(1, 1, 2));
    const wide = scheduler.submit(request(2, 1, 3));
    const narrow2 = scheduler.submit(request(3, 1, 2));
    instances[0]!.current!.finish();
    await busy;
    await flush();
    expect(instances[0]!.current!.inputs[0]!.shape).toEqual([2, 2]);
    instances[0]!.current!.finish();
    await Promise.all([narrow, narrow2]);
    await flush();
    expect(instances[0]!.current!.inputs[0]!.shape).toEqual([1, 3]);
    instances[0]!.current!.finish();
    expect(values(await wide)).toEqual([2000, 2001, 2002]);
  });

  // Property: with random arrivals, sizes, widths, instance speeds and cancellations, every
  // request gets exactly its own rows, exactly once, and none is lost.
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])('random workload %i: no request receives another\'s rows; none lost or answered twice', async (seed) => {
    let state = seed * 2654435761;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const depth = 1 + Math.floor(random() * 2);
    const { instances, scheduler, clock } = setup(
      1 + Math.floor(random() * 3),
      {
        maxBatchSize: 1 + Math.floor(random() * 16),
        maxQueueDelayMs: random() < 0.5 ? 0 : random() * 3,
        preferredBatchSizes: random() < 0.5 ? [] : [4],
      },
      undefined,
      depth,
    );
    const outcomes = new Map<number, { rows: number; width: number; settled: number; values?: number[]; error?: string }>();
    for (let id = 1; id <= 200; id++) {
      if (random() < 0.5) clock.advance(random() * 2);
      const rows = 1 + Math.floor(random() * 5);
      const width = random() < 0.8 ? 2 : 3;
      const controller = new AbortController();
      const entry: { rows: number; width: number; settled: number; values?: number[]; error?: string } = { rows, width, settled: 0 };
      outcomes.set(id, entry);
      scheduler.submit(request(id, rows, width), { signal: controller.signal, deadlineMs: random() < 0.1 ? clock.now() + random() * 3 : undefined }).then(
        (out) => {
          entry.settled++;
          entry.values = values(out);
        },
        (err: SibylError) => {
          entry.settled++;
          entry.error = err.reason;
        },
      );
      if (random() < 0.05) controller.abort();
      // Instances answer at random moments.
      for (const instance of instances) if (instance.current !== undefined && random() < 0.6) instance.current.finish();
      await flush();
    }
    for (let round = 0; round < 1000 && scheduler.pending > 0; round++) {
      clock.advance(1);
      for (const instance of instances) instance.current?.finish();
      await flush();
    }
    expect(scheduler.pending).toBe(0);
    for (const [id, o] of outcomes) {
      expect(o.settled).toBe(1);
      if (o.error !== undefined) {
        expect(['REQUEST_CANCELLED', 'DEADLINE_EXCEEDED']).toContain(o.error);
        continue;
      }
      expect(o.values).toEqual(Array.from({ length: o.rows * o.width }, (_, i) => id * 1000 + i));
    }
    // Every row executed counts, including those of requests answered at their deadline while
    // their execution ran.
    const executed = instances.flatMap((i) => i.executions).reduce((sum, e) => sum + e.inputs[0]!.shape[0]!, 0);
    const answered = [...outcomes.values()].filter((o) => o.values !== undefined).reduce((sum, o) => sum + o.rows, 0);
    expect(scheduler.statistics.inferenceCount).toBe(executed);
    expect(answered).toBeLessThanOrEqual(executed);
    for (const instance of instances) expect(instance.maxOutstanding).toBeLessThanOrEqual(depth);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('InstancePool', () => {
  it('with two executions per instance, the next batch waits in the instance while the current one runs', async () => {
    const { instances, scheduler } = setup(1, { maxBatchSize: 8 }, undefined, 2);
    const first = scheduler.submit(request(1));
    const second = scheduler.submit(request(2));
    const third = scheduler.submit(request(3));
    expect(instances[0]!.outstanding).toBe(2); // request 1 running, request 2 in the inbox
    expect(scheduler.queueDepth).toBe(1);
    instances[0]!.current!.finish();
    await first;
    await flush();
    expect(instances[0]!.outstanding).toBe(2); // 2 runs, 3 took the freed place
    instances[0]!.current!.finish();
    instances[0]!.current!.finish();
    expect((await Promise.all([second, third])).map((o) => values(o)[0])).toEqual([2000, 3000]);
    expect(instances[0]!.maxOutstanding).toBe(2);
  });


  it('replaces an instance that crashes; its request fails with INSTANCE_CRASHED, the next one runs', async () => {
    const { instances, pool, scheduler, events } = setup(1);
    const doomed = scheduler.submit(request(1));
    const waiting = scheduler.submit(request(2));
    instances[0]!.crash('segfault');
    await expect(doomed).rejects.toMatchObject({ reason: 'INSTANCE_CRASHED' });
    await flush();
    expect(events).toEqual(['crashed m:1#0', 'replaced m:1#0-new']);
    expect(pool.size).toBe(1);
    const replacement = pool.instances()[0] as FakeInstance;
    expect(replacement.label).toBe('m:1#0-new');
    expect(replacement.current!.inputs[0]!.data[0]).toBe(2000);
    replacement.current!.finish();
    await expect(waiting).resolves.toHaveLength(1);
  });

  it('retries a failed replacement with backoff on the clock', async () => {
    let attempts = 0;
    const { instances, pool, clock, events } = setup(1, {}, async (i) => {
      attempts++;
      if (attempts < 3) throw new Error('out of memory');
      return new FakeInstance(`m:1#${i}-new`);
    });
    instances[0]!.crash();
    await flush();
    expect(attempts).toBe(1);
    expect(pool.size).toBe(0);
    clock.advance(499);
    await flush();
    expect(attempts).toBe(1);
    clock.advance(1);
    await flush();
    expect(attempts).toBe(2);
    clock.advance(1000); // doubled delay
    await flush();
    expect(attempts).toBe(3);
    expect(pool.size).toBe(1);
    expect(events.filter((e) => e.startsWith('replace-failed'))).toHaveLength(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('close() closes every instance and replaces none', async () => {
    const { instances, pool, events } = setup(2);
    await pool.close();
    expect(pool.size).toBe(0);
    await flush();
    expect(events).toEqual([]);
    await expect(instances[0]!.execute([], [])).rejects.toMatchObject({ reason: 'INSTANCE_CRASHED' });
  });
});
