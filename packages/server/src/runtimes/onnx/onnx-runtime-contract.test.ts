// The ONNX runtime passes the runtime contract, with real onnxruntime workers: an exact INT64
// model with two inputs and two outputs, an embedding lookup that fails on out-of-range ids.
import type { Tensor } from '@sibyl/protocol';
import { addSubModel, canSimulateCrash, corruptModelBytes, embeddingModel } from '../../testing/index.ts';
import { runtimeContract } from '../../testing/runtime-contract.ts';
import { OnnxRuntime } from './onnx-runtime.ts';

const int64 = (name: string, rows: number, width: number, value: (i: number) => number): Tensor => ({
  name,
  datatype: 'INT64',
  shape: [rows, width],
  data: BigInt64Array.from({ length: rows * width }, (_, i) => BigInt(value(i))),
});

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
  failing: {
    artifact: embeddingModel({ rows: 10, width: 2, tokens: 2 }).bytes,
    good: (rows, seed) => [int64('ids', rows, 2, (i) => (seed + i) % 10)],
    bad: (rows, seed) => [int64('ids', rows, 2, (i) => (i === 1 ? 42 : (seed + i) % 10))],
  },
  corrupt: corruptModelBytes(),
  crash: (instance) => {
    if (!canSimulateCrash(instance)) throw new Error(`${instance.label} is not an ONNX instance`);
    instance.simulateCrash();
  },
});
