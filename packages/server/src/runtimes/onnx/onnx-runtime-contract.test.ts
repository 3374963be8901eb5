// The ONNX runtime passes the runtime contract, with real onnxruntime workers: an exact INT64
// model with two inputs and two outputs, and a BYTES identity (strings inside onnxruntime); an
// embedding lookup that fails on out-of-range ids; unbatchable and other datatypes' signatures.
import type { Tensor } from '@sibyl/protocol';
import type { Instance } from '../runtime.ts';
import { addSubModel, canSimulateCrash, corruptModelBytes, embeddingModel, fixedBatchModel, identityModel } from '../../testing/index.ts';
import { runtimeContract } from '../../testing/runtime-contract.ts';
import { OnnxRuntime } from './onnx-runtime.ts';

const int64 = (name: string, rows: number, width: number, value: (i: number) => number): Tensor => ({
  name,
  datatype: 'INT64',
  shape: [rows, width],
  data: BigInt64Array.from({ length: rows * width }, (_, i) => BigInt(value(i))),
});

const failing = {
  artifact: embeddingModel({ rows: 10, width: 2, tokens: 2 }).bytes,
  good: (rows: number, seed: number) => [int64('ids', rows, 2, (i) => (seed + i) % 10)],
  bad: (rows: number, seed: number) => [int64('ids', rows, 2, (i) => (i === 2 * rows - 1 ? 42 : (seed + i) % 10))],
};

const crash = (instance: Instance): void => {
  if (!canSimulateCrash(instance)) throw new Error(`${instance.label} is not an ONNX instance`);
  instance.simulateCrash();
};

runtimeContract('onnx', {
  runtime: () => new OnnxRuntime({ inferenceNice: 0 }),
  artifactFileName: 'model.onnx',
  model: {
    artifact: addSubModel().bytes,
    signature: {
      inputs: [
        { name: 'a', datatype: 'INT64', shape: [-1, 3] },
        { name: 'b', datatype: 'INT64', shape: [-1, 3] },
      ],
      outputs: [
        { name: 'sum', datatype: 'INT64', shape: [-1, 3] },
        { name: 'difference', datatype: 'INT64', shape: [-1, 3] },
      ],
      bytesAsText: true,
    },
    rows: (rows, seed) => [int64('a', rows, 3, (i) => seed * 1000 + i), int64('b', rows, 3, (i) => i * i - seed)],
  },
  failing,
  corrupt: corruptModelBytes(),
  crash,
  signatures: [
    {
      name: 'a model with a fixed first dimension (unbatchable)',
      artifact: fixedBatchModel().bytes,
      signature: { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [2, 3] }], bytesAsText: true },
    },
    {
      name: 'an FP16 model with named dimensions',
      artifact: identityModel('FP16', ['batch', 'width', 4]).bytes,
      signature: { inputs: [{ name: 'input', datatype: 'FP16', shape: [-1, -1, 4] }], outputs: [{ name: 'output', datatype: 'FP16', shape: [-1, -1, 4] }], bytesAsText: true },
    },
  ],
});

const text = new TextEncoder();
runtimeContract('onnx, BYTES as text', {
  runtime: () => new OnnxRuntime({ inferenceNice: 0 }),
  artifactFileName: 'model.onnx',
  model: {
    artifact: identityModel('BYTES', ['batch', 2]).bytes,
    signature: { inputs: [{ name: 'input', datatype: 'BYTES', shape: [-1, 2] }], outputs: [{ name: 'output', datatype: 'BYTES', shape: [-1, 2] }], bytesAsText: true },
    rows: (rows, seed) => [{ name: 'input', datatype: 'BYTES', shape: [rows, 2], data: Array.from({ length: rows * 2 }, (_, i) => text.encode(`é${seed}-${i}`)) }],
  },
  failing,
  corrupt: corruptModelBytes(),
});
