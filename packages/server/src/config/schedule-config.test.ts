import { describe, expect, it } from 'vitest';
import { nextRunAfter } from './schedule-config.ts';
import { compileServerConfig, serverConfigDefaults } from './server-config.ts';
import { configErrorMessage } from '../testing/config-error.ts';

const at = (iso: string): number => Date.parse(iso);

function compileFile(document: unknown): ReturnType<typeof compileServerConfig> {
  return compileServerConfig({ defaults: serverConfigDefaults('/repo'), file: { path: '/etc/sibyl.yaml', document }, env: {}, flags: {} });
}

const messageOf = configErrorMessage;

describe('schedules: next run', () => {
  it('is the next time the expression names, strictly after the given time, in UTC by default', () => {
    const nightly = { cron: '0 2 * * *' };
    expect(new Date(nextRunAfter(nightly, at('2026-03-10T01:59:59Z'))!).toISOString()).toBe('2026-03-10T02:00:00.000Z');
    expect(new Date(nextRunAfter(nightly, at('2026-03-10T02:00:00Z'))!).toISOString()).toBe('2026-03-11T02:00:00.000Z');
    expect(new Date(nextRunAfter({ cron: '*/15 * * * *' }, at('2026-03-10T10:07:00Z'))!).toISOString()).toBe('2026-03-10T10:15:00.000Z');
  });

  it('reads the expression in its time zone, daylight saving included', () => {
    // Paris is UTC+1 in winter, UTC+2 in summer (from 2026-03-29).
    const paris = { cron: '0 2 * * *', timezone: 'Europe/Paris' };
    expect(new Date(nextRunAfter(paris, at('2026-01-15T12:00:00Z'))!).toISOString()).toBe('2026-01-16T01:00:00.000Z');
    expect(new Date(nextRunAfter(paris, at('2026-07-15T12:00:00Z'))!).toISOString()).toBe('2026-07-16T00:00:00.000Z');
  });

  it('takes six fields with seconds first', () => {
    expect(new Date(nextRunAfter({ cron: '30 * * * * *' }, at('2026-03-10T10:07:31Z'))!).toISOString()).toBe('2026-03-10T10:08:30.000Z');
  });
});

describe('schedules in sibyl.yaml', () => {
  it('compile with the job file and time zone as given', () => {
    const config = compileFile({ schedules: { nightly: { cron: '0 2 * * *', job: '/jobs/nightly.yaml', timezone: 'Europe/Paris' } } });
    expect(config.schedules).toEqual({ nightly: { cron: '0 2 * * *', job: '/jobs/nightly.yaml', timezone: 'Europe/Paris' } });
    expect(compileFile({}).schedules).toEqual({});
  });

  it('name the file, the schedule and what was expected when wrong', () => {
    expect(messageOf(() => compileFile({ schedules: { nightly: { cron: 'every night', job: 'j.yaml' } } }))).toMatch(
      /\/etc\/sibyl\.yaml: schedules\.nightly\.cron: "every night" is not a cron expression .*expected 5 fields/,
    );
    expect(messageOf(() => compileFile({ schedules: { nightly: { cron: '0 2 * * *', job: 'j.yaml', timezone: 'Mars/Olympus' } } }))).toMatch(
      /schedules\.nightly\.timezone: "Mars\/Olympus" is not a time zone; expected an IANA name/,
    );
    expect(messageOf(() => compileFile({ schedules: { nightly: { cron: '0 2 * * *' } } }))).toMatch(/schedules\.nightly.*job/);
    expect(messageOf(() => compileFile({ schedules: { nightly: { cron: '0 2 * * *', job: 'j.yaml', when: 'now' } } }))).toMatch(/schedules\.nightly.*when/);
  });
});
