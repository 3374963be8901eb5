// Schedules: batch jobs the server runs by itself on a cron expression (`schedules:` in
// sibyl.yaml). A schedule names a job file (a job.yaml, relative to sibyl.yaml's folder) and the
// cron expression (5 fields, or 6 with seconds first) in a time zone (default UTC).
import { Cron } from 'croner';
import Type, { type Static } from 'typebox';
import { fieldDefault } from './schema-defaults.ts';
import type { ConfigProblem } from './validate.ts';

export const ScheduleConfigSchema = Type.Object(
  {
    cron: Type.String({ minLength: 1, description: "When to run: a cron expression, 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. '0 2 * * *' for 02:00 every day." }),
    job: Type.String({ minLength: 1, description: "The job file (job.yaml) to run, relative to sibyl.yaml's folder." }),
    timezone: Type.Optional(Type.String({ minLength: 1, default: 'UTC', description: "IANA time zone the expression is read in, e.g. 'Europe/Paris'." })),
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'false keeps the schedule listed but never runs it.' })),
  },
  { additionalProperties: false },
);

export type ScheduleConfig = Readonly<Static<typeof ScheduleConfigSchema>>;

export const SchedulesSchema = Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }), ScheduleConfigSchema, {
  default: {},
  description:
    'Batch jobs the server runs on a schedule: name → {cron, job, timezone?, enabled?}. A run due while the previous run of the same schedule is still going is skipped (and counted in GET /v1/batch/schedules). See docs/batch-operations.md.',
});

/** A schedule's time zone and whether it runs when the config does not say (the schema's defaults). */
export const SCHEDULE_DEFAULTS = {
  timezone: fieldDefault<string>(ScheduleConfigSchema, 'timezone'),
  enabled: fieldDefault<boolean>(ScheduleConfigSchema, 'enabled'),
} as const;

/** The problems of a schedule's cron expression and time zone, with their field paths. */
export function scheduleProblems(name: string, schedule: ScheduleConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const timezone = schedule.timezone ?? SCHEDULE_DEFAULTS.timezone;
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    problems.push({ path: `schedules.${name}.timezone`, message: `${JSON.stringify(timezone)} is not a time zone; expected an IANA name such as UTC or Europe/Paris` });
    return problems;
  }
  try {
    new Cron(schedule.cron, { timezone, paused: true }).stop();
  } catch (err) {
    problems.push({ path: `schedules.${name}.cron`, message: `${JSON.stringify(schedule.cron)} is not a cron expression (${(err as Error).message}); expected 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "0 2 * * *"` });
  }
  return problems;
}

/**
 * When a schedule runs next strictly after `afterMs` (epoch ms), or undefined when never again.
 * Pure: the same inputs give the same answer, whatever the time is.
 */
export function nextRunAfter(schedule: Pick<ScheduleConfig, 'cron' | 'timezone'>, afterMs: number): number | undefined {
  const cron = new Cron(schedule.cron, { timezone: schedule.timezone ?? SCHEDULE_DEFAULTS.timezone, paused: true });
  const next = cron.nextRun(new Date(afterMs));
  cron.stop();
  return next === null ? undefined : next.getTime();
}
