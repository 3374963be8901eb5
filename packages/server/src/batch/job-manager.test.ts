// Issue 13 H4: cancel and close() of the job manager always finish within their bound. A job
// whose runner ignores its signal (a source that never answers) is abandoned after stopTimeoutMs
// and recorded as failed with the reason; a job that stops in time is recorded as before. Real
// SQLite stores; a real (short) timeout, with no assertion on time.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSystemClock } from '../core/clock.ts';
import { SqliteStateStore } from '../state/sqlite-state-store.ts';
import { BatchJobManager, type BatchJobRunner } from './job-manager.ts';
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

/** A runner whose jobs never end by themselves; `honoursSignal` decides whether an abort ends them. */
function stuckRunner(honoursSignal: boolean): BatchJobRunner & { release: () => void } {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    release: () => release(),
    prepare: async () => ({ name: 'stuck', spec: { name: 'stuck' } }),
    run: (_job, { jobId, signal }) =>
      new Promise<BatchJobRecord>((resolve) => {
        const end = async (): Promise<void> => {
          const record = (await store.getJob(jobId))!;
          const final = { ...record, status: 'cancelled' as const, error: 'cancelled' };
          await store.saveJob(final);
          resolve(final);
        };
        if (honoursSignal) signal.addEventListener('abort', () => void end(), { once: true });
        void released.then(end).catch(() => undefined); // the stores may be closed by then
      }),
  };
}

function manager(runner: BatchJobRunner): BatchJobManager {
  return new BatchJobManager({ store, state, runner, clock: createSystemClock(), log: pino({ level: 'silent' }), stopTimeoutMs: 50 });
}

describe('BatchJobManager bounds', () => {
  it('cancel of a job that will not stop answers after stopTimeoutMs: failed, abandoned, with the reason', async () => {
    const runner = stuckRunner(false);
    const jobs = manager(runner);
    const { record } = await jobs.start({ spec: {} }, 'api');
    const view = await jobs.cancel(record.id);
    expect(view).toMatchObject({ id: record.id, status: 'failed' });
    expect(view.error).toMatch(/^cancelled, but it did not stop within 50 ms \(its source or prediction store does not answer\) and was abandoned$/);
    expect(await store.getJob(record.id)).toMatchObject({ status: 'failed', error: view.error });
    expect(jobs.runningJobs).toEqual([]);
    expect([...(await state.list('batch-jobs')).keys()]).toEqual([]);
    runner.release();
    await jobs.close();
  });

  it('close() with a job that will not stop resolves, the job recorded as interrupted and abandoned', async () => {
    const runner = stuckRunner(false);
    const jobs = manager(runner);
    const { record } = await jobs.start({ spec: {} }, 'api');
    await jobs.close();
    const saved = await store.getJob(record.id);
    expect(saved?.status).toBe('failed');
    expect(saved?.error).toMatch(/^interrupted: the server shut down while the job ran, and it did not stop within 50 ms .*so it was abandoned; resume it with POST \/v1\/batch\/jobs\/.+\/resume/);
    expect(jobs.runningJobs).toEqual([]);
    runner.release();
  });

  it('a job that stops on cancel is recorded as cancelled, not abandoned', async () => {
    const jobs = manager(stuckRunner(true));
    const { record } = await jobs.start({ spec: {} }, 'api');
    expect(await jobs.cancel(record.id)).toMatchObject({ status: 'cancelled', error: 'cancelled' });
    await jobs.close();
  });
});
