// A failed batch on fake instances and a manual clock: the requests co-batched with a bad one are
// answered, only the bad one fails (400 when the version answers others), and no error text
// reaches a request that did not run alone. A crashed instance's co-batched requests run again.
import { describe, expect, it } from 'vitest';
import { SibylError, type Tensor } from '@sibyl/protocol';
import { FakeInstance, ManualClock } from '../testing/index.ts';
import { InstancePool } from './instance-pool.ts';
import { Scheduler, batchKeyOf, type ScheduledRequest, type SchedulerOptions } from './scheduler.ts';
import type { ExecutedBatch, IsolationOutcome } from './scheduler-observer.ts';

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** One row [id, id + 0.5]: a negative id is an out-of-range index the model throws on. */
function request(id: number): ScheduledRequest {
  const inputs: Tensor[] = [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(id, id + 0.5) }];
  return { inputs, outputNames: ['y'], rows: 1, batchKey: batchKeyOf(inputs, ['y']) };
}

function setup(instanceCount = 1, evidence: Pick<SchedulerOptions, 'warmedUp' | 'probe'> = {}) {
  const clock = new ManualClock();
  const instances = Array.from({ length: instanceCount }, (_, i) => new FakeInstance(`m:1#${i}`));
  const executed: Pick<ExecutedBatch, 'rows' | 'failed' | 'isolation'>[] = [];
  const isolated = new Map<IsolationOutcome, number>();
  const pool = InstancePool.fromInstances(instances, { clock, load: async (i) => new FakeInstance(`m:1#${i}-new`) });
  const scheduler = new Scheduler(pool, {
    label: "model 'm' version 1",
    clock,
    maxBatchSize: 64,
    maxQueueDelayMs: 0,
    preferredBatchSizes: [],
    maxQueueSize: 0,
    ...evidence,
    observer: {
      executed: (b) => executed.push({ rows: b.rows, failed: b.failed, isolation: b.isolation }),
      isolated: (outcome, n) => isolated.set(outcome, (isolated.get(outcome) ?? 0) + n),
    },
  });
  return { clock, instances, pool, scheduler, executed, isolated };
}

/**
 * Answers every execution of `instance` as the model would: one with a negative value fails with
 * a message that quotes every value of the batch (as onnxruntime's messages can), or, when
 * `broken`, fails every execution but that of request 1000.
 */
async function serve(instance: FakeInstance, broken = false): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await flush();
    const e = instance.current;
    if (e === undefined) return;
    const values = [...(e.inputs[0]!.data as Float32Array)];
    if (broken && values[0] !== 1000) e.fail(new SibylError('RUNTIME_FAILED', `out of memory while running on [${values.join(', ')}]`));
    else if (values.some((v) => v < 0)) e.fail(new SibylError('RUNTIME_FAILED', `Gather: indices element out of data bounds in [${values.join(', ')}]`));
    else e.finish();
  }
  throw new Error('the instance never went idle');
}

type Settled = { ok: true; values: number[] } | { ok: false; error: SibylError };
const settle = (p: Promise<Tensor[]>): Promise<Settled> =>
  p.then(
    (out) => ({ ok: true, values: [...(out[0]!.data as Float32Array)] }),
    (error: SibylError) => ({ ok: false, error }),
  );

/**
 * Submits request `lead`, which runs alone, then the ids while it runs, so they form one batch
 * behind it; serves them all and returns the outcomes.
 */
async function behind(s: ReturnType<typeof setup>, lead: number, ids: number[], broken = false): Promise<{ lead: Settled; outcomes: Settled[] }> {
  const first = settle(s.scheduler.submit(request(lead)));
  const outcomes = ids.map((id) => settle(s.scheduler.submit(request(id))));
  await serve(s.instances[0]!, broken);
  return { lead: await first, outcomes: await Promise.all(outcomes) };
}

/** Submits the ids behind a valid request (1000), so they form one batch; returns their outcomes. */
async function batch(s: ReturnType<typeof setup>, ids: number[], broken = false): Promise<Settled[]> {
  return (await behind(s, 1000, ids, broken)).outcomes;
}

/** Each outcome as 'ok' or its error's reason. */
const reasons = (outcomes: readonly Settled[]): string[] => outcomes.map((o) => (o.ok ? 'ok' : o.error.reason));
/** What the model answers each id when it serves others: negative ids are its input's fault. */
const blamedOnInput = (ids: readonly number[]): string[] => ids.map((id) => (id > 0 ? 'ok' : 'INPUT_REJECTED_BY_MODEL'));

describe('Scheduler: a failed batch is isolated', () => {
  it('answers the requests batched with a bad one; only the bad one fails, with 400 and its own values only', async () => {
    const s = setup();
    const outcomes = await batch(s, [1, -2, 3, 4]);
    expect(outcomes.filter((o) => o.ok).map((o) => o.values)).toEqual([[1, 1.5], [3, 3.5], [4, 4.5]]);
    const bad = outcomes[1]!;
    if (bad.ok) throw new Error('the bad request succeeded');
    expect(bad.error).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'INPUT_REJECTED_BY_MODEL', httpStatus: 400 });
    // The runtime's text of its own lone run, and nothing of the others.
    expect(bad.error.message.split('The runtime said: ')[1]).toBe('Gather: indices element out of data bounds in [-2, -1.5]');
    // The warm-up request, the batch of 4, its halves [1, -2] and [3, 4], then [1] and [-2].
    expect(s.executed.map((e) => [e.rows, e.failed, e.isolation])).toEqual([
      [1, false, undefined],
      [4, true, undefined],
      [2, true, 'run_failed'],
      [2, false, 'run_failed'],
      [1, false, 'run_failed'],
      [1, true, 'run_failed'],
    ]);
    expect(Object.fromEntries(s.isolated)).toEqual({ answered: 3, input_rejected: 1 });
    expect(s.scheduler.statistics.success.count).toBe(4);
    expect(s.scheduler.statistics.inferenceCount).toBe(4); // each answered row counted once
    expect(s.scheduler.pending).toBe(0);
  });

  it('of 8 requests with 2 bad ones in different halves, fails exactly those two', async () => {
    const s = setup();
    const ids = [1, 2, -3, 4, 5, 6, 7, -8];
    const outcomes = await batch(s, ids);
    outcomes.forEach((o, i) => {
      const id = ids[i]!;
      if (id > 0) expect(o).toEqual({ ok: true, values: [id, id + 0.5] });
      else if (o.ok) throw new Error(`request ${id} succeeded`);
      else expect(o.error.message.split('The runtime said: ')[1]).toBe(`Gather: indices element out of data bounds in [${id}, ${id + 0.5}]`);
    });
  });

  it('with a fifth of a batch of 40 bad, still answers every valid request and blames only the bad ones', async () => {
    const s = setup();
    const ids = Array.from({ length: 40 }, (_, i) => (i % 5 === 3 ? -(i + 1) : i + 1));
    const outcomes = await batch(s, ids);
    expect(reasons(outcomes)).toEqual(blamedOnInput(ids));
    expect(Object.fromEntries(s.isolated)).toEqual({ answered: 32, input_rejected: 8 });
  });

  it('bad requests blamed in one isolation do not make the version look failing for the next batch', async () => {
    const s = setup();
    // Eight bad requests in a row among valid ones: their lone runs fail one after another.
    const first = [1, 2, 3, 4, -5, -6, -7, -8, -9, -10, -11, -12, 13, 14, 15, 16];
    const firstOutcomes = await batch(s, first);
    expect(reasons(firstOutcomes)).toEqual(blamedOnInput(first));
    // The next batch (behind a bad lone request) has bad requests in both halves.
    const next = [-101, 102, 103, 104, 105, 106, 107, -108];
    const { lead, outcomes: nextOutcomes } = await behind(s, -999, next);
    expect(lead).toMatchObject({ ok: false, error: { reason: 'INPUT_REJECTED_BY_MODEL' } });
    expect(reasons(nextOutcomes)).toEqual(blamedOnInput(next));
  });

  it('runs a lone failing request once more, and blames its input when it fails again while the version serves', async () => {
    const s = setup();
    const outcomes = await batch(s, [-5]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { reason: 'INPUT_REJECTED_BY_MODEL', httpStatus: 400 } });
    expect(s.executed.map((e) => [e.rows, e.failed, e.isolation])).toEqual([
      [1, false, undefined],
      [1, true, undefined],
      [1, true, 'run_failed'],
    ]);
  });

  it('on a version that never answered: each lone failure is a 500 with its own text, without a retry', async () => {
    const s = setup();
    const lone = settle(s.scheduler.submit(request(1)));
    const rest = [2, 3, 4, 5].map((id) => settle(s.scheduler.submit(request(id))));
    await serve(s.instances[0]!, true);
    // Nothing says the version can answer anything: no failure is blamed on an input.
    expect((await Promise.all([lone, ...rest])).map((o) => (o.ok ? 'ok' : `${o.error.reason}: ${o.error.message}`))).toEqual(
      [1, 2, 3, 4, 5].map((id) => `RUNTIME_FAILED: out of memory while running on [${id}, ${id + 0.5}]`),
    );
    // The lone request ran once; the batch of 4 was bisected down to single requests.
    expect(s.executed.map((e) => e.rows)).toEqual([1, 4, 2, 2, 1, 1, 1, 1]);
    expect(Object.fromEntries(s.isolated)).toEqual({ failed: 5 });
  });

  it('on a version known to fail: a failed batch gets one probing split, and the halves get the text withheld', async () => {
    const s = setup();
    for (let id = 1; id <= 8; id++) {
      const lone = settle(s.scheduler.submit(request(id)));
      await serve(s.instances[0]!, true);
      expect(await lone).toMatchObject({ ok: false, error: { reason: 'RUNTIME_FAILED' } });
    }
    expect(s.executed).toHaveLength(8); // no retries
    const lone = settle(s.scheduler.submit(request(9)));
    const rest = [10, 11, 12, 13].map((id) => settle(s.scheduler.submit(request(id))));
    await serve(s.instances[0]!, true);
    expect(await lone).toMatchObject({ ok: false, error: { reason: 'RUNTIME_FAILED' } });
    for (const o of await Promise.all(rest)) {
      expect(o).toMatchObject({ ok: false, error: { reason: 'RUNTIME_FAILED', httpStatus: 500 } });
      if (!o.ok) expect(o.error.message).toBe("model 'm' version 1 failed on a batch of 2 requests this one was part of, and fails other executions too; the runtime's message is not shown here because it may describe other requests (the server log has it)");
    }
    expect(s.executed.slice(8).map((e) => e.rows)).toEqual([1, 4, 2, 2]);
  });

  it('a version\'s very first batch, with bad requests in both halves, answers the valid ones', async () => {
    const s = setup();
    const ids = [1, -2, 3, 4, 5, 6, -7, 8];
    const { lead, outcomes } = await behind(s, -1000, ids); // the first request: bad, and alone
    // Alone, before the version answered anything, the first one cannot be blamed on its input.
    expect(lead).toMatchObject({ ok: false, error: { reason: 'RUNTIME_FAILED' } });
    expect(reasons(outcomes)).toEqual(blamedOnInput(ids));
  });

  it('a version that served, then fails everything, stops blaming inputs after a streak of failures', async () => {
    const s = setup();
    const outcomes = await batch(s, [1, 2, 3, 4, 5, 6, 7, 8], true);
    // 1 + 2 + 4 failed runs leave it serving (a streak of 7); the 8 lone runs end that, so the
    // lone failures are the server's, each with its own text.
    expect(outcomes.map((o) => (o.ok ? 'ok' : `${o.error.reason}: ${o.error.message}`))).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((id) => `RUNTIME_FAILED: out of memory while running on [${id}, ${id + 0.5}]`),
    );
    expect(s.executed).toHaveLength(1 + 1 + 2 + 4 + 8);
  });

  it('a request whose deadline passes while its failed batch is isolated fails with DEADLINE_EXCEEDED, unrun', async () => {
    const s = setup();
    const busy = settle(s.scheduler.submit(request(1000)));
    const patient = settle(s.scheduler.submit(request(1)));
    const hurried = settle(s.scheduler.submit(request(2), { deadlineMs: 5 }));
    const bad = settle(s.scheduler.submit(request(-3)));
    await flush();
    s.instances[0]!.current!.finish();
    await busy;
    await flush();
    s.clock.advance(10); // the batch of three runs long
    s.instances[0]!.current!.fail(new SibylError('RUNTIME_FAILED', 'index -3 out of range'));
    await serve(s.instances[0]!);
    expect(await hurried).toMatchObject({ ok: false, error: { reason: 'DEADLINE_EXCEEDED' } });
    expect(await patient).toEqual({ ok: true, values: [1, 1.5] });
    expect(await bad).toMatchObject({ ok: false, error: { reason: 'INPUT_REJECTED_BY_MODEL' } });
    expect(s.clock.pendingTimers).toBe(0);
  });

  it('a request answered at its deadline while its run went on is not counted again when the run fails', async () => {
    const s = setup();
    const lone = settle(s.scheduler.submit(request(1), { deadlineMs: 5 }));
    s.clock.advance(5); // the run goes on; the request is answered at its deadline
    expect(await lone).toMatchObject({ ok: false, error: { reason: 'DEADLINE_EXCEEDED' } });
    s.instances[0]!.current!.fail(new SibylError('RUNTIME_FAILED', 'out of memory'));
    await flush();
    expect(s.executed.map((e) => e.failed)).toEqual([true]);
    // The version never answered: the lone failure is the server's, but nobody is left to answer.
    expect(Object.fromEntries(s.isolated)).toEqual({});
    expect(s.scheduler.statistics.fail.count).toBe(1);
  });
});

describe('Scheduler: a version that has answered nothing yet', () => {
  /** What the version loader passes: one generated row the model answers (unless broken). */
  const probe = () => ({ ...request(7), rows: 1 });
  const trail = (s: ReturnType<typeof setup>) => s.executed.map((e) => [e.rows, e.failed, e.isolation]);

  it('probes once when the first request fails alone: its bad input gets 400, later ones without a probe, and valid ones are answered', async () => {
    const s = setup(1, { probe });
    const first = settle(s.scheduler.submit(request(-5)));
    await serve(s.instances[0]!);
    // The probe answered, so the version answers others: the request ran once more, and is blamed.
    expect(await first).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', reason: 'INPUT_REJECTED_BY_MODEL', httpStatus: 400 } });
    expect(trail(s)).toEqual([
      [1, true, undefined],
      [1, false, 'probe'],
      [1, true, 'run_failed'],
    ]);
    const second = settle(s.scheduler.submit(request(-6)));
    await serve(s.instances[0]!);
    expect(await second).toMatchObject({ ok: false, error: { reason: 'INPUT_REJECTED_BY_MODEL' } });
    const valid = settle(s.scheduler.submit(request(3)));
    await serve(s.instances[0]!);
    expect(await valid).toEqual({ ok: true, values: [3, 3.5] });
    expect(trail(s).filter((e) => e[2] === 'probe')).toHaveLength(1);
    expect(Object.fromEntries(s.isolated)).toEqual({ input_rejected: 2 });
  });

  it('a warmed-up version blames a lone bad request on its input at once, without a probe', async () => {
    const s = setup(1, { warmedUp: true, probe });
    const first = settle(s.scheduler.submit(request(-5)));
    await serve(s.instances[0]!);
    expect(await first).toMatchObject({ ok: false, error: { reason: 'INPUT_REJECTED_BY_MODEL', httpStatus: 400 } });
    expect(trail(s)).toEqual([
      [1, true, undefined],
      [1, true, 'run_failed'],
    ]);
  });

  it('a release that fails every run: the probe fails too, so each lone failure is the server\'s (500), and the probe runs once', async () => {
    const s = setup(1, { probe });
    for (const id of [1, 2, 3]) {
      const lone = settle(s.scheduler.submit(request(id)));
      await serve(s.instances[0]!, true);
      expect(await lone).toMatchObject({ ok: false, error: { reason: 'RUNTIME_FAILED', httpStatus: 500, message: `out of memory while running on [${id}, ${id + 0.5}]` } });
    }
    expect(trail(s)).toEqual([
      [1, true, undefined],
      [1, true, 'probe'],
      [1, true, undefined],
      [1, true, undefined],
    ]);
    expect(Object.fromEntries(s.isolated)).toEqual({ failed: 3 });
  });

  it('a probe that fails with an input error (generated data the model refuses) is no evidence either way: the server\'s', async () => {
    const s = setup(1, { probe: () => ({ ...request(-7), rows: 1 }) });
    const lone = settle(s.scheduler.submit(request(-5)));
    await serve(s.instances[0]!);
    expect(await lone).toMatchObject({ ok: false, error: { reason: 'RUNTIME_FAILED' } });
    expect(trail(s)).toEqual([
      [1, true, undefined],
      [1, true, 'probe'],
    ]);
  });

  it('concurrent lone failures on two instances share one probe', async () => {
    const s = setup(2, { probe });
    const outcomes = [-1, -2].map((id) => settle(s.scheduler.submit(request(id))));
    for (let round = 0; round < 20; round++) {
      await flush();
      for (const instance of s.pool.instances() as FakeInstance[]) {
        const e = instance.current;
        if (e === undefined) continue;
        if ((e.inputs[0]!.data as Float32Array)[0]! < 0) e.fail(new SibylError('RUNTIME_FAILED', 'Gather: out of range'));
        else e.finish();
      }
    }
    expect((await Promise.all(outcomes)).map((o) => (o.ok ? 'ok' : o.error.reason))).toEqual(['INPUT_REJECTED_BY_MODEL', 'INPUT_REJECTED_BY_MODEL']);
    expect(trail(s).filter((e) => e[2] === 'probe')).toHaveLength(1);
  });
});

describe('Scheduler: a crashed instance', () => {
  it('queues the requests of its batch again, each alone, on the replacement', async () => {
    const s = setup();
    const busy = settle(s.scheduler.submit(request(1000)));
    const outcomes = [1, 2, 3].map((id) => settle(s.scheduler.submit(request(id))));
    await flush();
    s.instances[0]!.current!.finish();
    await busy;
    await flush();
    expect(s.instances[0]!.current!.inputs[0]!.shape).toEqual([3, 2]);
    s.instances[0]!.crash('segfault');
    await flush();
    const replacement = s.pool.instances()[0] as FakeInstance;
    await serve(replacement);
    expect(await Promise.all(outcomes)).toEqual([1, 2, 3].map((id) => ({ ok: true, values: [id, id + 0.5] })));
    expect(replacement.executions.map((e) => e.inputs[0]!.shape[0])).toEqual([1, 1, 1]);
    expect(s.executed.filter((e) => e.isolation === 'instance_crashed')).toHaveLength(3);
  });

  it('a request that crashes a second instance fails with INSTANCE_CRASHED; the others are answered', async () => {
    const s = setup(2);
    const outcomes = [1, 2].map((id) => settle(s.scheduler.submit(request(id))));
    // Both went to instance 0 and 1 alone (nothing to batch): give instance 1 a batch instead.
    s.instances[0]!.current!.finish();
    s.instances[1]!.current!.finish();
    await Promise.all(outcomes);
    const busy = [settle(s.scheduler.submit(request(100))), settle(s.scheduler.submit(request(101)))];
    const batchOf3 = [3, 4, 5].map((id) => settle(s.scheduler.submit(request(id))));
    await flush();
    expect(s.instances[0]!.current!.inputs[0]!.shape).toEqual([1, 2]);
    s.instances[0]!.current!.finish();
    await flush();
    expect(s.instances[0]!.current!.inputs[0]!.shape).toEqual([3, 2]);
    s.instances[0]!.crash('the input of request 4 kills the worker');
    await flush();
    // The three run alone, on instance 1 (its busy request still running) and the replacement.
    s.instances[1]!.current!.finish();
    await Promise.all(busy);
    for (let round = 0; round < 10; round++) {
      await flush();
      for (const instance of s.pool.instances() as FakeInstance[]) {
        const e = instance.current;
        if (e === undefined) continue;
        if ((e.inputs[0]!.data as Float32Array)[0] === 4) (instance as FakeInstance).crash('request 4 again');
        else e.finish();
      }
    }
    const [three, four, five] = await Promise.all(batchOf3);
    expect(three).toEqual({ ok: true, values: [3, 3.5] });
    expect(five).toEqual({ ok: true, values: [5, 5.5] });
    expect(four).toMatchObject({ ok: false, error: { reason: 'INSTANCE_CRASHED' } });
    expect(s.scheduler.pending).toBe(0);
  });
});
