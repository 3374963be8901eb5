// The scheduler on a manual clock: runs at the times the cron expression names, skips a run that
// would overlap the previous one (and counts it), records the last run and a start failure.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import type { BatchJobRecord } from './prediction-store.ts';
import { BatchScheduler } from './schedules.ts';

const T0 = Date.parse('2026-03-10T01:00:00Z');
const HOUR = 3_600_000;
const log = pino({ level: 'silent' });

/** A start function whose runs end when the test says so. */
function jobStarter() {
  const runs: { name: string; job: string; at: number; finish: (status: BatchJobRecord['status']) => void }[] = [];
  let failNext: string | undefined;
  const start = (clock: ManualClock) => async (name: string, schedule: { job: string }) => {
    if (failNext !== undefined) {
      const message = failNext;
      failNext = undefined;
      throw new Error(message);
    }
    const id = `run-${runs.length + 1}`;
    const record: BatchJobRecord = { id, name, status: 'queued', spec: {}, origin: `schedule:${name}`, createdAtMs: clock.epochMs(), rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 };
    let finish!: (status: BatchJobRecord['status']) => void;
    const done = new Promise<BatchJobRecord>((resolve) => (finish = (status) => resolve({ ...record, status })));
    runs.push({ name, job: schedule.job, at: clock.epochMs(), finish });
    return { record, done };
  };
  return { runs, start, failWith: (m: string) => (failNext = m) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchScheduler', () => {
  it('runs each schedule at the times its expression names and shows the next one', async () => {
    const clock = new ManualClock(T0);
    const starter = jobStarter();
    const scheduler = new BatchScheduler({ clock, log, start: starter.start(clock), schedules: { nightly: { cron: '0 2 * * *', job: '/jobs/nightly.yaml' }, off: { cron: '* * * * *', job: '/j.yaml', enabled: false } } });
    scheduler.start();
    expect(scheduler.list().map((s) => [s.name, s.nextRunAtMs === null ? null : new Date(s.nextRunAtMs).toISOString(), s.enabled])).toEqual([
      ['nightly', '2026-03-10T02:00:00.000Z', true],
      ['off', null, false],
    ]);
    clock.advance(HOUR - 1);
    expect(starter.runs).toHaveLength(0);
    clock.advance(1);
    await flush();
    expect(starter.runs.map((r) => [r.name, r.job, new Date(r.at).toISOString()])).toEqual([['nightly', '/jobs/nightly.yaml', '2026-03-10T02:00:00.000Z']]);
    const status = scheduler.list()[0]!;
    expect(status.runningJobId).toBe('run-1');
    expect(status.lastRun).toEqual({ jobId: 'run-1', startedAtMs: Date.parse('2026-03-10T02:00:00Z'), status: 'queued' });
    expect(new Date(status.nextRunAtMs!).toISOString()).toBe('2026-03-11T02:00:00.000Z');
    starter.runs[0]!.finish('succeeded');
    await flush();
    expect(scheduler.list()[0]).toMatchObject({ runningJobId: null, lastRun: { jobId: 'run-1', status: 'succeeded' }, skippedRuns: 0 });
    clock.advance(24 * HOUR);
    await flush();
    expect(starter.runs).toHaveLength(2);
    await scheduler.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('skips a run due while the previous run still goes, and counts it', async () => {
    const clock = new ManualClock(T0);
    const starter = jobStarter();
    const scheduler = new BatchScheduler({ clock, log, start: starter.start(clock), schedules: { often: { cron: '*/10 * * * *', job: '/j.yaml' } } });
    scheduler.start();
    clock.advance(10 * 60_000);
    await flush();
    expect(starter.runs).toHaveLength(1);
    clock.advance(10 * 60_000); // 01:20, run-1 still going
    await flush();
    clock.advance(10 * 60_000); // 01:30, still going
    await flush();
    expect(starter.runs).toHaveLength(1);
    expect(scheduler.list()[0]).toMatchObject({ runningJobId: 'run-1', skippedRuns: 2, lastSkippedAtMs: Date.parse('2026-03-10T01:30:00Z') });
    starter.runs[0]!.finish('failed');
    await flush();
    clock.advance(10 * 60_000); // 01:40 runs again
    await flush();
    expect(starter.runs.map((r) => new Date(r.at).toISOString())).toEqual(['2026-03-10T01:10:00.000Z', '2026-03-10T01:40:00.000Z']);
    expect(scheduler.list()[0]).toMatchObject({ runningJobId: 'run-2', lastRun: { jobId: 'run-2' }, skippedRuns: 2 });
    await scheduler.close();
  });

  it('records why a run could not start, and tries again at the next time', async () => {
    const clock = new ManualClock(T0);
    const starter = jobStarter();
    const scheduler = new BatchScheduler({ clock, log, start: starter.start(clock), schedules: { hourly: { cron: '0 * * * *', job: '/missing.yaml' } } });
    scheduler.start();
    starter.failWith('cannot read /missing.yaml: no such file');
    clock.advance(HOUR);
    await flush();
    expect(scheduler.list()[0]).toMatchObject({ runningJobId: null, lastRun: null, lastError: 'cannot read /missing.yaml: no such file' });
    clock.advance(HOUR);
    await flush();
    expect(scheduler.list()[0]).toMatchObject({ runningJobId: 'run-1', lastError: null });
    await scheduler.close();
  });

  it('waits in bounded timers for a run weeks away', async () => {
    const clock = new ManualClock(T0);
    const starter = jobStarter();
    // 1 April, 00:00: three weeks away — longer than one Node timer may wait.
    const scheduler = new BatchScheduler({ clock, log, start: starter.start(clock), schedules: { monthly: { cron: '0 0 1 * *', job: '/j.yaml' } } });
    scheduler.start();
    clock.advance(Date.parse('2026-04-01T00:00:00Z') - T0 - 1);
    await flush();
    expect(starter.runs).toHaveLength(0);
    clock.advance(1);
    await flush();
    expect(starter.runs.map((r) => new Date(r.at).toISOString())).toEqual(['2026-04-01T00:00:00.000Z']);
    await scheduler.close();
  });

  it('shows the last run from the job history after a restart', async () => {
    const clock = new ManualClock(T0);
    const starter = jobStarter();
    const record = (id: string, origin: string, createdAtMs: number, status: BatchJobRecord['status']): BatchJobRecord => ({ id, name: 'n', status, spec: {}, origin, createdAtMs, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 });
    const history = async () => [record('api-1', 'api', T0 - 10, 'succeeded'), record('old-2', 'schedule:nightly', T0 - HOUR, 'failed'), record('old-1', 'schedule:nightly', T0 - 25 * HOUR, 'succeeded')];
    const scheduler = new BatchScheduler({ clock, log, start: starter.start(clock), history, schedules: { nightly: { cron: '0 2 * * *', job: '/j.yaml' }, other: { cron: '0 3 * * *', job: '/k.yaml' } } });
    await scheduler.loadHistory();
    scheduler.start();
    expect(scheduler.list().map((s) => s.lastRun)).toEqual([{ jobId: 'old-2', startedAtMs: T0 - HOUR, status: 'failed' }, null]);
    await scheduler.close();
  });
});
