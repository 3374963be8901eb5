// `sibyl batch start|jobs|show|cancel|resume|schedules` against the real `sibyl serve` binary
// (spawned on a free port) with a real ONNX model and SQLite stores: jobs from job files, history
// and status, schedules from sibyl.yaml (one firing every second), and a job interrupted by a
// killed server — failed/interrupted after the restart, then resumed to every row exactly once.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchJobView } from '../src/batch/job-manager.ts';
import type { ScheduleStatus } from '../src/batch/schedules.ts';
import { SqlitePredictionStore } from '../src/batch/sqlite-prediction-store.ts';
import { registerBatchOpsCommands } from '../src/cli/batch-ops-command.ts';
import { linearClassifierModel, makeTempDir, removeDir, spawnSibyl, writeModelRepository, type SpawnedServer } from '../src/testing/index.ts';
import { cliRunner } from './cli-harness.ts';
import { LINEAR_4X3 } from './fixtures.ts';

let dir: string;
let server: SpawnedServer | undefined;
const BIG_ROWS = 60_000;

const sibyl = cliRunner(() => server!.url, registerBatchOpsCommands);

async function writeCsv(file: string, rows: number): Promise<void> {
  let text = 'id,a,b,c,d\n';
  for (let i = 0; i < rows; i++) text += `k${i},${i % 10},${(i % 7) / 2},-${i % 3},0.5\n`;
  await writeFile(file, text);
}

const job = (name: string, csv: string, extra = ''): string => `name: ${name}\nsource: {csv: ../${csv}}\nkey: id\ninputs: {features: {columns: [a, b, c, d]}}\ntarget: {model: linear}\nchunkRows: 500\n${extra}`;

async function getJob(id: string): Promise<BatchJobView> {
  return (await fetch(`${server!.url}/v1/batch/jobs/${id}`)).json() as Promise<BatchJobView>;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function configYaml(schedules: string): string {
  return [
    'modelRepository: models',
    'stateStore: state.sqlite',
    // Jobs started over the API read their files from the test's folder (the management sandbox).
    "sandbox: {sourceRoots: ['.']}",
    `predictionStore: {backend: sqlite, path: ${path.join(dir, 'predictions.sqlite')}}`,
    'logLevel: info',
    'schedules:',
    schedules,
  ].join('\n');
}

beforeAll(async () => {
  dir = await makeTempDir('sibyl-batch-cli-');
  await writeModelRepository(path.join(dir, 'models'), { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  await writeCsv(path.join(dir, 'small.csv'), 1200);
  await writeCsv(path.join(dir, 'big.csv'), BIG_ROWS);
  await mkdir(path.join(dir, 'jobs'));
  await writeFile(path.join(dir, 'jobs', 'small.yaml'), job('small', 'small.csv'));
  // One row per request: slow enough to kill the server while it runs.
  await writeFile(path.join(dir, 'jobs', 'big.yaml'), job('big', 'big.csv', 'requestRows: 1\nconcurrency: 1\n'));
  await writeFile(path.join(dir, 'jobs', 'tick.yaml'), job('tick', 'small.csv'));
  await writeFile(
    path.join(dir, 'sibyl.yaml'),
    configYaml('  nightly: {cron: "0 2 * * *", job: jobs/small.yaml, timezone: Europe/Paris}\n  tick: {cron: "* * * * * *", job: jobs/tick.yaml}\n  off: {cron: "0 * * * *", job: jobs/small.yaml, enabled: false}'),
  );
  server = await spawnSibyl(['--config', path.join(dir, 'sibyl.yaml')]);
});

afterAll(async () => {
  await server?.stop();
  await removeDir(dir);
});

describe('sibyl batch (server jobs)', () => {
  it('starts a job file, waits for it, and shows it in the history', async () => {
    const started = await sibyl('batch', 'start', path.join(dir, 'jobs', 'small.yaml'), '--wait', '--poll-interval-ms', '50');
    expect(started.code, started.err).toBe(0);
    expect(started.out).toMatch(/^\S+: small SUCCEEDED \(api\)\n/);
    expect(started.out).toContain('rows      1200 read, 1200 written, 0 rejected');
    expect(started.out).toContain('chunks    3 of 3 committed');
    const id = started.out.split(':')[0]!;

    const shown = await sibyl('batch', 'show', id, '--json');
    expect(JSON.parse(shown.out)).toMatchObject({ id, name: 'small', status: 'succeeded', origin: 'api', rowsWritten: 1200 });
    const jobs = await sibyl('batch', 'jobs', '--name', 'small');
    expect(jobs.code).toBe(0);
    const lines = jobs.out.trimEnd().split('\n');
    expect(lines[0]!.split(/\s+/).slice(0, 6)).toEqual(['ID', 'NAME', 'STATUS', 'ORIGIN', 'ROWS', 'REJECTED']);
    expect(lines[1]!.split(/\s+/).slice(0, 6)).toEqual([id, 'small', 'succeeded', 'api', '1200', '0']);

    // --job-file is relative to the folder of the server's sibyl.yaml.
    const byPath = await sibyl('batch', 'start', '--job-file', 'jobs/small.yaml');
    expect(byPath.code, byPath.err).toBe(0);
    expect(byPath.out).toMatch(/^\S+: small started; follow it with: sibyl batch show \S+\n$/);
  });

  it('reports refusals on stderr with exit code 1', async () => {
    const missing = await sibyl('batch', 'start', '--job-file', 'jobs/nope.yaml');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^sibyl: .*jobs\/nope\.yaml: file not found.*\(BATCH_JOB_INVALID\)\n$/);
    const unknown = await sibyl('batch', 'show', 'nope');
    expect(unknown).toMatchObject({ code: 1, err: expect.stringMatching(/^sibyl: no batch job "nope" .*\(BATCH_JOB_NOT_FOUND\)\n$/) });
    const both = await sibyl('batch', 'start', 'a.yaml', '--job-file', 'b.yaml');
    expect(both.code).toBe(1);
    expect(both.err).toContain('give either a job file');
  });

  it('lists the schedules with their next runs, and runs the one that is due every second', async () => {
    const tick = await until('the tick schedule to run', async () => {
      const { schedules } = (await (await fetch(`${server!.url}/v1/batch/schedules`)).json()) as { schedules: ScheduleStatus[] };
      const t = schedules.find((s) => s.name === 'tick')!;
      return t.lastRun?.status === 'succeeded' ? t : undefined;
    });
    expect(tick).toMatchObject({ cron: '* * * * * *', timezone: 'UTC', job: path.join(dir, 'jobs', 'tick.yaml'), enabled: true, lastError: null });
    const run = await getJob(tick.lastRun!.jobId);
    expect(run).toMatchObject({ name: 'tick', origin: 'schedule:tick', status: 'succeeded', rowsWritten: 1200 });

    const listed = await sibyl('batch', 'schedules');
    expect(listed.code).toBe(0);
    const rows = listed.out.trimEnd().split('\n');
    expect(rows[0]!.split(/\s{2,}/).slice(0, 5)).toEqual(['SCHEDULE', 'CRON', 'TIMEZONE', 'JOB', 'NEXT RUN']);
    const nightly = rows.find((r) => r.startsWith('nightly'))!;
    // 02:00 in Paris is 00:00 or 01:00 UTC, depending on the season.
    expect(nightly).toMatch(/^nightly\s+0 2 \* \* \*\s+Europe\/Paris\s+\S+small\.yaml\s+\d{4}-\d\d-\d\dT0[01]:00:00Z/);
    expect(rows.find((r) => r.startsWith('off'))).toMatch(/^off \(disabled\)/);
    const json = JSON.parse((await sibyl('batch', 'schedules', '--json')).out) as ScheduleStatus[];
    expect(json.find((s) => s.name === 'off')).toMatchObject({ enabled: false, nextRunAtMs: null });
  });

  it('marks a job interrupted by a killed server failed after the restart, and resumes it to every row once', async () => {
    const started = await sibyl('batch', 'start', path.join(dir, 'jobs', 'big.yaml'));
    expect(started.code, started.err).toBe(0);
    const id = started.out.split(':')[0]!;
    await until('the big job to commit chunks', async () => {
      const j = await getJob(id);
      return (j.progress?.chunksCommitted ?? 0) >= 2 ? j : undefined;
    });
    const shown = await sibyl('batch', 'show', id);
    expect(shown.out).toMatch(/ RUNNING \(api\)\n/);
    expect(shown.out).toMatch(/progress {2}\d+\/\d+ rows \([\d.]+%\), \d+ written, 0 rejected, \d+ rows\/s, ETA \S+/);

    server!.process.kill('SIGKILL');
    await server!.exited;
    server = await spawnSibyl(['--config', path.join(dir, 'sibyl.yaml')]);
    const after = await getJob(id);
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/^interrupted: the server stopped while the job ran; resume it with POST \/v1\/batch\/jobs\/\S+\/resume/);
    expect(after.chunksCommitted).toBeGreaterThanOrEqual(2);
    expect(after.chunksCommitted).toBeLessThan(BIG_ROWS / 500);

    const resumed = await sibyl('batch', 'resume', id);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(new RegExp(`^${id}: big resumed \\(\\d+ chunks committed before\\)`));
    // Cancel and resume once more: committed chunks are kept both times.
    await until('more chunks', async () => ((await getJob(id)).progress?.chunksCommitted ?? 0) > after.chunksCommitted + 1 || undefined);
    const cancelled = await sibyl('batch', 'cancel', id);
    expect(cancelled.out).toMatch(new RegExp(`^${id}: cancelled after \\d+ rows written\\n$`));
    expect((await sibyl('batch', 'resume', id)).code).toBe(0);
    const final = await until('the resumed job to end', async () => {
      const j = await getJob(id);
      return j.status === 'running' || j.status === 'queued' ? undefined : j;
    }, 120_000);
    expect(final).toMatchObject({ status: 'succeeded', chunksCommitted: BIG_ROWS / 500, chunksTotal: BIG_ROWS / 500 });
    const store = await SqlitePredictionStore.open(path.join(dir, 'predictions.sqlite'));
    try {
      const stored = await store.lookup('linear', Array.from({ length: BIG_ROWS }, (_, i) => `k${i}`));
      // Keys k0..k1199 are also written by the small jobs; the big job's rows are all there once.
      expect(stored.size).toBe(BIG_ROWS);
      const onlyBig = [...stored.entries()].filter(([key]) => Number(key.slice(1)) >= 1200);
      expect(onlyBig.length).toBe(BIG_ROWS - 1200);
      expect(onlyBig.every(([, p]) => p.jobId === id)).toBe(true);
      expect((await store.committedChunks(id)).size).toBe(BIG_ROWS / 500);
    } finally {
      await store.close();
    }
  }, 180_000);
});
