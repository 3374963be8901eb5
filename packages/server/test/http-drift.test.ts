// Drift monitoring through HTTP with real onnxruntime: a baseline from the first requests or from
// a reference CSV (whose rows also run through the model, for the output baseline); windows of
// shifted and unshifted inputs; GET /v1/models/{m}/drift, the gauges, and the warning log.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, linearClassifierModel, makeTempDir, parsePrometheusText, removeDir, sampleValue, seededRandom, writeModelRepository } from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

const random = seededRandom(2024);
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const rows = (n: number, shift = 0) => Array.from({ length: n }, () => [normal() + shift, normal(), normal(), normal()]);
const DRIFT = 'drift:\n  baselineRows: 400\n  windowRows: 400\n  psiThreshold: 0.2\n  ksThreshold: 0.2\n';

let repo: string;
let server: SibylServer;
const warnings: Record<string, unknown>[] = [];

const infer = async (model: string, batch: number[][]) => {
  const res = await server.http.inject({
    method: 'POST',
    url: `/v2/models/${model}/infer`,
    payload: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [batch.length, 4], data: batch.flat() }] }),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.statusCode).toBe(200);
};
const report = async (model: string) => (await server.http.inject({ method: 'GET', url: `/v1/models/${model}/drift` })).json();

beforeAll(async () => {
  repo = await makeTempDir('sibyl-drift-');
  const linear = linearClassifierModel({ weights: LINEAR_4X3.weights, bias: LINEAR_4X3.bias }).bytes;
  await writeModelRepository(repo, {
    live: { versions: { 1: linear }, config: DRIFT },
    referenced: { versions: { 1: linear }, config: `${DRIFT}  baselineFile: reference.csv\n` },
    plain: { versions: { 1: linear } },
  });
  await writeFile(path.join(repo, 'referenced', 'reference.csv'), ['sepal,petal,width,height', ...rows(600).map((r) => r.join(','))].join('\n'));
  const capture = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as Record<string, unknown>;
      if (line.level === 40) warnings.push(line);
      done();
    },
  });
  // Windows ride on the batch size: the model must not batch requests together in this test.
  server = await createTestServer(repo, { log: pino({ level: 'warn' }, capture) });
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

describe('drift from the first requests', () => {
  it('collects the baseline, then an unshifted window stays under the thresholds', async () => {
    for (let i = 0; i < 4; i++) await infer('live', rows(100));
    expect(await report('live')).toMatchObject({ state: 'monitoring', baseline: { source: 'first 400 rows', inputRows: 400, outputRows: 400 }, window: { inputRowsFilled: 0 } });
    for (let i = 0; i < 4; i++) await infer('live', rows(100));
    const r = await report('live');
    expect(r.window.inputWindowsCompleted).toBe(1);
    expect(r.inputs.map((c: { name: string; drifted: boolean }) => [c.name, c.drifted])).toEqual([
      ['features[0]', false],
      ['features[1]', false],
      ['features[2]', false],
      ['features[3]', false],
    ]);
    for (const c of r.inputs) expect(c.psi).toBeLessThan(0.2);
    expect(warnings).toEqual([]);
  });

  it('a shifted window crosses the thresholds: report, gauges, alert counter and a warning', async () => {
    for (let i = 0; i < 4; i++) await infer('live', rows(100, 1.5));
    const r = await report('live');
    expect(r.window.inputWindowsCompleted).toBe(2);
    const shifted = r.inputs.find((c: { name: string }) => c.name === 'features[0]');
    expect(shifted.psi).toBeGreaterThan(0.2);
    expect(shifted.ks).toBeGreaterThan(0.2);
    expect(shifted.drifted).toBe(true);
    expect(r.inputs.filter((c: { drifted: boolean }) => c.drifted).map((c: { name: string }) => c.name)).toEqual(['features[0]']);
    const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
    expect(sampleValue(metrics, 'sibyl_drift_psi', { model: 'live', feature: 'features[0]' })).toBeCloseTo(shifted.psi, 10);
    expect(sampleValue(metrics, 'sibyl_drift_threshold_exceeded', { model: 'live', feature: 'features[0]', statistic: 'psi' })).toBe(1);
    expect(sampleValue(metrics, 'sibyl_drift_threshold_exceeded', { model: 'live', feature: 'features[1]', statistic: 'psi' })).toBe(0);
    expect(sampleValue(metrics, 'sibyl_drift_alerts_total', { model: 'live', feature: 'features[0]', statistic: 'psi' })).toBe(1);
    expect(sampleValue(metrics, 'sibyl_drift_alerts_total', { model: 'live', feature: 'features[1]', statistic: 'psi' })).toBeUndefined();
    const psiWarnings = warnings.filter((w) => w.feature === 'features[0]' && w.statistic === 'psi');
    expect(psiWarnings).toHaveLength(1);
    expect(psiWarnings[0]!.msg).toMatch(/^drift: model 'live' input 'features\[0\]' has PSI \d+\.\d{3} over the last 400 rows, above its threshold 0\.2$/);
  });
});

describe('drift from a reference file', () => {
  it('takes input names and baseline from the CSV, and the output baseline from running it', async () => {
    await infer('referenced', rows(1));
    let r = await report('referenced');
    for (let i = 0; i < 500 && r.baseline.outputRows === 0 && r.state !== 'failed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      r = await report('referenced');
    }
    expect(r).toMatchObject({ state: 'monitoring', baseline: { source: path.join(repo, 'referenced', 'reference.csv'), inputRows: 600, outputRows: 600 } });
    for (let i = 0; i < 4; i++) await infer('referenced', rows(100, 0));
    r = await report('referenced');
    expect(r.inputs.map((c: { name: string }) => c.name)).toEqual(['sepal', 'petal', 'width', 'height']);
    expect(r.inputs.every((c: { drifted: boolean }) => !c.drifted)).toBe(true);
    expect(r.outputs.map((c: { name: string }) => c.name)).toEqual(['logits.class', 'logits.confidence', 'probabilities.class', 'probabilities.confidence']);
    expect(r.outputs.every((c: { drifted: boolean }) => !c.drifted)).toBe(true);
  });

  it('a model without a drift section has no monitor', async () => {
    await infer('plain', rows(1));
    const res = await server.http.inject({ method: 'GET', url: '/v1/models/plain/drift' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toContain('add a drift: section to its config.yaml');
  });
});
