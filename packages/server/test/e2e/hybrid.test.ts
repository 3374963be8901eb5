// Hybrid serving end to end: the real `sibyl serve` with the real tabular_mlp (onnxruntime) and
// a SQLite prediction store holding what a nightly job wrote. Fresh stored predictions answer by
// key without inputs; stale or missing keys are predicted live from their inputs (exactly as the
// model answers them directly); a stale key without inputs gets the default; every answer is
// counted by source in /metrics and in the endpoint report.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlitePredictionStore } from '../../src/batch/sqlite-prediction-store.ts';
import { makeTempDir, parsePrometheusText, removeDir, sampleValue, spawnSibyl, writeModelRepository, type SpawnedServer } from '../../src/testing/index.ts';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/models/tabular_mlp/', import.meta.url));
const HOUR = 3_600_000;
const STORED = [0.125, 0.875];
const DEFAULT = [0.5, 0.5];

let dir: string;
let server: SpawnedServer;
let input: { name: string; row: number[] };
let output: string;

beforeAll(async () => {
  dir = await makeTempDir('sibyl-e2e-hybrid-');
  await writeModelRepository(path.join(dir, 'models'), { tabular_mlp: { versions: { 1: await readFile(path.join(EXAMPLE, '1/model.onnx')) } } });
  const samples = JSON.parse(await readFile(path.join(EXAMPLE, 'samples.json'), 'utf8')) as { inputs: number[][] };
  // What a nightly job left in the store: one prediction an hour old, one three days old.
  const store = await SqlitePredictionStore.open(path.join(dir, 'predictions.sqlite'));
  const now = Date.now();
  const stored = (key: string, ageMs: number) => ({ model: 'tabular_mlp', key, version: '1', jobId: 'nightly-1', createdAtMs: now - ageMs, outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [2], data: STORED }] });
  await store.commitChunk('nightly-1', 0, [stored('fresh-1', HOUR), stored('stale-1', 72 * HOUR)]);
  await store.close();
  await writeFile(
    path.join(dir, 'sibyl.yaml'),
    [
      'modelRepository: models',
      'stateStore: state.sqlite',
      'predictionStore: { path: predictions.sqlite }',
      'endpoints:',
      '  scores:',
      '    hybrid:',
      '      target: { model: tabular_mlp }',
      '      key: { parameter: customer_id }',
      `      maxAgeMs: ${25 * HOUR}`,
      `      default: { outputs: [{ name: probabilities, datatype: FP32, shape: [1, 2], data: [${DEFAULT.join(', ')}] }] }`,
      '  strict:',
      '    hybrid:',
      '      target: { model: tabular_mlp }',
      '      key: { header: x-customer-id }',
      `      maxAgeMs: ${25 * HOUR}`,
      '',
    ].join('\n'),
  );
  server = await spawnSibyl(['--config', path.join(dir, 'sibyl.yaml')], { timeoutMs: 60_000 });
  const meta = (await (await fetch(`${server.url}/v2/models/tabular_mlp`)).json()) as { inputs: { name: string }[]; outputs: { name: string }[] };
  input = { name: meta.inputs[0]!.name, row: samples.inputs[0]! };
  output = meta.outputs[0]!.name;
}, 90_000);

afterAll(async () => {
  if (server !== undefined) expect(await server.stop()).toBe(0);
  await removeDir(dir);
});

interface Answer {
  status: number;
  body: { model_name?: string; model_version?: string; outputs?: { name: string; shape: number[]; data: number[] }[]; parameters?: Record<string, unknown>; error?: string; reason?: string };
}

async function infer(name: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${server.url}/v2/models/${name}/infer`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const withInputs = (parameters: Record<string, unknown>) => ({ parameters, inputs: [{ name: input.name, datatype: 'FP32', shape: [1, input.row.length], data: input.row }] });

describe('a hybrid endpoint', () => {
  it('answers from the store, live, and with the default, each as the rules say, counted by source', async () => {
    const direct = await infer('tabular_mlp', withInputs({}));
    expect(direct.status).toBe(200);
    const live = direct.body.outputs!.find((o) => o.name === output)!.data;

    // A fresh stored prediction, by key alone: no inputs needed.
    const hit = await infer('scores', { parameters: { customer_id: 'fresh-1' } });
    expect(hit.status).toBe(200);
    expect(hit.body).toMatchObject({ model_name: 'tabular_mlp', model_version: '1', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: STORED }] });
    expect(hit.body.parameters).toMatchObject({ sibyl_endpoint: 'scores', sibyl_source: 'store', sibyl_source_reason: 'fresh', sibyl_prediction_job_id: 'nightly-1' });
    const age = hit.body.parameters!.sibyl_prediction_age_ms as number;
    expect(age).toBeGreaterThanOrEqual(HOUR);
    expect(age).toBeLessThan(HOUR + 60_000);

    // Stale, with inputs: the live model answers, exactly as it does directly.
    const stale = await infer('scores', withInputs({ customer_id: 'stale-1' }));
    expect(stale.status).toBe(200);
    expect(stale.body.parameters).toMatchObject({ sibyl_source: 'live', sibyl_source_reason: 'stale' });
    expect(stale.body.model_name).toBe('tabular_mlp');
    expect(stale.body.outputs!.find((o) => o.name === output)!.data).toEqual(live);

    // Stale, no inputs: the default.
    const fallback = await infer('scores', { parameters: { customer_id: 'stale-1' } });
    expect(fallback.status).toBe(200);
    expect(fallback.body).toMatchObject({ model_name: 'default', outputs: [{ name: 'probabilities', shape: [1, 2], data: DEFAULT }] });
    expect(fallback.body.parameters).toMatchObject({ sibyl_source: 'default', sibyl_source_reason: 'stale' });

    // A key never stored, with inputs: live.
    const unknown = await infer('scores', withInputs({ customer_id: 'nobody' }));
    expect(unknown.status).toBe(200);
    expect(unknown.body.parameters).toMatchObject({ sibyl_source: 'live', sibyl_source_reason: 'not_stored' });
    expect(unknown.body.outputs!.find((o) => o.name === output)!.data).toEqual(live);

    // Without a default: clear errors when nothing can answer.
    const strictHit = await infer('strict', {}, { 'x-customer-id': 'fresh-1' });
    expect(strictHit.body.parameters).toMatchObject({ sibyl_source: 'store' });
    const notFound = await infer('strict', {}, { 'x-customer-id': 'stale-1' });
    expect(notFound.status).toBe(404);
    expect(notFound.body.reason).toBe('PREDICTION_NOT_FOUND');
    expect(notFound.body.error).toMatch(/^the stored prediction of tabular_mlp for key "stale-1" is \d+ ms old, older than maxAgeMs 90000000 of endpoint strict; send the inputs to predict live, or configure hybrid.default$/);
    const noKey = await infer('strict', {});
    expect(noKey.status).toBe(400);
    expect(noKey.body).toMatchObject({ reason: 'PREDICTION_KEY_MISSING', error: "endpoint strict needs the key in the header 'x-customer-id', or inputs to predict live; the request has neither" });

    // A model (not a hybrid endpoint) still needs inputs.
    const bare = await infer('tabular_mlp', { parameters: { customer_id: 'fresh-1' } });
    expect(bare.status).toBe(400);
    expect(bare.body.error).toBe("request 'inputs' is missing; expected a non-empty array of input tensors");

    const metrics = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    const answers = (endpoint: string, source: string, reason: string) => sampleValue(metrics, 'sibyl_endpoint_hybrid_answers_total', { endpoint, source, reason });
    expect([answers('scores', 'store', 'fresh'), answers('scores', 'live', 'stale'), answers('scores', 'default', 'stale'), answers('scores', 'live', 'not_stored')]).toEqual([1, 1, 1, 1]);
    expect([answers('strict', 'store', 'fresh'), answers('strict', 'none', 'stale'), answers('strict', 'none', 'no_key')]).toEqual([1, 1, 1]);
    const arm = (a: string) => sampleValue(metrics, 'sibyl_endpoint_requests_total', { endpoint: 'scores', arm: a, outcome: 'success' });
    expect([arm('store'), arm('live'), arm('default')]).toEqual([1, 2, 1]);

    const report = (await (await fetch(`${server.url}/v1/endpoints/scores`)).json()) as { policy: string; hybrid: { bySource: Record<string, number>; key: unknown; maxAgeMs: number } };
    expect(report.policy).toBe('hybrid');
    expect(report.hybrid).toMatchObject({ bySource: { store: 1, live: 2, default: 1, none: 0 }, key: { parameter: 'customer_id' }, maxAgeMs: 25 * HOUR });
  });

  it('looks the stored predictions up through the API of the same server', async () => {
    const res = await fetch(`${server.url}/v1/predictions/tabular_mlp/lookup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: ['fresh-1', 'stale-1', 'nobody'] }) });
    const body = (await res.json()) as { predictions: { key: string; ageMs: number; version: string }[]; missing: string[] };
    expect(body.predictions.map((p) => [p.key, p.version, Math.round(p.ageMs / HOUR)])).toEqual([
      ['fresh-1', '1', 1],
      ['stale-1', '1', 72],
    ]);
    expect(body.missing).toEqual(['nobody']);
  });
});
