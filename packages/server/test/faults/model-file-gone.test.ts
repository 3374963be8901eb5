// A model file truncated or deleted while its version is loaded: the loaded session goes on
// serving; a reload (poll, or the load API) reports the failed load with its reason and leaves the
// serving version undisturbed.
import { rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { SibylServer } from '../../src/server.ts';
import { createTestServer, linearClassifierExpected, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../../src/testing/index.ts';

const IRIS = { weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], bias: [0.5, 0, -0.5] };
let repo: string | undefined;
let server: SibylServer | undefined;

afterEach(async () => {
  await server?.shutdown();
  if (repo !== undefined) await removeDir(repo);
  server = undefined;
  repo = undefined;
});

/** In poll mode the test drives the polls (models.poll), so none runs on a timer. */
async function start(mode: 'none' | 'poll' | 'explicit'): Promise<SibylServer> {
  repo = await makeTempDir('sibyl-file-gone-');
  await writeModelRepository(repo, { iris: { versions: { 1: linearClassifierModel(IRIS).bytes } } });
  server = await createTestServer(repo, { modelControlMode: mode, repositoryPollIntervalMs: 86_400_000, ...(mode === 'explicit' ? { loadModels: ['iris'] } : {}) });
  return server;
}

async function expectServing(s: SibylServer): Promise<void> {
  const data = [1, 2, 3, 4];
  const res = await s.http.inject({ method: 'POST', url: '/v2/models/iris/infer', headers: { 'content-type': 'application/json' }, payload: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data }] } });
  expect(res.statusCode).toBe(200);
  const expected = linearClassifierExpected(IRIS.weights, IRIS.bias, [data]).logits[0]!;
  (res.json().outputs.find((o: { name: string }) => o.name === 'logits').data as number[]).forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 4));
  expect((await s.http.inject({ method: 'GET', url: '/v2/models/iris/ready' })).statusCode).toBe(200);
}

const index = async (s: SibylServer) => (await s.http.inject({ method: 'POST', url: '/v2/repository/index', payload: {} })).json() as { name: string; version: string; state: string; reason?: string }[];

it.each(['truncated', 'deleted'] as const)('poll mode, model.onnx %s while loaded: serving continues from the loaded session', async (fault) => {
  const s = await start('poll');
  await expectServing(s);
  const file = path.join(repo!, 'iris', '1', 'model.onnx');
  if (fault === 'truncated') await truncate(file, 10);
  else await rm(file);
  // Several polls later (each one's reloads settled), the loaded version still serves and is still READY.
  for (let i = 0; i < 3; i++) {
    await s.models.poll();
    await s.models.whenSettled();
  }
  await expectServing(s);
  expect((await index(s)).find((v) => v.name === 'iris' && v.version === '1')).toMatchObject({ state: 'READY' });
});

it('explicit mode, model.onnx truncated, then a reload: the load fails with its reason; version 1 keeps serving', async () => {
  const s = await start('explicit');
  await expectServing(s);
  await truncate(path.join(repo!, 'iris', '1', 'model.onnx'), 10);
  const reload = await s.http.inject({ method: 'POST', url: '/v2/repository/models/iris/load', payload: {} });
  // The load API reports the failed reload (defect M4) and names the version that keeps serving,
  // which is undisturbed.
  expect(reload.statusCode).toBe(400);
  expect(reload.json()).toMatchObject({ reason: 'MODEL_LOAD_FAILED' });
  expect(reload.json().error).toMatch(/version 1 keeps serving/);
  await expectServing(s);
  expect((await index(s)).find((v) => v.name === 'iris' && v.version === '1')).toMatchObject({ state: 'READY' });
});

it('an instance that crashes after its file was deleted cannot be replaced: requests get 503 with the reason, the replacement is retried until the file returns', async () => {
  const s = await start('none');
  await expectServing(s);
  const version = s.models.resolve('iris');
  const [instance] = version.instances();
  const { canSimulateCrash } = await import('../../src/testing/index.ts');
  if (instance === undefined || !canSimulateCrash(instance)) throw new Error('expected one ONNX instance');
  await rm(path.join(repo!, 'iris', '1', 'model.onnx'));
  instance.simulateCrash();
  await vi.waitFor(() => expect(version.instances()).toHaveLength(0), { timeout: 10_000, interval: 50 });
  // Meanwhile requests are refused at once with the reason (they used to wait for their deadline).
  await vi.waitFor(
    async () => {
      const refused = await s.http.inject({ method: 'POST', url: '/v2/models/iris/infer', headers: { 'content-type': 'application/json' }, payload: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] } });
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'UNAVAILABLE', reason: 'MODEL_NOT_READY' });
      expect(refused.json().error).toMatch(/^model 'iris' version 1 has no running instance: loading a replacement instance failed \(.*model\.onnx.*\); it is retried with backoff$/);
    },
    { timeout: 10_000, interval: 100 },
  );
  // Put the file back: the retried replacement loads and the version serves again.
  await writeModelRepository(repo!, { iris: { versions: { 1: linearClassifierModel(IRIS).bytes } } });
  await vi.waitFor(() => expect(version.instances()).toHaveLength(1), { timeout: 20_000, interval: 100 });
  await expectServing(s);
}, 60_000);
