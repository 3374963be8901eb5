// Disk full under the state store (SQLite), the prediction log (SQLite and JSON Lines) and the
// prediction store (SQLite): inference goes on with right answers, each component that cannot
// write is named degraded (readiness body, sibyl_component_degraded, log), nothing crashes, and
// each recovers by itself when space returns. The disk is a 4 MiB tmpfs (needs root; see
// fault-tmpfs.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../../src/server.ts';
import { SqliteStateStore } from '../../src/state/sqlite-state-store.ts';
import { createTestServer, linearClassifierExpected, linearClassifierModel, makeTempDir, parsePrometheusText, removeDir, sampleValue, writeModelRepository } from '../../src/testing/index.ts';
import { mountSmallDisk, type SmallDisk } from './fault-tmpfs.ts';

const IRIS = { weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], bias: [0.5, 0, -0.5] };

describe.each(['sqlite', 'jsonl'] as const)('disk full, prediction log sink %s', (sink) => {
  let disk: SmallDisk;
  let repo: string;
  let server: SibylServer;

  beforeAll(async () => {
    disk = await mountSmallDisk(4 * 1024 * 1024);
    repo = await makeTempDir('sibyl-diskfull-repo-');
    await writeModelRepository(repo, {
      iris: { versions: { 1: linearClassifierModel(IRIS).bytes, 2: linearClassifierModel(IRIS).bytes }, config: 'versionPolicy:\n  all: true\npredictionLog:\n  sampleRate: 1\n' },
    });
    server = await createTestServer(repo, {
      store: await SqliteStateStore.open(path.join(disk.dir, 'state.sqlite')),
      // The state store's folder is the data directory (where API jobs write reject files); API
      // jobs read their CSV from the repository folder (the management sandbox).
      stateStore: path.join(disk.dir, 'state.sqlite'),
      sandbox: { sourceRoots: [repo], connections: {} },
      predictionStore: { backend: 'sqlite', path: path.join(disk.dir, 'predictions.sqlite'), url: '', tablePrefix: 'sibyl_' },
      predictionLog: { sink, path: path.join(disk.dir, `log.${sink}`), postgresUrl: '', postgresTable: 'unused', hashKey: 'k', queueRecords: 100_000, flushIntervalMs: 60_000, retentionDays: 30 },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.shutdown();
    await disk?.unmount();
    await removeDir(repo);
  });

  const row = (i: number) => [i % 7, (i * 3) % 5, 1, i % 2];

  async function inferMany(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const res = await server.http.inject({
        method: 'POST',
        url: '/v2/models/iris/versions/1/infer',
        headers: { 'content-type': 'application/json' },
        payload: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: row(i) }] },
      });
      expect(res.statusCode).toBe(200);
      const expected = linearClassifierExpected(IRIS.weights, IRIS.bias, [row(i)]).logits[0]!;
      const logits = res.json().outputs.find((o: { name: string }) => o.name === 'logits').data as number[];
      logits.forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 4));
    }
  }

  async function degraded(): Promise<Record<string, number>> {
    const ready = await server.http.inject({ method: 'GET', url: '/v2/health/ready' });
    expect(ready.statusCode).toBe(200); // inference is ready whatever the stores do
    const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
    const fromMetric = Object.fromEntries(
      ['state_store', 'prediction_store', 'prediction_log', 'response_cache'].map((c) => [c, sampleValue(metrics, 'sibyl_component_degraded', { component: c })!]),
    );
    const body = ready.json() as { degraded?: { component: string; reason: string }[] };
    expect(Object.entries(fromMetric).filter(([, v]) => v === 1).map(([c]) => c)).toEqual((body.degraded ?? []).map((d) => d.component));
    return fromMetric;
  }

  const chunk = (jobId: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ model: 'iris', key: `c${i}`, version: '1', jobId, createdAtMs: 1, outputs: [{ name: 'logits', datatype: 'FP32', shape: [3], data: [i, 0.5, 1] }] }));

  it('degrades the components that cannot write, keeps answering, and recovers when space returns', async () => {
    await inferMany(20);
    await server.observability.predictions!.flush();
    await server.predictionStore.commitChunk('before', 0, chunk('before', 50));
    expect(await degraded()).toEqual({ state_store: 0, prediction_store: 0, prediction_log: 0, response_cache: 0 });

    disk.fill();
    // Inference goes on, with right answers.
    await inferMany(300);
    await server.observability.predictions!.flush();
    // A batch job's commit fails with the store's error (the job would fail, retryable later).
    await expect(server.predictionStore.commitChunk('during', 0, chunk('during', 2000))).rejects.toThrow(/full|ENOSPC|SQLITE_FULL/i);
    // A label move takes effect but cannot be saved: the state store is named degraded.
    const label = await server.http.inject({ method: 'PUT', url: '/v2/repository/models/iris/labels/stable', headers: { 'content-type': 'application/json' }, payload: { version: 2 } });
    expect([200, 503]).toContain(label.statusCode);
    expect(await degraded()).toEqual({ state_store: 1, prediction_store: 1, prediction_log: 1, response_cache: 0 });
    const body = (await server.http.inject({ method: 'GET', url: '/v2/health/ready' })).json();
    for (const d of body.degraded) expect(d.reason).toMatch(/full|ENOSPC/i);
    // Stored predictions are still read.
    const stored = await server.http.inject({ method: 'GET', url: '/v1/predictions/iris/c3' });
    expect(stored.statusCode).toBe(200);
    expect(stored.json().outputs[0].data).toEqual([3, 0.5, 1]);

    disk.free();
    await inferMany(5);
    await server.observability.predictions!.flush();
    await server.predictionStore.commitChunk('after', 0, chunk('after', 50));
    const again = await server.http.inject({ method: 'PUT', url: '/v2/repository/models/iris/labels/stable', headers: { 'content-type': 'application/json' }, payload: { version: 1 } });
    expect(again.statusCode).toBe(200);
    expect(await degraded()).toEqual({ state_store: 0, prediction_store: 0, prediction_log: 0, response_cache: 0 });
    expect((await server.http.inject({ method: 'GET', url: '/v2/health/ready' })).json()).toEqual({ ready: true });
    // The records written before and after the outage are whole; those of the outage are dropped
    // (counted as failed), none half written.
    if (sink === 'jsonl') {
      const lines = readFileSync(path.join(disk.dir, 'log.jsonl'), 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => (JSON.parse(l) as { model: string }).model)).toEqual(Array(25).fill('iris'));
    }
    const logged = await server.observability.predictions!.query({ model: 'iris', sinceMs: 0, limit: 10_000 });
    expect(logged).toHaveLength(25);
  }, 120_000);

  it('a batch job: refused 503 while its record cannot be written; failed with the reason when its chunks cannot be; resumed once space returns', async () => {
    const rows = 3000;
    const csv = path.join(repo, 'rows.csv');
    writeFileSync(csv, ['id,a,b,c,d', ...Array.from({ length: rows }, (_, i) => [`k${i}`, ...row(i)].join(','))].join('\n') + '\n');
    const spec = { name: `full-${sink}`, source: { csv }, key: 'id', inputs: { features: { columns: ['a', 'b', 'c', 'd'] } }, target: { model: 'iris', version: 1 }, chunkRows: 1000, rejects: path.join(disk.dir, 'rejects.jsonl') };
    const start = () => server.http.inject({ method: 'POST', url: '/v1/batch/jobs', headers: { 'content-type': 'application/json' }, payload: spec });
    let id: string;
    try {
      disk.fill();
      const refused = await start();
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'UNAVAILABLE', reason: 'PREDICTION_STORE_UNAVAILABLE' });
      expect(refused.json().error).toMatch(/^the prediction store could not saveJob: .*(full|ENOSPC)/i);
      disk.free();
      // Room for the job's record, not for its chunks.
      disk.fill(24 * 1024);
      const started = await start();
      expect(started.statusCode).toBe(202);
      id = started.json().id;
      const failed = await server.batchJobs.whenDone(id)!;
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/full|ENOSPC/i);
    } finally {
      disk.free();
    }
    const resumed = await server.http.inject({ method: 'POST', url: `/v1/batch/jobs/${id}/resume` });
    expect(resumed.statusCode).toBe(202);
    const done = await server.batchJobs.whenDone(id)!;
    expect(done).toMatchObject({ status: 'succeeded', rowsWritten: rows });
    expect((await server.predictionStore.lookup('iris', ['k2999'])).get('k2999')?.jobId).toBe(id);
    expect(await degraded()).toEqual({ state_store: 0, prediction_store: 0, prediction_log: 0, response_cache: 0 });
  }, 120_000);
});
