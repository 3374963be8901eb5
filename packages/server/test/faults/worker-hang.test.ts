// A model that does not return (a real onnxruntime worker thread busy far longer than allowed):
// the request is answered 504 at its deadline, the watchdog takes the instance out of rotation and
// loads a replacement — without terminating the busy worker, which would abort the process — and
// the version and the other models keep serving. The stuck worker closes once its run returns.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { SibylServer } from '../../src/server.ts';
import {
  createTestServer,
  linearClassifierModel,
  makeTempDir,
  parsePrometheusText,
  removeDir,
  sampleValue,
  slowModel,
  slowModelExpected,
  writeModelRepository,
} from '../../src/testing/index.ts';

// One row of this model is ~0.5 GFLOP: a few hundred rows keep a worker busy for many seconds.
const SLOW = { size: 1024, depth: 250 };
const HANG_ROWS = 320;
const IRIS = { weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], bias: [0, 0, 0] };
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-hang-');
  await writeModelRepository(repo, {
    slow: { versions: { 1: slowModel(SLOW).bytes }, config: 'instanceHangTimeoutMs: 500\nthreadsPerInstance: 1\n' },
    iris: { versions: { 1: linearClassifierModel(IRIS).bytes } },
  });
  server = await createTestServer(repo);
}, 60_000);

afterAll(async () => {
  await server?.shutdown(); // waits for the stuck run to return: a worker is never killed mid-run
  await removeDir(repo);
}, 120_000);

function infer(model: string, rows: number, width: number, timeoutUs?: number) {
  const data = Array.from({ length: rows * width }, (_, i) => i % 5);
  const name = model === 'iris' ? 'features' : 'input';
  return server.http.inject({
    method: 'POST',
    url: `/v2/models/${model}/infer`,
    headers: { 'content-type': 'application/json' },
    payload: { inputs: [{ name, datatype: 'FP32', shape: [rows, width], data }], ...(timeoutUs === undefined ? {} : { parameters: { timeout: timeoutUs } }) },
  });
}

it('answers the stuck request 504 at its deadline, replaces the instance, keeps every model serving', async () => {
  const version = server.models.resolve('slow');
  const [stuck] = version.instances();
  if (stuck === undefined) throw new Error('expected one instance');

  const hung = await infer('slow', HANG_ROWS, SLOW.size, 300_000); // 300 ms deadline
  expect(hung.statusCode).toBe(504);
  expect(hung.json()).toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'DEADLINE_EXCEEDED' });
  expect(hung.json().error).toMatch(/^model 'slow' version 1 did not answer before the request's deadline: it ran for \d+ ms on instance slow:1#0 .* and is still running$/);

  // Other models are not affected.
  expect((await infer('iris', 2, 4)).statusCode).toBe(200);

  // The watchdog (instanceHangTimeoutMs 500) replaces the stuck instance…
  await vi.waitFor(() => expect(version.instances().some((i) => i !== stuck)).toBe(true), { timeout: 30_000, interval: 50 });
  expect(version.instances()).not.toContain(stuck);
  // …which serves while the stuck worker still runs (not exited: it was closed, not killed).
  const after = await infer('slow', 1, SLOW.size);
  expect(after.statusCode).toBe(200);
  expect(stuck.alive).toBe(true);
  const input = Float32Array.from({ length: SLOW.size }, (_, i) => i % 5);
  expect(after.json().outputs[0].data).toEqual([...slowModelExpected(input, SLOW.size, SLOW.depth)]);
  expect((await server.http.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);

  // Once its run returns, the stuck worker closes by itself (an expected exit, no second replacement).
  await expect(stuck.exited).resolves.toEqual({ expected: true, reason: 'closed' });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(version.instances()).toHaveLength(1);
  const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
  const events = Object.fromEntries(['hung', 'replaced', 'crashed'].map((event) => [event, sampleValue(metrics, 'sibyl_model_instance_events_total', { model: 'slow', version: '1', event })]));
  expect(events).toEqual({ hung: 1, replaced: 1, crashed: undefined });
}, 120_000);
