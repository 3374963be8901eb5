// Prometheus metrics after a known sequence of requests: exact counts per model, version,
// outcome and reason; histogram counts and buckets; batch sizes; model state, instances and load
// time; and the catalogue, the exporter and docs/reference/metrics.md agreeing. Real onnxruntime.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../src/observability/metrics/catalogue.ts';
import type { SibylServer } from '../src/server.ts';
import {
  createTestServer,
  histogramBuckets,
  linearClassifierModel,
  makeTempDir,
  parsePrometheusText,
  removeDir,
  sampleValue,
  writeModelRepository,
  type PromFamily,
} from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

let repo: string;
let server: SibylServer;
let families: Map<string, PromFamily>;

const row = (values: number[]) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: values }] });
const post = (url: string, payload: unknown) =>
  server.http.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { 'content-type': 'application/json' } });

beforeAll(async () => {
  repo = await makeTempDir('sibyl-metrics-');
  const linear = linearClassifierModel({ weights: LINEAR_4X3.weights, bias: LINEAR_4X3.bias }).bytes;
  await writeModelRepository(repo, {
    linear: { versions: { 1: linear } },
    // Waits until exactly 4 rows are queued, then runs them as one batch.
    batched: { versions: { 2: linear }, config: 'dynamicBatching:\n  maxQueueDelayMs: 10000\n  preferredBatchSizes: [4]\n' },
    broken: { versions: { 1: 'not an onnx file' } },
    two: { versions: { 1: linear, 2: linear }, config: 'versionPolicy:\n  all: true\n' },
  });
  server = await createTestServer(repo);

  // The known sequence.
  for (let i = 0; i < 3; i++) expect((await post('/v2/models/linear/infer', row([i, 1, 2, 3]))).statusCode).toBe(200);
  expect((await post('/v2/models/linear/infer', { inputs: [{ name: 'features', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] }] })).statusCode).toBe(400);
  expect((await post('/v2/models/linear/infer', '{"inputs": [')).statusCode).toBe(400);
  expect((await post('/v2/models/nosuchmodel/infer', row([1, 2, 3, 4]))).statusCode).toBe(404);
  expect((await post('/v2/models/linear/versions/7/infer', row([1, 2, 3, 4]))).statusCode).toBe(404);
  const batch = await Promise.all([0, 1, 2, 3].map((i) => post('/v2/models/batched/infer', row([i, i, i, i]))));
  expect(batch.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
  expect((await post('/v2/models/broken/infer', row([1, 2, 3, 4]))).statusCode).toBe(503);
  // Two READY versions of one model: the default route (the newest) and version 1 by number.
  for (const url of ['/v2/models/two/infer', '/v2/models/two/infer', '/v2/models/two/versions/1/infer']) expect((await post(url, row([1, 1, 1, 1]))).statusCode).toBe(200);

  const res = await server.http.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
  families = parsePrometheusText(res.body);
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const linear = { model: 'linear', version: '1' };
const batched = { model: 'batched', version: '2' };

describe('request counters', () => {
  it('count each request once, by outcome, code and reason', () => {
    const requests = families.get('sibyl_inference_requests_total')!.samples.map((s) => ({ ...s.labels, value: s.value }));
    expect(requests.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [
        { model: '', version: '', outcome: 'error', code: 'NOT_FOUND', reason: 'MODEL_NOT_FOUND', value: 1 },
        { model: 'batched', version: '2', outcome: 'success', code: 'OK', reason: '', value: 4 },
        { model: 'broken', version: '', outcome: 'error', code: 'UNAVAILABLE', reason: 'MODEL_NOT_READY', value: 1 },
        { model: 'linear', version: '', outcome: 'error', code: 'NOT_FOUND', reason: 'VERSION_NOT_FOUND', value: 1 },
        { model: 'linear', version: '1', outcome: 'error', code: 'INVALID_ARGUMENT', reason: 'INPUT_DATATYPE_MISMATCH', value: 1 },
        { model: 'linear', version: '1', outcome: 'error', code: 'INVALID_ARGUMENT', reason: 'MALFORMED_REQUEST', value: 1 },
        { model: 'linear', version: '1', outcome: 'success', code: 'OK', reason: '', value: 3 },
        { model: 'two', version: '1', outcome: 'success', code: 'OK', reason: '', value: 1 },
        { model: 'two', version: '2', outcome: 'success', code: 'OK', reason: '', value: 2 },
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
  });
});

describe('latency and batch histograms', () => {
  it('observe each successful request once in the total, queue and compute histograms', () => {
    for (const name of ['sibyl_inference_request_duration_seconds', 'sibyl_inference_queue_duration_seconds', 'sibyl_inference_compute_duration_seconds']) {
      expect(sampleValue(families, `${name}_count`, linear), name).toBe(3);
      expect(sampleValue(families, `${name}_count`, batched), name).toBe(4);
      const buckets = histogramBuckets(families, name, linear);
      expect(buckets).toHaveLength(52); // 51 bounds and +Inf
      expect(buckets.at(-1)).toEqual({ le: Infinity, count: 3 });
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.count).toBeGreaterThanOrEqual(buckets[i - 1]!.count);
      expect(sampleValue(families, `${name}_sum`, linear)).toBeGreaterThan(0);
    }
    // Every batched request waited in the queue for the fourth, then ran in the same execution.
    const compute = histogramBuckets(families, 'sibyl_inference_compute_duration_seconds', batched);
    expect(new Set(compute.map((b) => b.count)).size).toBe(2); // 0 below one bucket, 4 from it on
  });

  it('observe each execution once in the batch size histogram', () => {
    expect(histogramBuckets(families, 'sibyl_inference_batch_size', linear).map((b) => b.count)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    expect(sampleValue(families, 'sibyl_inference_batch_size_sum', linear)).toBe(3);
    expect(histogramBuckets(families, 'sibyl_inference_batch_size', batched).map((b) => [b.le, b.count])).toEqual([
      [1, 0],
      [2, 0],
      [4, 1],
      [8, 1],
      [16, 1],
      [32, 1],
      [64, 1],
      [128, 1],
      [256, 1],
      [512, 1],
      [1024, 1],
      [Infinity, 1],
    ]);
    expect(sampleValue(families, 'sibyl_inference_batch_size_sum', batched)).toBe(4);
  });
});

describe('model gauges', () => {
  it('report state, instances, queue depth and load time per version', () => {
    expect(sampleValue(families, 'sibyl_model_state', { ...linear, state: 'READY' })).toBe(1);
    expect(sampleValue(families, 'sibyl_model_state', { ...linear, state: 'LOADING' })).toBe(0);
    expect(sampleValue(families, 'sibyl_model_state', { model: 'broken', version: '1', state: 'UNAVAILABLE' })).toBe(1);
    expect(sampleValue(families, 'sibyl_model_state', { model: 'broken', version: '1', state: 'READY' })).toBe(0);
    expect(sampleValue(families, 'sibyl_model_instances', linear)).toBe(1);
    // Every READY version has its own series.
    expect(families.get('sibyl_model_instances')!.samples.filter((s) => s.labels.model === 'two').map((s) => [s.labels.version, s.value])).toEqual([
      ['1', 1],
      ['2', 1],
    ]);
    expect(sampleValue(families, 'sibyl_inference_batch_size_count', { model: 'two', version: '2' })).toBe(2);
    expect(sampleValue(families, 'sibyl_inference_queue_depth', batched)).toBe(0);
    expect(sampleValue(families, 'sibyl_inference_requests_in_flight')).toBe(0);
    expect(sampleValue(families, 'sibyl_model_load_duration_seconds', linear)).toBeGreaterThan(0);
    expect(sampleValue(families, 'sibyl_model_load_duration_seconds', { model: 'broken' })).toBeUndefined();
    expect(sampleValue(families, 'sibyl_build_info', { version: server.version })).toBe(1);
  });

  it('include the process metrics', () => {
    expect(families.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
  });
});

describe('catalogue, exporter and docs/reference/metrics.md', () => {
  const documented = () =>
    readFileSync(new URL('../../../docs/reference/metrics.md', import.meta.url), 'utf8')
      .split('\n')
      .flatMap((line) => {
        const m = /^\| `(sibyl_[a-z_]+)` \| (\w+) \| ([^|]*) \|/.exec(line);
        return m === null ? [] : [{ name: m[1]!, type: m[2]!, labels: [...m[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!) }];
      });

  it('the exporter serves exactly the documented metrics, with their types', () => {
    const served = [...families.values()].filter((f) => f.name.startsWith('sibyl_')).map((f) => ({ name: f.name, type: f.type }));
    expect(served.sort((a, b) => a.name.localeCompare(b.name))).toEqual(documented().map(({ name, type }) => ({ name, type })).sort((a, b) => a.name.localeCompare(b.name)));
  });

  it('every sample carries exactly the documented labels (plus le on buckets)', () => {
    const labelsOf = new Map(documented().map((d) => [d.name, d.labels]));
    let checked = 0;
    for (const family of families.values()) {
      if (!family.name.startsWith('sibyl_')) continue;
      for (const sample of family.samples) {
        const expected = [...labelsOf.get(family.name)!, ...(sample.name.endsWith('_bucket') ? ['le'] : [])];
        expect(Object.keys(sample.labels).sort(), sample.name).toEqual(expected.sort());
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('the document lists the catalogue', () => {
    expect(documented().map((d) => d.name)).toEqual(METRICS.map((m) => m.name));
  });
});
