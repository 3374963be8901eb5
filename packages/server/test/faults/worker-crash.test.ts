// A worker thread that dies by an uncaught error (a bug in the worker, or a native failure that
// surfaces as one) while other instances and models serve: the request it held fails at once with
// 500 INSTANCE_CRASHED naming the error, the instance is replaced (counted in
// sibyl_model_instance_events_total), and the version's other instance and the other models keep
// answering throughout.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import type { SibylServer } from '../../src/server.ts';
import {
  canSimulateCrash,
  createTestServer,
  linearClassifierModel,
  makeTempDir,
  parsePrometheusText,
  removeDir,
  sampleValue,
  slowModel,
  writeModelRepository,
} from '../../src/testing/index.ts';

const SLOW = { size: 1024, depth: 40 };
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-worker-crash-');
  await writeModelRepository(repo, {
    slow: { versions: { 1: slowModel(SLOW).bytes }, config: 'instanceCount: 2\nthreadsPerInstance: 1\nexecutionsPerInstance: 1\ndynamicBatching: { enabled: false }\n' },
    iris: { versions: { 1: linearClassifierModel({ weights: [[1, 0], [0, 1]], bias: [0, 0] }).bytes } },
  });
  server = await createTestServer(repo);
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const infer = (model: string, rows: number, width: number) =>
  server.http.inject({
    method: 'POST',
    url: `/v2/models/${model}/infer`,
    headers: { 'content-type': 'application/json' },
    payload: { inputs: [{ name: model === 'iris' ? 'features' : 'input', datatype: 'FP32', shape: [rows, width], data: Array.from({ length: rows * width }, (_, i) => i % 3) }] },
  });

async function instanceEvents(): Promise<Record<string, number | undefined>> {
  const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
  return Object.fromEntries(['crashed', 'replaced'].map((event) => [event, sampleValue(metrics, 'sibyl_model_instance_events_total', { model: 'slow', version: '1', event })]));
}

it('fails only the request the dead worker held, replaces the instance, keeps everything else serving', async () => {
  const version = server.models.resolve('slow');
  const [doomed, survivor] = version.instances();
  if (doomed === undefined || survivor === undefined || !canSimulateCrash(doomed)) throw new Error('expected two ONNX instances');
  doomed.simulateCrash('throw');
  const data = new Float32Array(SLOW.size);
  // Submitted in the same tick: the least busy instance is the first one, the dying worker. With
  // one execution per instance, nothing else is handed to it (what a dying worker holds fails).
  const held = server.inference.infer('slow', {}, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, SLOW.size], data }] }, server.core.newContext('embedded')).catch((err: unknown) => err);
  const others = await Promise.all([infer('slow', 1, SLOW.size), infer('iris', 2, 2), infer('slow', 1, SLOW.size)]);
  const err = await held;
  expect(err).toBeInstanceOf(SibylError);
  expect(err).toMatchObject({ code: 'INTERNAL', reason: 'INSTANCE_CRASHED', httpStatus: 500 });
  expect((err as Error).message).toBe('instance slow:1#0 died (worker error: simulated uncaught error in the worker); it is being replaced');
  expect(others.map((r) => r.statusCode)).toEqual([200, 200, 200]);

  await vi.waitFor(() => expect(version.instances()).toHaveLength(2), { timeout: 20_000, interval: 50 });
  expect(version.instances()).toContain(survivor);
  expect(version.instances()).not.toContain(doomed);
  expect(await instanceEvents()).toEqual({ crashed: 1, replaced: 1 });
  expect((await infer('slow', 2, SLOW.size)).statusCode).toBe(200);
}, 60_000);
