// Schedules inside the server: each `schedules.<name>` of sibyl.yaml starts its job file at the
// times its cron expression names (config/schedule-config.ts computes them, purely). Time comes
// from the injected Clock, so tests move a ManualClock instead of sleeping.
//
// - Overlap: a run that comes due while the schedule's previous run is still going is skipped;
//   the skip is counted, logged and shown in the schedule's status (GET /v1/batch/schedules).
// - Missed runs (the server was down at the time) are not made up: the next run is the next time
//   the expression names after the server started.
// - A run that fails to start (the job file is wrong) is recorded as the schedule's last error.
import type { Logger } from 'pino';
import type { CancelTimer, Clock } from '../core/clock.ts';
import { SCHEDULE_DEFAULTS, nextRunAfter, type ScheduleConfig } from '../config/schedule-config.ts';
import type { BatchJobRecord } from './prediction-store.ts';

/** Longest single timer: Node's setTimeout overflows past 2^31 ms, so long waits are re-armed. */
const MAX_TIMER_MS = 3_600_000;

export interface ScheduleStatus {
  name: string;
  cron: string;
  timezone: string;
  job: string;
  enabled: boolean;
  /** Epoch ms of the next run; null when disabled or never again. */
  nextRunAtMs: number | null;
  lastRun: { jobId: string; startedAtMs: number; status: BatchJobRecord['status'] } | null;
  /** The id of the run going now. */
  runningJobId: string | null;
  /** Runs skipped because the previous one was still going, since the server started. */
  skippedRuns: number;
  lastSkippedAtMs: number | null;
  /** Why the last run could not start, if it could not. */
  lastError: string | null;
}

export interface BatchSchedulerOptions {
  schedules: Readonly<Record<string, ScheduleConfig>>;
  clock: Clock;
  log: Logger;
  /** Starts a run of the schedule's job; `done` settles when it ends. */
  start: (name: string, schedule: ScheduleConfig) => Promise<{ record: BatchJobRecord; done: Promise<BatchJobRecord> }>;
  /** Recent job records, newest first, where the last run of each schedule (origin `schedule:<name>`) is found after a restart. */
  history?: () => Promise<readonly BatchJobRecord[]>;
}

interface Entry {
  name: string;
  config: ScheduleConfig;
  status: ScheduleStatus;
  cancel?: CancelTimer;
}

export class BatchScheduler {
  private readonly entries: Entry[];
  private started = false;
  private closed = false;
  /** Runs being started or going, so close() can wait for the starts. */
  private readonly starting = new Set<Promise<unknown>>();

  constructor(private readonly options: BatchSchedulerOptions) {
    this.entries = Object.entries(options.schedules).map(([name, config]) => ({
      name,
      config,
      status: {
        name,
        cron: config.cron,
        timezone: config.timezone ?? SCHEDULE_DEFAULTS.timezone,
        job: config.job,
        enabled: config.enabled ?? SCHEDULE_DEFAULTS.enabled,
        nextRunAtMs: null,
        lastRun: null,
        runningJobId: null,
        skippedRuns: 0,
        lastSkippedAtMs: null,
        lastError: null,
      },
    }));
  }

  /** Arms every enabled schedule from the clock's current time. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const entry of this.entries) if (entry.status.enabled) this.arm(entry, this.options.clock.epochMs());
  }

  /** Fills each schedule's last run from the job history (runs before this server started), where it has none yet. */
  async loadHistory(): Promise<void> {
    const records = (await this.options.history?.()) ?? [];
    for (const entry of this.entries) {
      const last = records.find((r) => r.origin === `schedule:${entry.name}`);
      if (last !== undefined && entry.status.lastRun === null) entry.status.lastRun = { jobId: last.id, startedAtMs: last.createdAtMs, status: last.status };
    }
  }

  /** The schedules with their next and last runs, in configuration order. */
  list(): ScheduleStatus[] {
    return this.entries.map((e) => ({ ...e.status, lastRun: e.status.lastRun === null ? null : { ...e.status.lastRun } }));
  }

  private arm(entry: Entry, afterMs: number): void {
    if (this.closed) return;
    const next = nextRunAfter(entry.config, afterMs);
    entry.status.nextRunAtMs = next ?? null;
    if (next !== undefined) this.wait(entry, next);
  }

  private wait(entry: Entry, dueMs: number): void {
    const delay = dueMs - this.options.clock.epochMs();
    entry.cancel = this.options.clock.setTimeout(
      () => (this.options.clock.epochMs() >= dueMs ? this.fire(entry, dueMs) : this.wait(entry, dueMs)),
      Math.min(Math.max(0, delay), MAX_TIMER_MS),
    );
  }

  private fire(entry: Entry, dueMs: number): void {
    const { log } = this.options;
    const { status } = entry;
    // The next run is armed first, from the due time (not from now), so a slow start never shifts it.
    this.arm(entry, Math.max(dueMs, this.options.clock.epochMs() - 1));
    if (status.runningJobId !== null) {
      status.skippedRuns++;
      status.lastSkippedAtMs = dueMs;
      log.warn({ schedule: entry.name, runningJobId: status.runningJobId, dueAt: new Date(dueMs).toISOString() }, `schedule ${entry.name}: run skipped, the previous run ${status.runningJobId} is still going`);
      return;
    }
    status.runningJobId = 'starting';
    const started = this.options
      .start(entry.name, entry.config)
      .then(({ record, done }) => {
        status.runningJobId = record.id;
        status.lastRun = { jobId: record.id, startedAtMs: record.createdAtMs, status: record.status };
        status.lastError = null;
        return done.then(
          (final) => {
            if (status.lastRun?.jobId === final.id) status.lastRun.status = final.status;
          },
          () => undefined,
        );
      })
      .catch((err: unknown) => {
        status.lastError = (err as Error).message;
        log.error({ schedule: entry.name, err }, `schedule ${entry.name}: the run could not start: ${(err as Error).message}`);
      })
      .finally(() => {
        status.runningJobId = null;
        this.starting.delete(started);
      });
    this.starting.add(started);
  }

  /** Disarms every schedule (running jobs are the job manager's to stop). */
  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.entries) e.cancel?.();
    for (const e of this.entries) e.status.nextRunAtMs = null;
  }
}
