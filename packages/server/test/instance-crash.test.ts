// A worker that dies mid-request (a native crash looks the same) fails that request with a
// clear INTERNAL error; the instance is replaced and the model keeps serving.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import type { SibylServer } from '../src/server.ts';
import { canSimulateCrash, createTestServer, makeTempDir, removeDir, slowModel, slowModelExpected, writeModelRepository } from '../src/testing/index.ts';

const SLOW = { size: 2048, depth: 60 };
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-crash-');
  await writeModelRepository(repo, { slow: { versions: { 1: slowModel(SLOW).bytes } } });
  server = await createTestServer(repo);
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

function request(rows: number) {
  const data = Array.from({ length: rows * SLOW.size }, (_, i) => i % 5);
  return server.http.inject({
    method: 'POST',
    url: '/v2/models/slow/infer',
    headers: { 'content-type': 'application/json' },
    payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, SLOW.size], data }] },
  });
}

it('fails the request in flight with INSTANCE_CRASHED (500), replaces the worker, keeps serving', async () => {
  const version = server.models.resolve('slow');
  const [instance] = version.instances();
  if (instance === undefined || !canSimulateCrash(instance)) throw new Error('expected one ONNX worker instance');
  // The worker exits before it takes the next run, as a crashed worker would; the request is
  // submitted in the same tick, so its run is already sent to the dying worker.
  instance.simulateCrash();
  const data = new Float32Array(4 * SLOW.size);
  const inFlight = server.inference.infer('slow', {}, { inputs: [{ name: 'input', datatype: 'FP32', shape: [4, SLOW.size], data }] }, server.core.newContext('embedded'));
  const crashed = await inFlight.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(crashed).toBeInstanceOf(SibylError);
  expect(crashed).toMatchObject({ code: 'INTERNAL', reason: 'INSTANCE_CRASHED', httpStatus: 500 });
  expect((crashed as Error).message).toMatch(/instance slow:1#0 died \(worker exited with code 70\); it is being replaced/);

  await vi.waitFor(() => expect(version.instances()).toHaveLength(1), { timeout: 20_000, interval: 50 });
  expect(version.instances()[0]).not.toBe(instance);
  const after = await request(1);
  expect(after.statusCode).toBe(200);
  const expected = slowModelExpected(Float32Array.from({ length: SLOW.size }, (_, i) => i % 5), SLOW.size, SLOW.depth);
  expect(after.json().outputs[0].data).toEqual([...expected]);
  expect((await server.http.inject({ method: 'GET', url: '/v2/models/slow/ready' })).statusCode).toBe(200);
}, 60_000);
