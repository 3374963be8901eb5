// The ONNX runtime with real onnxruntime workers: batches of several requests are assembled
// correctly whether they are small (concatenated before posting) or large (in the worker).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@sibyl/protocol';
import { SibylError } from '@sibyl/protocol';
import { embeddingModel, identityModel, makeTempDir, removeDir, writeModelRepository } from '../../testing/index.ts';
import type { Instance } from '../runtime.ts';
import { OnnxRuntime } from './onnx-runtime.ts';

const WIDTH = 40_000; // 160 kB per row of FP32: two rows exceed the 256 kB posting threshold
let dir: string;
let instance: Instance;
let embedding: Instance;

const member = (start: number, rows: number): Tensor[] => [
  { name: 'input', datatype: 'FP32', shape: [rows, WIDTH], data: Float32Array.from({ length: rows * WIDTH }, (_, i) => start + i) },
];

beforeAll(async () => {
  dir = await makeTempDir('sibyl-onnx-runtime-');
  await writeModelRepository(dir, {
    identity: { versions: { 1: identityModel('FP32', ['batch', WIDTH]).bytes } },
    embedding: { versions: { 1: embeddingModel({ rows: 10, width: 2, tokens: 2 }).bytes } },
  });
  embedding = (await new OnnxRuntime().loadInstance({ artifactPath: `${dir}/embedding/1/model.onnx`, threads: 1, label: 'embedding:1#0' })).instance;
  const loaded = await new OnnxRuntime().loadInstance({ artifactPath: `${dir}/identity/1/model.onnx`, threads: 1, label: 'identity:1#0' });
  instance = loaded.instance;
  expect(loaded.signature).toEqual({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, WIDTH] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, WIDTH] }],
    bytesAsText: true,
  });
}, 60_000);

afterAll(async () => {
  await instance?.close();
  await embedding?.close();
  await removeDir(dir);
});

describe('OnnxRuntime batches', () => {
  it.each([
    ['small, concatenated before posting', [1, 1], 1],
    ['large, concatenated in the worker', [2, 1, 3], 2],
  ])('%s', async (_name, rowsPerMember) => {
    let start = 0;
    const members = rowsPerMember.map((rows) => {
      const m = member(start, rows);
      start += rows * WIDTH;
      return m;
    });
    const total = rowsPerMember.reduce((a, b) => a + b, 0);
    const result = await instance.execute(members, ['output']);
    const [output] = result.outputs;
    expect(output!.shape).toEqual([total, WIDTH]);
    const data = output!.data as Float32Array;
    expect(data.length).toBe(total * WIDTH);
    for (const i of [0, WIDTH - 1, WIDTH, total * WIDTH - 1]) expect(data[i]).toBe(Math.fround(i));
    expect(result.inferMs).toBeGreaterThan(0);
  });
});

describe('OnnxRuntime run failures', () => {
  const ids = (...values: number[]): Tensor[] => [{ name: 'ids', datatype: 'INT64', shape: [values.length / 2, 2], data: BigInt64Array.from(values.map(BigInt)) }];

  // The scheduler runs a failed batch's members again to find the one at fault: their inputs must
  // be readable after the failure, whichever way they were posted.
  it.each([
    ['a lone request (its buffers moved to the worker)', [ids(1, 42)]],
    ['a small batch (concatenated before posting)', [ids(1, 2), ids(3, 42)]],
  ])('%s: fails with RUNTIME_FAILED and hands the inputs back', async (_name, members) => {
    const failure = await embedding.execute(members, ['embeddings']).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(SibylError);
    expect(failure).toMatchObject({ reason: 'RUNTIME_FAILED' });
    expect((failure as Error).message).toMatch(/idx=42 must be within the inclusive range \[-10,9\]/);
    expect(members.map((m) => [...(m[0]!.data as BigInt64Array)].map(Number))).toEqual(members.length === 1 ? [[1, 42]] : [[1, 2], [3, 42]]);
    const again = await embedding.execute([ids(1, 2)], ['embeddings']);
    expect([...(again.outputs[0]!.data as Float32Array)]).toEqual([10, 11, 20, 21]);
  });

  it('a large batch (concatenated in the worker) gets its members\' buffers back', async () => {
    const big = (first: number): Tensor[] => ids(...Array.from({ length: 40_000 }, (_, i) => (i === 5 ? first : i % 10)));
    const members = [big(1), big(99)];
    await expect(embedding.execute(members, ['embeddings'])).rejects.toMatchObject({ reason: 'RUNTIME_FAILED' });
    expect(members.map((m) => [m[0]!.data.length, Number((m[0]!.data as BigInt64Array)[5])])).toEqual([
      [40_000, 1],
      [40_000, 99],
    ]);
  });
});

describe('worker code', () => {
  it('is one bundled module (no TypeScript loader to register in each worker)', async () => {
    const { onnxWorkerUrl, UNBUNDLED_WORKER_URL } = await import('./worker-bundle.ts');
    const url = await onnxWorkerUrl();
    expect(url).not.toBe(UNBUNDLED_WORKER_URL);
    expect(url.protocol).toBe('data:');
    const code = Buffer.from(url.pathname.slice(url.pathname.indexOf(',') + 1), 'base64').toString('utf8');
    expect(code).toMatch(/from "file:\/\/\/.*onnxruntime-node\/.*"/);
    expect(code).not.toContain('tsx');
  });
});
