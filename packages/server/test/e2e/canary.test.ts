// A canary end to end: the real `sibyl serve` with real onnxruntime workers under concurrent
// load from clients over TCP. The candidate release is broken (it fails every request at run
// time); the server rolls it back by itself, and no client ever sees a failure, because the
// stable arm answers every request the candidate fails.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearClassifierExpected, linearClassifierModel, makeTempDir, removeDir, runtimeFailureModel, spawnSibyl, writeModelRepository, type SpawnedServer } from '../../src/testing/index.ts';

const WEIGHTS = [
  [1, 0],
  [0, 1],
];
const BIAS = [0.25, -0.25];

let dir: string;
let server: SpawnedServer;

beforeAll(async () => {
  dir = await makeTempDir('sibyl-e2e-canary-');
  const repo = path.join(dir, 'models');
  await writeModelRepository(repo, {
    churn: { versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes, 2: runtimeFailureModel({ features: 2, classes: 2 }).bytes }, config: 'labels: { stable: 1 }\n' },
  });
  await writeFile(
    path.join(dir, 'sibyl.yaml'),
    [
      'modelRepository: models',
      'stateStore: state.sqlite',
      'endpoints:',
      '  churn:',
      '    replacesModel: true',
      '    canary:',
      '      stable: { model: churn, label: stable }',
      '      candidate: { model: churn, version: 2 }',
      '      stages: [10, 50, 100]',
      '      stageDurationMs: 60000',
      '      analysis: { minSamples: 20, maxErrorRateIncrease: 0.02 }',
      '',
    ].join('\n'),
  );
  server = await spawnSibyl(['--config', path.join(dir, 'sibyl.yaml')], { timeoutMs: 60_000 });
}, 90_000);

afterAll(async () => {
  if (server !== undefined) expect(await server.stop()).toBe(0);
  await removeDir(dir);
});

interface Report {
  canary: { status: string; candidateShare: number; history: { from: string; to: string; reason: string }[] };
  arms: Record<string, { requests: number; errors: number }>;
}

const report = async (): Promise<Report> => (await (await fetch(`${server.url}/v1/endpoints/churn`)).json()) as Report;

describe('a broken canary', () => {
  it('is rolled back automatically while every client request succeeds', async () => {
    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const clients = Array.from({ length: 6 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const x = [c, i % 10];
        const res = await fetch(`${server.url}/v2/models/churn/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: x }], outputs: [{ name: 'logits' }] }),
        });
        const body = (await res.json()) as { model_version?: string; outputs?: { data: number[] }[]; error?: string };
        const expected = linearClassifierExpected(WEIGHTS, BIAS, [x]).logits[0]!;
        const got = body.outputs?.[0]?.data;
        if (res.status !== 200 || body.model_version !== '1' || got === undefined || got.some((v, k) => Math.abs(v - expected[k]!) > 1e-5)) {
          failures.push(`${res.status} v${body.model_version}: ${body.error ?? JSON.stringify(got)}`);
        }
        answered++;
      }
    });
    const deadline = Date.now() + 60_000;
    let r = await report();
    while (r.canary.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      r = await report();
    }
    const atRollback = answered;
    // Keep the load on a little longer: the stable arm alone serves.
    while (answered < atRollback + 200) await new Promise((resolve) => setTimeout(resolve, 20));
    stop = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(r.canary.status).toBe('rolled-back');
    expect(r.canary.candidateShare).toBe(0);
    expect(r.canary.history).toHaveLength(1);
    expect(r.canary.history[0]!.reason).toMatch(/^candidate error rate 100\.00% over 20 requests exceeds the stable arm's 0\.00% by more than maxErrorRateIncrease 2\.00%$/);
    const after = await report();
    expect(after.arms.candidate!.errors).toBe(20); // it got nothing after the rollback
    expect(after.arms.stable!.requests).toBeGreaterThan(200);
    const log = server.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('canary stage 1 (10%) → rolled-back'));
    expect(log).toMatchObject({ level: 40, endpoint: 'churn' });
  }, 120_000);

  it('stays rolled back across a restart', async () => {
    expect(await server.stop()).toBe(0);
    server = await spawnSibyl(['--config', path.join(dir, 'sibyl.yaml')], { timeoutMs: 60_000 });
    const r = await report();
    expect(r.canary).toMatchObject({ status: 'rolled-back', candidateShare: 0, history: [{ to: 'rolled-back' }] });
  }, 90_000);
});
