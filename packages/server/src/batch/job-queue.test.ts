// Issue 13 C1 (per server): at most maxRunningJobs batch jobs run at once; later ones wait as
// queued (listed with their place, cancellable) and start in order as slots free; beyond
// maxQueuedJobs a start is refused with BATCH_JOB_QUEUE_FULL and Retry-After; close() records
// queued jobs as interrupted (resumable), and a restart after a crash does the same.
// Runners that end when told to; a manual clock; real in-memory SQLite stores.
import { SibylError } from '@sibyl/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../state/sqlite-state-store.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { BatchJobManager, type BatchJobRunner } from './job-manager.ts';
import { BatchScheduler } from './schedules.ts';
import type { BatchJobRecord } from './prediction-store.ts';
import { SqlitePredictionStore } from './sqlite-prediction-store.ts';

let store: SqlitePredictionStore;
let state: SqliteStateStore;
beforeEach(async () => {
  store = await SqlitePredictionStore.open(':memory:');
  state = await SqliteStateStore.open(':memory:');
});
afterEach(async () => {
  await store.close();
  await state.close();
});

/** A runner whose jobs (named by spec.name) run until `finish(name)` or their signal; `started` lists the names in start order. */
function controlledRunner(): BatchJobRunner & { started: string[]; finish: (name: string) => Promise<void> } {
  const enders = new Map<string, () => Promise<void>>();
  const started: string[] = [];
  return {
    started,
    finish: async (name) => {
      await enders.get(name)?.();
    },
    prepare: async (input) => {
      const name = (input as { spec: { name: string } }).spec.name;
      return { name, spec: { name } };
    },
    run: (job, { jobId, signal }) =>
      new Promise<BatchJobRecord>((resolve) => {
        started.push(job.name);
        const end = async (status: 'succeeded' | 'cancelled'): Promise<void> => {
          const final: BatchJobRecord = { ...(await store.getJob(jobId))!, status, finishedAtMs: 1 };
          await store.saveJob(final);
          resolve(final);
        };
        void store.getJob(jobId).then((r) => store.saveJob({ ...r!, status: 'running' }));
        enders.set(job.name, () => end('succeeded'));
        signal.addEventListener('abort', () => void end('cancelled'), { once: true });
      }),
  };
}

function manager(runner: BatchJobRunner, limits: { maxRunningJobs: number; maxQueuedJobs: number }): BatchJobManager {
  return new BatchJobManager({ store, state, runner, clock: new ManualClock(), log: pino({ level: 'silent' }), stopTimeoutMs: 1000, ...limits });
}

const spec = (name: string) => ({ spec: { name } });

describe('BatchJobManager admission (maxRunningJobs, maxQueuedJobs)', () => {
  it('runs at most maxRunningJobs at once; later jobs wait as queued and start in order as slots free', async () => {
    const runner = controlledRunner();
    const jobs = manager(runner, { maxRunningJobs: 2, maxQueuedJobs: 10 });
    const a = await jobs.start(spec('a'), 'api');
    const b = await jobs.start(spec('b'), 'api');
    const c = await jobs.start(spec('c'), 'api');
    const d = await jobs.start(spec('d'), 'schedule:nightly');
    expect(runner.started).toEqual(['a', 'b']);
    expect(jobs.runningJobs).toEqual([a.record.id, b.record.id]);
    expect(jobs.queuedJobs).toEqual([c.record.id, d.record.id]);
    expect(await jobs.get(c.record.id)).toMatchObject({ status: 'queued', queuePosition: 1 });
    expect(await jobs.get(d.record.id)).toMatchObject({ status: 'queued', queuePosition: 2, origin: 'schedule:nightly' });
    const listed = await jobs.list();
    expect(listed.filter((j) => j.status === 'queued').map((j) => j.id).sort()).toEqual([c.record.id, d.record.id].sort());

    await runner.finish('a');
    expect((await a.done).status).toBe('succeeded');
    expect(runner.started).toEqual(['a', 'b', 'c']);
    expect(jobs.queuedJobs).toEqual([d.record.id]);
    expect(await jobs.get(d.record.id)).toMatchObject({ status: 'queued', queuePosition: 1 });

    await runner.finish('b');
    await b.done;
    expect(runner.started).toEqual(['a', 'b', 'c', 'd']);
    await runner.finish('c');
    await runner.finish('d');
    expect((await c.done).status).toBe('succeeded');
    expect((await d.done).status).toBe('succeeded');
    expect(jobs.runningJobs).toEqual([]);
    expect([...(await state.list('batch-jobs')).keys()]).toEqual([]);
    await jobs.close();
  });

  it('refuses a start beyond maxQueuedJobs with BATCH_JOB_QUEUE_FULL and a retry time, recording nothing', async () => {
    const runner = controlledRunner();
    const jobs = manager(runner, { maxRunningJobs: 1, maxQueuedJobs: 1 });
    await jobs.start(spec('a'), 'api');
    await jobs.start(spec('b'), 'api');
    const refused = await jobs.start(spec('c'), 'api').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(SibylError);
    expect(refused).toMatchObject({ reason: 'BATCH_JOB_QUEUE_FULL', code: 'RESOURCE_EXHAUSTED', details: { retryAfterSeconds: 60 } });
    expect((refused as Error).message).toMatch(/1 batch jobs are running \(batch\.maxRunningJobs 1\) and 1 are queued \(batch\.maxQueuedJobs 1\)/);
    expect((await store.listJobs({})).map((j) => j.name).sort()).toEqual(['a', 'b']);
    await jobs.close();
  });

  it('maxQueuedJobs 0: a job starts at once or is refused', async () => {
    const jobs = manager(controlledRunner(), { maxRunningJobs: 1, maxQueuedJobs: 0 });
    await jobs.start(spec('a'), 'api');
    await expect(jobs.start(spec('b'), 'api')).rejects.toMatchObject({ reason: 'BATCH_JOB_QUEUE_FULL' });
    await jobs.close();
  });

  it('cancels a queued job: it leaves the queue without running, its record says so, the others keep their order', async () => {
    const runner = controlledRunner();
    const jobs = manager(runner, { maxRunningJobs: 1, maxQueuedJobs: 5 });
    await jobs.start(spec('a'), 'api');
    const b = await jobs.start(spec('b'), 'api');
    const c = await jobs.start(spec('c'), 'api');
    const view = await jobs.cancel(b.record.id);
    expect(view).toMatchObject({ id: b.record.id, status: 'cancelled', error: 'cancelled while queued (it never started)' });
    expect((await b.done).status).toBe('cancelled');
    expect(await store.getJob(b.record.id)).toMatchObject({ status: 'cancelled' });
    expect(jobs.queuedJobs).toEqual([c.record.id]);
    await runner.finish('a');
    await new Promise((resolve) => setImmediate(resolve));
    expect(runner.started).toEqual(['a', 'c']);
    await jobs.close();
  });

  it('resume of a queued job is refused (it is queued already)', async () => {
    const jobs = manager(controlledRunner(), { maxRunningJobs: 1, maxQueuedJobs: 5 });
    await jobs.start(spec('a'), 'api');
    const b = await jobs.start(spec('b'), 'api');
    await expect(jobs.resume(b.record.id, 'api')).rejects.toMatchObject({ reason: 'BATCH_JOB_RUNNING', message: expect.stringMatching(/is queued already/) });
    await jobs.close();
  });

  it('close() records queued jobs as interrupted (resumable) and never starts them', async () => {
    const runner = controlledRunner();
    const jobs = manager(runner, { maxRunningJobs: 1, maxQueuedJobs: 5 });
    const a = await jobs.start(spec('a'), 'api');
    const b = await jobs.start(spec('b'), 'api');
    await jobs.close();
    expect(runner.started).toEqual(['a']);
    expect(await store.getJob(a.record.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: the server shut down while the job ran/) });
    expect(await store.getJob(b.record.id)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(new RegExp(`^interrupted: the server shut down while the job was queued \\(it had not started\\); resume it with POST /v1/batch/jobs/${b.record.id}/resume`)),
    });
    expect((await b.done).status).toBe('failed');
    expect([...(await state.list('batch-jobs')).keys()]).toEqual([]);
    await expect(jobs.start(spec('c'), 'api')).rejects.toMatchObject({ reason: 'SERVER_DRAINING' });
  });

  it('after a crash, a job that was queued is marked interrupted at start-up and can be resumed', async () => {
    const runner = controlledRunner();
    const crashed = manager(runner, { maxRunningJobs: 1, maxQueuedJobs: 5 });
    await crashed.start(spec('a'), 'api');
    const b = await crashed.start(spec('b'), 'api');
    // No close(): the process died. A new manager on the same stores recovers.
    const runner2 = controlledRunner();
    const restarted = manager(runner2, { maxRunningJobs: 1, maxQueuedJobs: 5 });
    expect((await restarted.recoverInterrupted()).length).toBe(2);
    expect(await store.getJob(b.record.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: the server stopped while the job was queued or starting; resume it/) });
    const again = await restarted.resume(b.record.id, 'api');
    expect(runner2.started).toEqual(['b']);
    await runner2.finish('b');
    expect((await again.done).status).toBe('succeeded');
    await restarted.close();
    await crashed.close();
  });

  it('a schedule whose run is still queued skips its next runs: schedules do not pile up in the queue', async () => {
    const clock = new ManualClock(Date.parse('2026-03-10T01:59:30Z'));
    const runner = controlledRunner();
    const jobs = new BatchJobManager({ store, state, runner, clock, log: pino({ level: 'silent' }), maxRunningJobs: 1, maxQueuedJobs: 5 });
    await jobs.start(spec('long'), 'api');
    const scheduler = new BatchScheduler({ clock, log: pino({ level: 'silent' }), start: (name) => jobs.start(spec(name), `schedule:${name}`), schedules: { every: { cron: '* * * * *', job: '/j.yaml' } } });
    scheduler.start();
    const flush = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    clock.advance(30_000); // 02:00: the run is queued behind 'long'
    await flush();
    expect(jobs.queuedJobs).toHaveLength(1);
    clock.advance(60_000); // 02:01 and 02:02: skipped, not queued again
    await flush();
    clock.advance(60_000);
    await flush();
    expect(jobs.queuedJobs).toHaveLength(1);
    expect(scheduler.list()[0]).toMatchObject({ skippedRuns: 2, lastRun: { status: 'queued' } });
    await runner.finish('long');
    await flush();
    expect(runner.started).toEqual(['long', 'every']);
    await scheduler.close();
    await jobs.close();
  });
});
