// The scheduler and instance pool on fake instances and a manual clock: no sleeps, no threads.
import { describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { FakeInstance, ManualClock, fakeTensor } from '../testing/index.ts';
import { InstancePool } from './instance-pool.ts';
import { Scheduler } from './scheduler.ts';

/** Lets pending promise callbacks run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup(count: number, load?: (index: number) => Promise<FakeInstance>) {
  const clock = new ManualClock();
  const instances = Array.from({ length: count }, (_, i) => new FakeInstance(`m:1#${i}`));
  const events: string[] = [];
  const pool = InstancePool.fromInstances(instances, {
    clock,
    load: load ?? (async (i) => new FakeInstance(`m:1#${i}-new`)),
    onEvent: (e) => events.push(`${e.kind} ${e.label}`),
  });
  return { clock, instances, pool, events, scheduler: new Scheduler(pool, 'model m version 1') };
}

describe('Scheduler', () => {
  it('runs requests in arrival order, one at a time per instance', async () => {
    const { instances, scheduler } = setup(1);
    const answers = [1, 2, 3].map((n) => scheduler.submit([fakeTensor('x', [n])], ['y']));
    expect(scheduler.queueDepth).toBe(2);
    for (const n of [1, 2, 3]) {
      expect([...(instances[0]!.current!.inputs[0]!.data as Float32Array)]).toEqual([n]);
      instances[0]!.current!.finish();
      await flush();
    }
    const outputs = await Promise.all(answers);
    expect(outputs.map((o) => [o[0]!.name, ...(o[0]!.data as Float32Array)])).toEqual([
      ['y', 1],
      ['y', 2],
      ['y', 3],
    ]);
    expect(instances[0]!.maxConcurrent).toBe(1);
    expect(scheduler.pending).toBe(0);
  });

  it('uses every idle instance in parallel', async () => {
    const { instances, scheduler } = setup(2);
    const answers = [1, 2, 3].map((n) => scheduler.submit([fakeTensor('x', [n])], ['y']));
    expect(instances.map((i) => i.executions.length)).toEqual([1, 1]);
    expect(scheduler.queueDepth).toBe(1);
    instances[1]!.current!.finish();
    await flush();
    expect(instances[1]!.executions.length).toBe(2); // the freed instance took the third request
    instances[0]!.current!.finish();
    instances[1]!.current!.finish();
    await expect(Promise.all(answers)).resolves.toHaveLength(3);
  });

  it('a request aborted while queued is removed and never run', async () => {
    const { instances, scheduler } = setup(1);
    const first = scheduler.submit([fakeTensor('x', [1])], ['y']);
    const controller = new AbortController();
    const second = scheduler.submit([fakeTensor('x', [2])], ['y'], controller.signal);
    controller.abort();
    await expect(second).rejects.toMatchObject({ reason: 'REQUEST_CANCELLED' });
    instances[0]!.current!.finish();
    await first;
    await flush();
    expect(instances[0]!.executions).toHaveLength(1);
    expect(scheduler.pending).toBe(0);
  });

  it('passes a runtime failure to its request and keeps serving', async () => {
    const { instances, scheduler } = setup(1);
    const failing = scheduler.submit([fakeTensor('x', [1])], ['y']);
    const next = scheduler.submit([fakeTensor('x', [2])], ['y']);
    instances[0]!.current!.fail(new SibylError('RUNTIME_FAILED', 'boom'));
    await expect(failing).rejects.toMatchObject({ reason: 'RUNTIME_FAILED' });
    await flush();
    instances[0]!.current!.finish();
    await expect(next).resolves.toHaveLength(1);
  });

  it('after stop() takes no new requests but finishes the queued ones', async () => {
    const { instances, scheduler } = setup(1);
    const queued = [scheduler.submit([fakeTensor('x', [1])], ['y']), scheduler.submit([fakeTensor('x', [2])], ['y'])];
    scheduler.stop();
    await expect(scheduler.submit([fakeTensor('x', [3])], ['y'])).rejects.toMatchObject({ reason: 'MODEL_NOT_READY' });
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

describe('InstancePool', () => {
  it('replaces an instance that crashes; its request fails with INSTANCE_CRASHED, the next one runs', async () => {
    const { instances, pool, scheduler, events } = setup(1);
    const doomed = scheduler.submit([fakeTensor('x', [1])], ['y']);
    const waiting = scheduler.submit([fakeTensor('x', [2])], ['y']);
    instances[0]!.crash('segfault');
    await expect(doomed).rejects.toMatchObject({ reason: 'INSTANCE_CRASHED' });
    await flush();
    expect(events).toEqual(['crashed m:1#0', 'replaced m:1#0-new']);
    expect(pool.size).toBe(1);
    const replacement = pool.instances()[0] as FakeInstance;
    expect(replacement.label).toBe('m:1#0-new');
    expect([...(replacement.current!.inputs[0]!.data as Float32Array)]).toEqual([2]);
    replacement.current!.finish();
    await expect(waiting).resolves.toHaveLength(1);
  });

  it('retries a failed replacement with backoff on the clock', async () => {
    let attempts = 0;
    const { instances, pool, clock, events } = setup(1, async (i) => {
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
