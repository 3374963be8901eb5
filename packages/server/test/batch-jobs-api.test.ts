// Batch jobs inside the server, through its HTTP API (Fastify inject): a real ONNX model, the real
// runner and SQLite stores. Start (a spec or a job file), status, history, cancel, resume; errors
// that name what was wrong.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchJobView } from '../src/batch/job-manager.ts';
import { createTestServer, linearClassifierExpected, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';
import type { SibylServer } from '../src/server.ts';
import { LINEAR_4X3 } from './fixtures.ts';

let dir: string;
let server: SibylServer;

const ROWS = 500;
const BIG = 20_000;
const features = (i: number): number[] => [i / 100, 1 - i / 250, (i % 7) * 0.5, -i / 333];

async function writeCsv(file: string, rows: number): Promise<void> {
  let text = 'id,a,b,c,d\n';
  for (let i = 0; i < rows; i++) text += `c${i},${features(i).join(',')}\n`;
  await writeFile(file, text);
}

const spec = (csv: string, extra: Record<string, unknown> = {}) => ({
  name: 'scores',
  source: { csv },
  key: 'id',
  inputs: { features: { columns: ['a', 'b', 'c', 'd'] } },
  target: { model: 'linear' },
  chunkRows: 100,
  ...extra,
});

async function call<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await server.http.inject({ method, url, ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  return { status: res.statusCode, body: res.json() as T };
}

beforeAll(async () => {
  dir = await makeTempDir('sibyl-batch-api-');
  await writeModelRepository(path.join(dir, 'models'), { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  await writeCsv(path.join(dir, 'customers.csv'), ROWS);
  await writeCsv(path.join(dir, 'big.csv'), BIG);
  await mkdir(path.join(dir, 'jobs'));
  await writeFile(path.join(dir, 'jobs', 'nightly.yaml'), `name: nightly\nsource: {csv: ../customers.csv}\nkey: id\ninputs: {features: {columns: [a, b, c, d]}}\ntarget: {model: linear}\nchunkRows: 64\n`);
  // The sandbox lets API jobs read the test's folder (and /dev, for the special-file refusals).
  server = await createTestServer(path.join(dir, 'models'), { configDir: dir, sandbox: { sourceRoots: [dir, '/dev'], connections: {} }, stateStore: path.join(dir, 'state', 'state.sqlite'), endpoints: { scoring: { target: { model: 'linear', version: 1 } } } as never, predictionStore: { backend: 'sqlite', path: path.join(dir, 'predictions.sqlite'), url: '', tablePrefix: 'sibyl_' } });
});

afterAll(async () => {
  await server?.shutdown();
  await removeDir(dir);
});

describe('POST /v1/batch/jobs', () => {
  it('starts a job from a spec: 202 queued, then succeeded with every row stored as the model answers it', async () => {
    const started = await call<BatchJobView>('POST', '/v1/batch/jobs', spec(path.join(dir, 'customers.csv')));
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ name: 'scores', origin: 'api' });
    expect(['queued', 'running']).toContain(started.body.status);
    const final = await server.batchJobs.whenDone(started.body.id)!;
    expect(final.status).toBe('succeeded');
    const shown = await call<BatchJobView>('GET', `/v1/batch/jobs/${started.body.id}`);
    expect(shown.body).toMatchObject({ id: started.body.id, status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS, rowsRejected: 0, chunksCommitted: 5, chunksTotal: 5 });
    expect(shown.body.progress).toBeUndefined();
    const keys = ['c0', 'c123', 'c499'];
    const stored = await server.predictionStore.lookup('linear', keys);
    const expected = linearClassifierExpected(LINEAR_4X3.weights, LINEAR_4X3.bias, [0, 123, 499].map(features));
    keys.forEach((key, i) => {
      const logits = stored.get(key)!.outputs.find((o) => o.name === 'logits')!;
      expect(stored.get(key)!.jobId).toBe(started.body.id);
      expect(logits.data.map(Number)).toEqual(expected.logits[i]!.map((v) => expect.closeTo(v, 5)));
    });
  });

  it('starts a job file relative to the folder of sibyl.yaml', async () => {
    const started = await call<BatchJobView>('POST', '/v1/batch/jobs', { jobFile: 'jobs/nightly.yaml' });
    expect(started.status).toBe(202);
    const final = await server.batchJobs.whenDone(started.body.id)!;
    expect(final).toMatchObject({ name: 'nightly', status: 'succeeded', rowsWritten: ROWS, chunksTotal: 8 });
    // The record keeps the spec with absolute paths, so it can be resumed from anywhere.
    expect((final.spec as { source: { csv: string } }).source.csv).toBe(path.join(dir, 'customers.csv'));
  });

  it('scores through an endpoint, whose policy picks the version, storing under the endpoint name', async () => {
    const started = await call<BatchJobView>('POST', '/v1/batch/jobs', spec(path.join(dir, 'customers.csv'), { name: 'via-endpoint', target: { endpoint: 'scoring' } }));
    expect(started.status).toBe(202);
    const final = await server.batchJobs.whenDone(started.body.id)!;
    expect(final).toMatchObject({ status: 'succeeded', rowsWritten: ROWS });
    const stored = await server.predictionStore.lookup('scoring', ['c42']);
    const expected = linearClassifierExpected(LINEAR_4X3.weights, LINEAR_4X3.bias, [features(42)]);
    expect(stored.get('c42')!.version).toBe('1');
    expect(stored.get('c42')!.outputs.find((o) => o.name === 'logits')!.data.map(Number)).toEqual(expected.logits[0]!.map((v) => expect.closeTo(v, 5)));
  });

  it('refuses a wrong spec, an unknown model or a missing file with 4xx naming what was wrong', async () => {
    const bad = await call<{ error: string; reason: string }>('POST', '/v1/batch/jobs', { ...spec('x.csv'), key: 7 });
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe('BATCH_JOB_INVALID');
    expect(bad.body.error).toMatch(/key/);
    const unknown = await call<{ error: string; reason: string }>('POST', '/v1/batch/jobs', spec(path.join(dir, 'customers.csv'), { target: { model: 'nope' } }));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/model 'nope'.*POST \/v2\/repository\/index/);
    expect(unknown.body.error).not.toContain("'linear'");
    const missing = await call<{ error: string; reason: string }>('POST', '/v1/batch/jobs', { jobFile: 'jobs/missing.yaml' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain(`${path.join(dir, 'jobs', 'missing.yaml')}: file not found`);
    const extra = await call<{ error: string }>('POST', '/v1/batch/jobs', { jobFile: 'jobs/nightly.yaml', name: 'x' });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatch(/"jobFile" has no other fields.*"name"/);
    const empty = await server.http.inject({ method: 'POST', url: '/v1/batch/jobs' });
    expect(empty.statusCode).toBe(400);
  });
});

describe('what a job record says (issue 13)', () => {
  it('refuses a source that is not a regular file (/dev/zero, a directory) with 400 before the job starts', async () => {
    for (const [source, what] of [
      [{ csv: '/dev/zero' }, 'the CSV source /dev/zero is a character device; expected a regular file'],
      [{ jsonl: dir }, `the JSON Lines source ${dir} is a directory; expected a regular file`],
    ] as const) {
      const res = await call<{ error: string; reason: string }>('POST', '/v1/batch/jobs', { ...spec('x.csv'), name: 'special', source });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ reason: 'BATCH_SOURCE_INVALID', error: what });
    }
    expect((await call<{ jobs: BatchJobView[] }>('GET', '/v1/batch/jobs?name=special')).body.jobs).toEqual([]);
  });

  it("names the store the job wrote — the server's — not the one its spec names, nor the default", async () => {
    const started = await call<BatchJobView>('POST', '/v1/batch/jobs', spec(path.join(dir, 'customers.csv'), { name: 'own-store', store: { sqlite: 'elsewhere.sqlite' } }));
    expect(started.status).toBe(202);
    const final = await server.batchJobs.whenDone(started.body.id)!;
    expect(final.status).toBe('succeeded');
    const shown = await call<BatchJobView>('GET', `/v1/batch/jobs/${started.body.id}`);
    expect((shown.body.spec as { store: unknown }).store).toEqual({ sqlite: path.join(dir, 'predictions.sqlite') });
    expect(existsSync(path.join(dir, 'elsewhere.sqlite'))).toBe(false);
    expect((await server.predictionStore.lookup('linear', ['c7'])).get('c7')?.jobId).toBe(started.body.id);
    const plain = await call<BatchJobView>('POST', '/v1/batch/jobs', spec(path.join(dir, 'customers.csv'), { name: 'default-store' }));
    await server.batchJobs.whenDone(plain.body.id);
    expect(((await call<BatchJobView>('GET', `/v1/batch/jobs/${plain.body.id}`)).body.spec as { store: unknown }).store).toEqual({ sqlite: path.join(dir, 'predictions.sqlite') });
  });

  it("writes the reject file of a spec without `rejects` beside the server's state store, not in the folder of sibyl.yaml", async () => {
    const csv = path.join(dir, 'bad.csv');
    await writeFile(csv, 'id,a,b,c,d\nok,1,2,3,4\nbad,1,x,3,4\n');
    const started = await call<BatchJobView>('POST', '/v1/batch/jobs', spec(csv, { name: 'with-rejects' }));
    const final = await server.batchJobs.whenDone(started.body.id)!;
    expect(final).toMatchObject({ status: 'succeeded', rowsWritten: 1, rowsRejected: 1 });
    const rejects = path.join(dir, 'state', 'rejects', 'with-rejects.rejects.jsonl');
    expect((final.spec as { rejects: string }).rejects).toBe(rejects);
    expect(JSON.parse(await readFile(rejects, 'utf8'))).toMatchObject({ jobId: started.body.id, key: 'bad', rowNumber: 3 });
    expect(existsSync(path.join(dir, 'with-rejects.rejects.jsonl'))).toBe(false);
  });
});

describe('history, status and cancel', () => {
  it('lists jobs newest first, and filters by name', async () => {
    const { body } = await call<{ jobs: BatchJobView[] }>('GET', '/v1/batch/jobs');
    expect(body.jobs.length).toBeGreaterThanOrEqual(2);
    const created = body.jobs.map((j) => j.createdAtMs);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const nightly = await call<{ jobs: BatchJobView[] }>('GET', '/v1/batch/jobs?name=nightly');
    expect(nightly.body.jobs.map((j) => j.name)).toEqual(['nightly']);
    expect((await call('GET', '/v1/batch/jobs?limit=0')).status).toBe(400);
  });

  it('shows progress while a job runs, cancels it, and resumes it to every row exactly once', async () => {
    const started = await call<BatchJobView>('POST', '/v1/batch/jobs', spec(path.join(dir, 'big.csv'), { name: 'big', chunkRows: 500, requestRows: 1, concurrency: 1 }));
    const id = started.body.id;
    // Wait (without timing) until some chunks are committed.
    let running: BatchJobView;
    for (;;) {
      running = (await call<BatchJobView>('GET', `/v1/batch/jobs/${id}`)).body;
      if ((running.progress?.chunksCommitted ?? 0) >= 2 || running.status === 'succeeded') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(running.status).toBe('running');
    // The CSV source estimates its rows from the file's size: a total, a fraction and an ETA.
    expect(running.progress).toMatchObject({ chunksTotal: null, rowsTotal: expect.any(Number), etaSeconds: expect.any(Number), fraction: expect.any(Number) });
    expect(running.progress!.rowsRead).toBeGreaterThanOrEqual(1000);
    expect(running.progress!.rowsPerSecond).toBeGreaterThan(0);
    expect(running.progress!.elapsedMs).toBeGreaterThan(0);
    const cancelled = await call<BatchJobView>('POST', `/v1/batch/jobs/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.chunksCommitted).toBeGreaterThanOrEqual(2);
    expect(cancelled.body.chunksCommitted).toBeLessThan(BIG / 500);
    const again = await call<{ reason: string }>('POST', `/v1/batch/jobs/${id}/cancel`);
    expect(again.status).toBe(400);
    expect(again.body.reason).toBe('BATCH_JOB_NOT_RUNNING');

    const resumed = await call<BatchJobView>('POST', `/v1/batch/jobs/${id}/resume`);
    expect(resumed.status).toBe(202);
    expect(resumed.body.id).toBe(id);
    const final = await server.batchJobs.whenDone(id)!;
    expect(final).toMatchObject({ id, status: 'succeeded', chunksCommitted: BIG / 500, chunksTotal: BIG / 500, rowsWritten: BIG });
    const keys = Array.from({ length: BIG }, (_, i) => `c${i}`);
    const stored = await server.predictionStore.lookup('linear', keys);
    expect(stored.size).toBe(BIG);
    expect(new Set([...stored.values()].map((p) => p.jobId))).toEqual(new Set([id]));
  });

  it('answers 404 for an unknown job', async () => {
    for (const [method, url] of [['GET', '/v1/batch/jobs/nope'], ['POST', '/v1/batch/jobs/nope/cancel'], ['POST', '/v1/batch/jobs/nope/resume']] as const) {
      const res = await call<{ reason: string; error: string }>(method, url);
      expect(res.status).toBe(404);
      expect(res.body.reason).toBe('BATCH_JOB_NOT_FOUND');
    }
  });

  it('lists no schedules when sibyl.yaml has none', async () => {
    expect((await call('GET', '/v1/batch/schedules')).body).toEqual({ schedules: [] });
  });
});
