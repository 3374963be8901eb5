// A model that never returns: requests are answered at their deadline while the run goes on, and
// the watchdog takes the hung instance out of rotation and replaces it (fake instances, manual clock).
import { describe, expect, it } from 'vitest';
import { SibylError, type Tensor } from '@sibyl/protocol';
import { FakeInstance, ManualClock } from '../testing/index.ts';
import { InstancePool } from './instance-pool.ts';
import { Scheduler, batchKeyOf, type ScheduledRequest } from './scheduler.ts';

const flush = () => new Promise((resolve) => setImmediate(resolve));

function request(id: number): ScheduledRequest {
  const inputs: Tensor[] = [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(id) }];
  return { inputs, outputNames: ['y'], rows: 1, batchKey: batchKeyOf(inputs, ['y']) };
}

function setup(count: number, hangTimeoutMs: number, maxBatchSize = 0, failLoads = false) {
  const clock = new ManualClock();
  const instances = Array.from({ length: count }, (_, i) => new FakeInstance(`m:1#${i}`));
  const loaded: FakeInstance[] = [];
  const events: string[] = [];
  const pool = InstancePool.fromInstances(instances, {
    clock,
    executionsPerInstance: 1,
    hangTimeoutMs,
    load: async (i) => {
      if (failLoads) throw new Error("ENOENT: no such file or directory, open 'm/1/model.onnx'");
      const instance = new FakeInstance(`m:1#${i}-new`);
      loaded.push(instance);
      return instance;
    },
    onEvent: (e) => events.push(`${e.kind} ${e.label}: ${e.reason}`),
  });
  const scheduler = new Scheduler(pool, { label: "model 'm' version 1", clock, maxBatchSize, maxQueueDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 0 });
  return { clock, instances, loaded, pool, events, scheduler };
}

describe('a request whose execution outlives its deadline', () => {
  it('is answered DEADLINE_EXCEEDED at its deadline, naming the instance; the late result is dropped', async () => {
    const { clock, instances, scheduler } = setup(1, 0);
    const answer = scheduler.submit(request(1), { deadlineMs: 1_000 });
    const settled = answer.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    clock.advance(999);
    await flush();
    expect(instances[0]!.outstanding).toBe(1);
    clock.advance(1);
    const err = await settled;
    expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED', httpStatus: 504 });
    expect((err as Error).message).toBe("model 'm' version 1 did not answer before the request's deadline: it ran for 1000 ms on instance m:1#0 (after 0.0 ms queued) and is still running");
    expect(scheduler.pending).toBe(1); // the execution still runs
    instances[0]!.current!.finish();
    await flush();
    expect(scheduler.pending).toBe(0);
    expect(scheduler.statistics.fail.count).toBe(1);
    expect(scheduler.statistics.success.count).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('co-batched members each answer at their own deadline; one without a deadline gets the result', async () => {
    const { clock, instances, scheduler } = setup(1, 0, 8);
    const blocker = scheduler.submit(request(0)); // occupies the instance so the next three batch
    const early = scheduler.submit(request(1), { deadlineMs: 100 }).catch((e: unknown) => e);
    const late = scheduler.submit(request(2), { deadlineMs: 300 }).catch((e: unknown) => e);
    const patient = scheduler.submit(request(3));
    instances[0]!.current!.finish();
    await blocker;
    await flush();
    expect(instances[0]!.current!.inputs[0]!.shape).toEqual([3, 1]); // one execution of the three
    clock.advance(100);
    expect(await early).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    clock.advance(199);
    await flush();
    expect(scheduler.statistics.fail.count).toBe(1);
    clock.advance(1);
    expect(await late).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    instances[0]!.current!.finish();
    expect([...((await patient)[0]!.data as Float32Array)]).toEqual([3]);
    expect(scheduler.statistics.fail.count).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an execution that answers in time is unaffected and leaves no timer', async () => {
    const { clock, instances, scheduler } = setup(1, 0);
    const answer = scheduler.submit(request(7), { deadlineMs: 1_000 });
    clock.advance(500);
    instances[0]!.current!.finish();
    expect([...((await answer)[0]!.data as Float32Array)]).toEqual([7]);
    // The execution stops watching its deadlines when it ends, a few ticks after it answers.
    await flush();
    expect(clock.pendingTimers).toBe(0);
  });
  it('one timer watches the deadlines of queued and executing requests: an execution arms none of its own', async () => {
    const { clock, instances, scheduler } = setup(2, 0);
    const answers = [1_000, 2_000, 3_000].map((deadlineMs, i) => scheduler.submit(request(i), { deadlineMs }).then(
      () => 'ok',
      (err: SibylError) => err.reason,
    ));
    expect(instances.map((i) => i.outstanding)).toEqual([1, 1]); // two execute, one is queued
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1_000);
    expect(await answers[0]).toBe('DEADLINE_EXCEEDED'); // answered while its execution goes on
    expect(clock.pendingTimers).toBe(1);
    instances[0]!.current!.finish(); // the late result is dropped; the queued request runs
    instances[1]!.current!.finish();
    await flush();
    expect(clock.pendingTimers).toBe(1);
    instances[0]!.current!.finish();
    expect(await Promise.all(answers)).toEqual(['DEADLINE_EXCEEDED', 'ok', 'ok']);
    await flush();
    expect(clock.pendingTimers).toBe(0); // nothing pending: no deadline left to watch
  });
});

describe('the hang watchdog', () => {
  it('takes a hung instance out of rotation, closes it and loads a replacement that serves the queue', async () => {
    const { clock, instances, loaded, pool, events, scheduler } = setup(1, 5_000);
    const stuck = scheduler.submit(request(1), { deadlineMs: 2_000 }).catch((e: unknown) => e);
    const waiting = scheduler.submit(request(2));
    clock.advance(2_000);
    expect(await stuck).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    clock.advance(2_999);
    await flush();
    expect(loaded).toHaveLength(0);
    clock.advance(1);
    await flush();
    expect(events).toEqual([
      'hung m:1#0: it has held 1 execution(s) for 5000 ms without finishing one (instanceHangTimeoutMs is 5000); taken out of rotation, it closes once its run returns, and a replacement is loading',
      'replaced m:1#0-new: replacement loaded',
    ]);
    expect(instances[0]!.alive).toBe(false); // closed (a real ONNX worker closes after its run)
    expect(pool.instances()).toEqual([loaded[0]]);
    expect(loaded[0]!.current!.inputs[0]!.data[0]).toBe(2);
    loaded[0]!.current!.finish();
    await expect(waiting).resolves.toHaveLength(1);
    await flush();
    expect(events).toHaveLength(2); // the retired instance's exit starts no second replacement
    clock.advance(5_000); // the watchdog's last look finds nothing busy and stops
    expect(events).toHaveLength(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('leaves alone an instance that keeps finishing executions, and other instances', async () => {
    const { clock, instances, events, scheduler } = setup(2, 1_000);
    const hung = scheduler.submit(request(1)).catch((e: unknown) => e);
    for (let i = 0; i < 5; i++) {
      const ok = scheduler.submit(request(10 + i));
      clock.advance(900);
      instances[1]!.current!.finish();
      await expect(ok).resolves.toHaveLength(1);
    }
    expect(events.map((e) => e.split(':')[0] + ':' + e.split(':')[1])).toEqual(['hung m:1#0', 'replaced m:1#0-new']);
    expect(instances[1]!.alive).toBe(true);
    // The fake fails what it held when closed; a real ONNX instance would answer after its run.
    expect(await hung).toMatchObject({ reason: 'INSTANCE_CRASHED' });
  });

  it('counts each run of an isolation as progress: a failed batch re-run piece by piece is not hung', async () => {
    const { clock, instances, events, scheduler } = setup(1, 1_000, 8);
    const blocker = scheduler.submit(request(0)); // occupies the instance so the next four batch
    const answers = [1, -2, 3, 4].map((id) => scheduler.submit(request(id)).then(
      () => 'ok',
      (err: SibylError) => err.reason,
    ));
    instances[0]!.current!.finish();
    await blocker;
    // Each execution takes 600 ms: the failed batch and its isolation runs (5 executions) hold the
    // instance 3 s without a release, while each run finishes well within the hang timeout.
    for (let i = 0; i < 20; i++) {
      await flush();
      const e = instances[0]!.current;
      if (e === undefined) break;
      clock.advance(600);
      if ([...(e.inputs[0]!.data as Float32Array)].some((v) => v < 0)) e.fail(new SibylError('RUNTIME_FAILED', 'Gather: index out of range'));
      else e.finish();
    }
    expect(events).toEqual([]);
    expect(instances[0]!.alive).toBe(true);
    expect(instances[0]!.executions).toHaveLength(6); // the blocker, the batch, 2 halves, 2 quarters
    expect(await Promise.all(answers)).toEqual(['ok', 'INPUT_REJECTED_BY_MODEL', 'ok', 'ok']);
  });

  it('is off with hangTimeoutMs 0', async () => {
    const { clock, events, scheduler } = setup(1, 0);
    void scheduler.submit(request(1));
    clock.advance(1e9);
    await flush();
    expect(events).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('close() stops the watchdog and closes retired instances too', async () => {
    const { clock, pool, scheduler } = setup(1, 1_000);
    void scheduler.submit(request(1)).catch(() => undefined);
    expect(clock.pendingTimers).toBe(1);
    await pool.close();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('an instance that dies and cannot be replaced', () => {
  it('fails what waits and what arrives with 503 MODEL_NOT_READY and the reason, until a replacement loads', async () => {
    const { clock, instances, scheduler } = setup(1, 0, 0, true);
    const held = scheduler.submit(request(1)).catch((e: unknown) => e);
    const queued = scheduler.submit(request(2)).catch((e: unknown) => e);
    instances[0]!.crash('segfault');
    expect(await held).toMatchObject({ reason: 'INSTANCE_CRASHED' });
    const reason = "model 'm' version 1 has no running instance: loading a replacement instance failed (ENOENT: no such file or directory, open 'm/1/model.onnx'); it is retried with backoff";
    expect(await queued).toMatchObject({ reason: 'MODEL_NOT_READY', httpStatus: 503, message: reason });
    await expect(scheduler.submit(request(3))).rejects.toMatchObject({ reason: 'MODEL_NOT_READY', message: reason });
    expect(scheduler.pending).toBe(0);
    clock.advance(500); // the retry fails again; nothing is queued to fail
    await flush();
    expect(scheduler.pending).toBe(0);
  });
});
