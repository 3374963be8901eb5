// PostgreSQL going down and coming back under load (a proxy in front of the shared server cuts
// or stalls the connections), with the prediction store and the prediction log on it: inference
// answers every request right throughout; stored-prediction lookups answer 503
// PREDICTION_STORE_UNAVAILABLE while it is down (never a wrong or empty answer, never a hang);
// prediction_store and prediction_log are named degraded (readiness body,
// sibyl_component_degraded) and recover by themselves when it returns.
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { SibylServer } from '../../src/server.ts';
import { createTestServer, linearClassifierExpected, linearClassifierModel, makeTempDir, parsePrometheusText, removeDir, sampleValue, writeModelRepository } from '../../src/testing/index.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { POSTGRES_URL } from './postgres.ts';

const IRIS = { weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], bias: [0.5, 0, -0.5] };
const PREFIX = `sibyl_test_fault_${process.pid}_${Date.now()}_`;
const LOG_TABLE = `${PREFIX}log`;
let proxy: FaultProxy;
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  const target = new URL(POSTGRES_URL);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(POSTGRES_URL);
  viaProxy.port = String(proxy.port);
  repo = await makeTempDir('sibyl-pg-outage-');
  await writeModelRepository(repo, { iris: { versions: { 1: linearClassifierModel(IRIS).bytes }, config: 'predictionLog:\n  sampleRate: 1\n' } });
  server = await createTestServer(repo, {
    predictionStore: { backend: 'postgres', path: '', url: viaProxy.href, tablePrefix: PREFIX, readTimeoutMs: 500 },
    predictionLog: { sink: 'postgres', path: '', postgresUrl: viaProxy.href, postgresTable: LOG_TABLE, hashKey: 'k', queueRecords: 100_000, flushIntervalMs: 60_000, retentionDays: 30, writeTimeoutMs: 1000 },
  });
  await server.predictionStore.commitChunk('fault-job', 0, [
    { model: 'iris', key: 'c1', version: '1', jobId: 'fault-job', createdAtMs: 1, outputs: [{ name: 'logits', datatype: 'FP32', shape: [3], data: [1, 2, 3] }] },
  ]);
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await proxy?.close();
  await removeDir(repo);
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${PREFIX}predictions, ${PREFIX}batch_jobs, ${PREFIX}batch_chunks, ${LOG_TABLE}`);
  await client.end();
});

const row = (i: number) => [i % 4, (i * 7) % 3, 1, 0.5];

async function load(n: number): Promise<void> {
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      server.http.inject({ method: 'POST', url: '/v2/models/iris/infer', headers: { 'content-type': 'application/json' }, payload: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: row(i) }] } }),
    ),
  );
  answers.forEach((res, i) => {
    expect(res.statusCode).toBe(200);
    const expected = linearClassifierExpected(IRIS.weights, IRIS.bias, [row(i)]).logits[0]!;
    (res.json().outputs.find((o: { name: string }) => o.name === 'logits').data as number[]).forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 4));
  });
}

async function degraded(): Promise<{ metrics: Record<string, number>; body: { ready: boolean; degraded?: { component: string; reason: string }[] } }> {
  const text = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
  const ready = await server.http.inject({ method: 'GET', url: '/v2/health/ready' });
  expect(ready.statusCode).toBe(200);
  const metrics = Object.fromEntries(['prediction_store', 'prediction_log'].map((c) => [c, sampleValue(text, 'sibyl_component_degraded', { component: c })!]));
  return { metrics, body: ready.json() };
}

const lookup = () => server.http.inject({ method: 'GET', url: '/v1/predictions/iris/c1' });

/** Resolves once, with PostgreSQL back, lookups answer 200 and neither component reports degraded. */
async function recovered(timeoutMs: number): Promise<void> {
  await vi.waitFor(
    async () => {
      await load(4);
      await server.observability.predictions!.flush();
      expect((await lookup()).statusCode).toBe(200);
      expect(await degraded()).toEqual({ metrics: { prediction_store: 0, prediction_log: 0 }, body: { ready: true } });
    },
    { timeout: timeoutMs, interval: 250 },
  );
}

it('serves inference throughout, refuses lookups with 503 while down, names and recovers both components', async () => {
  await load(20);
  await server.observability.predictions!.flush();
  expect((await lookup()).json().outputs[0].data).toEqual([1, 2, 3]);
  expect(await degraded()).toEqual({ metrics: { prediction_store: 0, prediction_log: 0 }, body: { ready: true } });

  proxy.cut();
  try {
    for (let round = 0; round < 5; round++) await load(40);
    await server.observability.predictions!.flush();
    const refused = await lookup();
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'UNAVAILABLE', reason: 'PREDICTION_STORE_UNAVAILABLE' });
    const down = await degraded();
    expect(down.metrics).toEqual({ prediction_store: 1, prediction_log: 1 });
    expect(down.body.degraded!.map((d) => d.component)).toEqual(['prediction_store', 'prediction_log']);
  } finally {
    proxy.restore();
  }

  await recovered(20_000);
  expect((await lookup()).json().outputs[0].data).toEqual([1, 2, 3]);
}, 60_000);

it('a stalled PostgreSQL (a partition: bytes stop, nothing resets) never hangs a request: lookups answer 503, the log reports degraded, both recover', async () => {
  proxy.stall();
  try {
    await load(20);
    const flushed = server.observability.predictions!.flush();
    const refused = await lookup();
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ reason: 'PREDICTION_STORE_UNAVAILABLE' });
    expect(refused.json().error).toMatch(/did not answer within \d+ ms/);
    await flushed;
    const down = await degraded();
    expect(down.metrics).toEqual({ prediction_store: 1, prediction_log: 1 });
  } finally {
    proxy.restore();
  }
  await recovered(30_000);
}, 90_000);
