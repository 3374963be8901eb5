// The ONNX runtime with real onnxruntime workers: batches of several requests are assembled
// correctly whether they are small (concatenated before posting) or large (in the worker).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@sibyl/protocol';
import { identityModel, makeTempDir, removeDir, writeModelRepository } from '../../testing/index.ts';
import type { Instance } from '../runtime.ts';
import { OnnxRuntime } from './onnx-runtime.ts';

const WIDTH = 40_000; // 160 kB per row of FP32: two rows exceed the 256 kB posting threshold
let dir: string;
let instance: Instance;

const member = (start: number, rows: number): Tensor[] => [
  { name: 'input', datatype: 'FP32', shape: [rows, WIDTH], data: Float32Array.from({ length: rows * WIDTH }, (_, i) => start + i) },
];

beforeAll(async () => {
  dir = await makeTempDir('sibyl-onnx-runtime-');
  await writeModelRepository(dir, { identity: { versions: { 1: identityModel('FP32', ['batch', WIDTH]).bytes } } });
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
